using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.WebServices;

namespace TokenAdmin.Pages.WebServices;

public sealed class WebServicesAddModel(WebServiceService service) : PageModel
{
    [BindProperty]
    public WebServiceInput Input { get; set; } = new();

    public Dictionary<string, string> Errors { get; } = [];
    public IReadOnlyList<(string Value, string Name)> Sources { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) => Sources = await service.TokenSourcesAsync(cancellationToken);

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        WebServiceFormBinding.AddBindingErrors(ModelState, Errors);
        if (Errors.Count == 0)
        {
            var result = await service.CreateAsync(Input, AdminAuthentication.Actor(User), cancellationToken);
            if (result.Succeeded)
            {
                TempData["Success"] = $"Web service {result.Name} was added. Add its invokers.";
                return RedirectToPage("/WebServices/Edit", new { id = result.Id });
            }

            foreach (var (field, message) in result.Errors)
            {
                Errors.TryAdd(field, message);
            }
        }

        Input.BasicPassword = null;
        Input.SecretHeaders = MaskSecretValues(Input.SecretHeaders);
        Sources = await service.TokenSourcesAsync(cancellationToken);
        return Page();
    }

    /// <summary>A form shown again never carries a secret value back: the admin enters it again.</summary>
    internal static string? MaskSecretValues(string? secretHeaders) =>
        secretHeaders is null ? null : string.Join("\n", secretHeaders.Split('\n').Select(l => l.Trim()).Where(l => l.Contains(':', StringComparison.Ordinal))
            .Select(l =>
            {
                var colon = l.IndexOf(':', StringComparison.Ordinal);
                return l[..colon].Trim() + ": " + (l[(colon + 1)..].Trim() == WebServiceInput.SecretMask ? WebServiceInput.SecretMask : "");
            }));
}
