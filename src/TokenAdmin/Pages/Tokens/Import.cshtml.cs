using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc.ViewFeatures;
using TokenAdmin.Admin;
using TokenAdmin.Tokens;

namespace TokenAdmin.Pages.Tokens;

/// <summary>What an import did: every name, per outcome (an import of thousands lists thousands; the page folds each list).</summary>
public sealed record ImportSummary(string File, string Format, IReadOnlyList<string> Added, IReadOnlyList<string> Updated, IReadOnlyList<TokenImportSkip> Skipped);

[RequestSizeLimit(TokenConfigTransfer.MaxRequestBytes)]
[RequestFormLimits(MultipartBodyLengthLimit = TokenConfigTransfer.MaxRequestBytes)]
[UploadTooLarge]
public sealed class TokensImportModel : PageModel
{
    [BindProperty]
    [System.ComponentModel.DataAnnotations.Display(Name = "Export file (YAML, at most 1 MiB)")]
    public IFormFile? Upload { get; set; }

    [BindProperty]
    [System.ComponentModel.DataAnnotations.Display(Name = "Overwrite settings of the same name")]
    public bool Overwrite { get; set; }

    public ImportSummary? Summary { get; private set; }
    public IReadOnlyList<TokenImportError> Errors { get; private set; } = [];

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (Upload is null || Upload.Length == 0)
        {
            ModelState.AddModelError(nameof(Upload), "Export file is required: choose the export file to import.");
            return Page();
        }

        if (Upload.Length > TokenConfigTransfer.MaxFileBytes)
        {
            ModelState.AddModelError(nameof(Upload), "Export file: " + TokenConfigTransfer.TooLargeMessage);
            return Page();
        }

        TokenImportResult result;
        await using (var stream = Upload.OpenReadStream())
        {
            result = await TokenConfigTransfer.Create(HttpContext.RequestServices)
                .ImportAsync(stream, Overwrite, AdminAuthentication.Actor(User), Upload.FileName, cancellationToken);
        }

        if (!result.Succeeded)
        {
            Errors = result.Errors;
            return Page();
        }

        // Note: the answer to the post shows the summary itself rather than redirecting: the full lists of a large
        // import (thousands of names) do not fit the TempData cookie a redirect would carry them in. Posting the same
        // file again adds nothing twice (existing names are skipped, or updated to the same values).
        Summary = new ImportSummary(Path.GetFileName(Upload.FileName), result.Format, result.Added, result.Updated, result.Skipped);
        return Page();
    }

    /// <summary>
    /// Refuses an upload larger than the limit by its Content-Length, before the antiforgery check reads the body
    /// (it would fail and report an expired form instead).
    /// </summary>
    [AttributeUsage(AttributeTargets.Class)]
    private sealed class UploadTooLargeAttribute : Attribute, IAsyncAuthorizationFilter, IOrderedFilter
    {
        /// <summary>How much of a too-large upload is read and thrown away so the browser gets the answer.</summary>
        private const long MaxDrainedBytes = 256L * 1024 * 1024;

        // Before [RequestSizeLimit] (900) and the antiforgery check (1000), which both come to the body.
        public int Order => 800;

        public async Task OnAuthorizationAsync(AuthorizationFilterContext context)
        {
            var http = context.HttpContext;
            var request = http.Request;
            if (!HttpMethods.IsPost(request.Method) || request.ContentLength is not > TokenConfigTransfer.MaxRequestBytes)
            {
                return;
            }

            // Note: a browser reads the answer only after it has sent the whole body. Answered early, the server
            // closes the connection on the unread rest, and the admin sees "connection reset" instead of this
            // message. So the body is read to the end (into nothing), up to a bound, and then answered.
            if (request.ContentLength <= MaxDrainedBytes && http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            {
                size.MaxRequestBodySize = MaxDrainedBytes;
                await request.Body.CopyToAsync(Stream.Null, http.RequestAborted);
            }

            var tempData = http.RequestServices.GetRequiredService<ITempDataDictionaryFactory>().GetTempData(http);
            tempData["Error"] = TokenConfigTransfer.TooLargeMessage;
            tempData.Save();
            context.Result = new RedirectToPageResult("/Tokens/Import");
        }
    }
}
