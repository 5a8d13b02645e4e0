using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Core.Infrastructure;
using Microsoft.AspNetCore.Mvc.Filters;

namespace TokenAdmin.Hosting;

/// <summary>Turns the bare 400 of a failed antiforgery check into a page that says what happened.</summary>
internal sealed class AntiforgeryFailureFilter : IAlwaysRunResultFilter
{
    public void OnResultExecuting(ResultExecutingContext context)
    {
        if (context.Result is IAntiforgeryValidationFailedResult)
        {
            context.Result = new ContentResult
            {
                StatusCode = StatusCodes.Status400BadRequest,
                ContentType = "text/html; charset=utf-8",
                Content = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Form expired - TokenAdmin</title></head>" +
                    "<body><h1>The form could not be accepted</h1><p>It expired or was not sent from a TokenAdmin page, so nothing was changed. " +
                    "Go back, reload the page and submit it again.</p></body></html>",
            };
        }
    }

    public void OnResultExecuted(ResultExecutedContext context)
    {
    }
}
