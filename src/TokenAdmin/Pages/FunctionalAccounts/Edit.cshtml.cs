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
        if (id is not null && (Account = await accounts.FindAsync(id.Value, cancellationToken)) is null)
        {
            return NotFound();
        }

        // The service checks every field it got, also when the binder could not read one ("abc" as a number of
        // days): so all mistakes show at once. It saves only when the binder read everything.
        var actor = AdminAuthentication.Actor(User);
        var readable = ModelState.IsValid;
        var result = !readable
            ? await accounts.ValidateAsync(id, Input, cancellationToken)
            : id is null
                ? await accounts.CreateAsync(Input, actor, cancellationToken)
                : await accounts.UpdateAsync(id.Value, Input, actor, cancellationToken);
        if (readable && result.Succeeded)
        {
            TempData["Success"] = $"Functional account '{result.Account!.Name}' saved.";
            return RedirectToPage("/FunctionalAccounts/Index");
        }

        ModelState.AddLabelledErrors(result.Errors, FunctionalAccountInput.FieldOf, MetadataProvider, typeof(FunctionalAccountInput));
        return await ShowAgainAsync(id, cancellationToken);
    }

    /// <summary>"Show the fields" without JavaScript: the form again for the chosen grant, as typed, nothing saved.</summary>
    public async Task<IActionResult> OnPostChooseAsync(int? id, CancellationToken cancellationToken)
    {
        if (id is not null && (Account = await accounts.FindAsync(id.Value, cancellationToken)) is null)
        {
            return NotFound();
        }

        ModelState.ClearErrors();
        return await ShowAgainAsync(id, cancellationToken);
    }

    private async Task<IActionResult> ShowAgainAsync(int? id, CancellationToken cancellationToken)
    {
        Profiles = await profiles.ListAsync(cancellationToken);
        if (id is not null && (Account = await accounts.FindAsync(id.Value, cancellationToken)) is null)
        {
            return NotFound();
        }

        Input.Password = null;
        TokenAdmin.Tokens.ClientCredentialInputs.Forget(Input);
        Input.ServiceAccountKeyFile = null;
        ModelState.ForgetValues("Input.Password", "Input.ClientCertificatePassword");
        return Page();
    }
}
