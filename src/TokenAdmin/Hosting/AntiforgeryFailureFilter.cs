using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Core.Infrastructure;
using Microsoft.AspNetCore.Mvc.Filters;

namespace TokenAdmin.Hosting;

/// <summary>
/// Turns the bare 400 of a failed antiforgery check into the app's error page (with its layout) that says what
/// happened: the status code pages re-execute /error, which reads the marker left here.
/// </summary>
internal sealed class AntiforgeryFailureFilter : IAlwaysRunResultFilter
{
    public const string FailedKey = "tokenadmin:antiforgery-failed";

    public void OnResultExecuting(ResultExecutingContext context)
    {
        if (context.Result is IAntiforgeryValidationFailedResult)
        {
            context.HttpContext.Items[FailedKey] = true;
            context.Result = new StatusCodeResult(StatusCodes.Status400BadRequest);
        }
    }

    public void OnResultExecuted(ResultExecutedContext context)
    {
    }
}
