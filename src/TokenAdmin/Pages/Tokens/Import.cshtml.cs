using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc.ViewFeatures;
using TokenAdmin.Admin;
using TokenAdmin.Tokens;

namespace TokenAdmin.Pages.Tokens;

/// <summary>What an import did, carried over the redirect. Long lists are cut; the audit log has them whole.</summary>
public sealed record ImportSummary(string File, string Format, List<string> Added, List<string> Updated, List<TokenImportSkip> Skipped, int Left);

[RequestSizeLimit(TokenConfigTransfer.MaxRequestBytes)]
[RequestFormLimits(MultipartBodyLengthLimit = TokenConfigTransfer.MaxRequestBytes)]
[UploadTooLarge]
public sealed class TokensImportModel : PageModel
{
    private const int ListedNames = 100;

    [BindProperty]
    public IFormFile? Upload { get; set; }

    [BindProperty]
    public bool Overwrite { get; set; }

    [TempData]
    public string? Done { get; set; }

    public ImportSummary? Summary { get; private set; }
    public string? UploadError { get; private set; }
    public IReadOnlyList<TokenImportError> Errors { get; private set; } = [];

    public void OnGet() => Summary = Done is null ? null : JsonSerializer.Deserialize<ImportSummary>(Done);

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (Upload is null || Upload.Length == 0)
        {
            UploadError = "Choose the export file to import.";
            return Page();
        }

        if (Upload.Length > TokenConfigTransfer.MaxFileBytes)
        {
            UploadError = TokenConfigTransfer.TooLargeMessage;
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

        var left = Math.Max(0, result.Added.Count + result.Updated.Count + result.Skipped.Count - 3 * ListedNames);
        Done = JsonSerializer.Serialize(new ImportSummary(Path.GetFileName(Upload.FileName), result.Format,
            [.. result.Added.Take(ListedNames)], [.. result.Updated.Take(ListedNames)], [.. result.Skipped.Take(ListedNames)], left));
        return RedirectToPage();
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
