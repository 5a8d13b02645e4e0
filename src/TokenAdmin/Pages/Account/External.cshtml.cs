using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.Settings;

namespace TokenAdmin.Pages.Account;

/// <summary>Starts the OIDC sign-in: the browser goes to the provider (code flow with PKCE).</summary>
public sealed class ExternalModel(SettingsStore settings) : PageModel
{
    public async Task<IActionResult> OnGetAsync(string? returnUrl, CancellationToken cancellationToken)
    {
        var snapshot = await settings.GetAsync(cancellationToken);
        if (!snapshot.GetBool(AdminOidcSettings.Enabled))
        {
            return NotFound();
        }

        var target = Url.IsLocalUrl(returnUrl) ? returnUrl : Url.Content("~/");
        return Challenge(new AuthenticationProperties { RedirectUri = target }, AdminAuthentication.OidcScheme);
    }
}
