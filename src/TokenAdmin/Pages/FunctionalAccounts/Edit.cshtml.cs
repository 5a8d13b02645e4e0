using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.FunctionalAccounts;
using TokenAdmin.Oidc;

namespace TokenAdmin.Pages.FunctionalAccounts;

public sealed class FunctionalAccountsEditModel(FunctionalAccountService accounts, OidcProfileService profiles, TokenAdmin.Settings.SettingsStore settings) : PageModel
{
    [BindProperty]
    public FunctionalAccountInput Input { get; set; } = new();

    public FunctionalAccount? Account { get; private set; }
    public IReadOnlyList<OidcProfile> Profiles { get; private set; } = [];
    public Dictionary<string, string> Errors { get; private set; } = [];
    public bool HasPassword => Account?.PasswordProtected is not null;

    /// <summary>The Microsoft Entra admin consent link of an authorization-code account whose profile is at Entra.</summary>
    public string? AdminConsentLink { get; private set; }

    public async Task<IActionResult> OnGetAsync(int? id, CancellationToken cancellationToken)
    {
        Profiles = await profiles.ListAsync(cancellationToken);
        if (id is null)
        {
            Input.OidcProfileId = Profiles.Count == 1 ? Profiles[0].Id : null;
            return Page();
        }

        Account = await accounts.FindAsync(id.Value, cancellationToken);
        if (Account is null)
        {
            return NotFound();
        }

        Input = FunctionalAccountInput.From(Account);
        if (Account is { GrantType: AccountGrantTypes.AuthorizationCode, Profile: { } profile })
        {
            AdminConsentLink = TokenAdmin.Tokens.AdminConsent.FromDiscovery(profile.DiscoveryUrl, profile.ClientId, Account.Scope, (await settings.GetAsync(cancellationToken)).RedirectUri);
        }

        return Page();
    }

    public async Task<IActionResult> OnPostAsync(int? id, CancellationToken cancellationToken)
    {
        var actor = AdminAuthentication.Actor(User);
        var result = id is null
            ? await accounts.CreateAsync(Input, actor, cancellationToken)
            : await accounts.UpdateAsync(id.Value, Input, actor, cancellationToken);
        if (result.Succeeded)
        {
            TempData["Success"] = $"Functional account '{result.Account!.Name}' saved.";
            return RedirectToPage("/FunctionalAccounts/Index");
        }

        Errors = result.Errors;
        Profiles = await profiles.ListAsync(cancellationToken);
        if (id is not null && (Account = await accounts.FindAsync(id.Value, cancellationToken)) is null)
        {
            return NotFound();
        }

        Input.Password = null;
        TokenAdmin.Tokens.ClientCredentialInputs.Forget(Input);
        Input.ServiceAccountKeyFile = null;
        return Page();
    }
}
