using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using TokenAdmin.Admin;
using TokenAdmin.Hosting;
using TokenAdmin.Settings;

namespace TokenAdmin.Pages.Account;

[EnableRateLimiting(TokenAdminHostingExtensions.SignInRateLimit)]
public sealed class LoginModel(AdminAccounts accounts, SettingsStore settings) : PageModel
{
    [BindProperty]
    public LoginInput Input { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? Error { get; private set; }
    public string? Message { get; private set; }
    public string? OidcName { get; private set; }
    public bool AnyAdmin { get; private set; } = true;

    public async Task OnGetAsync(string? error, string? signedOut, CancellationToken cancellationToken)
    {
        Error = error switch
        {
            "oidc-not-admin" => "Your account at the identity provider is not allowed to administer TokenAdmin. Ask for the admin role or group.",
            "oidc-failed" => "Sign-in at the identity provider did not complete. Try again; the server log has the reason.",
            _ => null,
        };
        Message = signedOut is null ? null : "You are signed out.";
        await DescribeAsync(cancellationToken);
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var result = await accounts.CheckPasswordAsync(Input.UserName, Input.Password, ClientAddress.Key(HttpContext), cancellationToken);
        if (result.Status == SignInStatus.Succeeded)
        {
            await HttpContext.SignInAsync(AdminAuthentication.CookieScheme, AdminAuthentication.LocalPrincipal(result.User!));
            return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : Url.Content("~/"));
        }

        // Note: one answer for every failure (unknown name, wrong password, a try that must wait), so it names nothing.
        Error = "Wrong user name or password. After several failed tries, each further try has to wait a little longer.";
        Input.Password = "";
        await DescribeAsync(cancellationToken);
        return Page();
    }

    private async Task DescribeAsync(CancellationToken cancellationToken)
    {
        var snapshot = await settings.GetAsync(cancellationToken);
        OidcName = snapshot.GetBool(AdminOidcSettings.Enabled) && OidcUsable(snapshot) ? snapshot.Get(AdminOidcSettings.DisplayName) : null;
        AnyAdmin = await accounts.AnyAsync(cancellationToken);
    }

    /// <summary>The same conditions under which the OIDC options are built (AdminOidcOptionsSetup): no button that can only fail.</summary>
    private static bool OidcUsable(SettingsSnapshot snapshot)
    {
        try
        {
            return snapshot.GetSecret(AdminOidcSettings.ClientSecret) is not null
                && Uri.TryCreate(snapshot.Get(AdminOidcSettings.MetadataAddress), UriKind.Absolute, out var metadata)
                && (metadata.Scheme == "https" || Loopback.IsLoopback(metadata));
        }
        catch (TokenAdmin.Secrets.SecretUnreadableException)
        {
            return false;
        }
    }

    public sealed class LoginInput
    {
        public string? UserName { get; set; }
        public string? Password { get; set; }
    }
}
