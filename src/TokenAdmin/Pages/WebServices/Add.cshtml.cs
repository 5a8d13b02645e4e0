using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.WebServices;

namespace TokenAdmin.Pages.WebServices;

public sealed class WebServicesAddModel(WebServiceService service) : PageModel
{
    [BindProperty]
    public WebServiceInput Input { get; set; } = new();

    public IReadOnlyList<(string Value, string Name)> Sources { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) => Sources = await service.TokenSourcesAsync(cancellationToken);

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (ModelState.IsValid)
        {
            var result = await service.CreateAsync(Input, AdminAuthentication.Actor(User), cancellationToken);
            if (result.Succeeded)
            {
                TempData["Success"] = $"Web service {result.Name} was added. Add its invokers.";
                return RedirectToPage("/WebServices/Edit", new { id = result.Id });
            }

            ModelState.AddFieldErrors(result.Errors);
        }
        else
        {
            // The fields the binder could read are checked too, so every mistake shows at once.
            ModelState.AddFieldErrors((await service.ValidateAsync(Input, null, cancellationToken)).Errors);
        }

        KeepSecretsOut(ModelState, Input);
        Sources = await service.TokenSourcesAsync(cancellationToken);
        return Page();
    }

    /// <summary>A form shown again never carries a secret value back (the tag helpers would show what was typed).</summary>
    internal static void KeepSecretsOut(Microsoft.AspNetCore.Mvc.ModelBinding.ModelStateDictionary modelState, WebServiceInput input)
    {
        input.BasicPassword = null;
        input.SecretHeaders = MaskSecretValues(input.SecretHeaders);
        modelState.SetModelValue("Input.BasicPassword", null, null);
        modelState.SetModelValue("Input.SecretHeaders", input.SecretHeaders, input.SecretHeaders);
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
