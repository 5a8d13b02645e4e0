using System.Diagnostics;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace TokenAdmin.Pages;

/// <summary>Every error and status page. Shows what happened in words and a reference, never a stack trace.</summary>
[IgnoreAntiforgeryToken]
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed partial class ErrorModel(ILogger<ErrorModel> logger) : PageModel
{
    public string Title { get; private set; } = "Something went wrong";
    public string Message { get; private set; } = "";
    public string? RequestId { get; private set; }

    public void OnGet(int? code) => Describe(code);

    public void OnPost(int? code) => Describe(code);

    [LoggerMessage(Level = LogLevel.Error, Message = "Request {Reference} to {Path} failed; the user saw the error page with this reference.")]
    private static partial void LogFailure(ILogger logger, string reference, string path, Exception exception);

    private void Describe(int? code)
    {
        (Title, Message) = code switch
        {
            404 => ("Page not found", "There is no page at this address."),
            405 => ("Not allowed", "This address does not accept that kind of request."),
            429 => ("Too many attempts", "Wait a minute, then try again."),
            400 when HttpContext.Items.ContainsKey(Hosting.AntiforgeryFailureFilter.FailedKey) => ("The form could not be accepted",
                "It expired or was not sent from a TokenAdmin page, so nothing was changed. Go back, reload the page and submit it again."),
            400 => ("Bad request", "The request could not be understood."),
            null or 500 => ("Something went wrong", "TokenAdmin could not finish this request. Nothing is shown here on purpose; the details are in the server log."),
            _ => ($"Error {code}", "The request could not be completed."),
        };
        RequestId = code is null or 500 ? Activity.Current?.Id ?? HttpContext.TraceIdentifier : null;
        if (RequestId is not null && HttpContext.Features.Get<IExceptionHandlerPathFeature>() is { } failure)
        {
            // The reference on the page is worthless unless the log line with the exception carries it too.
            LogFailure(logger, RequestId, failure.Path, failure.Error);
        }
        if (code is not null && code != 500)
        {
            Response.StatusCode = code.Value;
        }
    }
}
