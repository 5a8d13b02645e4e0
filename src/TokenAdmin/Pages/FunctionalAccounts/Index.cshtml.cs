using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.FunctionalAccounts;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Pages.FunctionalAccounts;

public sealed class FunctionalAccountsIndexModel(FunctionalAccountService accounts, TokenEngine engine) : PageModel
{
    /// <summary>An account has no warning setting of its own: its refresh token shows as expiring this many days ahead.</summary>
    public const int ExpiringSoonDays = 7;

    public IReadOnlyList<FunctionalAccount> Accounts { get; private set; } = [];

    /// <summary>
    /// The one action the list offers for an account in this state, or none: nothing while it is disabled; a person's
    /// sign-in ("Request token", "Request new authorization") for an authorization-code account without a usable refresh
    /// token; otherwise Refresh where a token is held and "Request token" where none is (the other grants start afresh).
    /// </summary>
    public static (string Handler, string Text)? ActionFor(FunctionalAccount account, TokenStatusKind kind)
    {
        if (kind == TokenStatusKind.Disabled)
        {
            return null;
        }

        if (account.GrantType == AccountGrantTypes.AuthorizationCode)
        {
            return kind switch
            {
                TokenStatusKind.RefreshTokenExpired or TokenStatusKind.RefreshTokenRevoked => ("RequestToken", "Request new authorization"),
                _ when account.State?.RefreshTokenProtected is null => ("RequestToken", "Request token"),
                _ => ("Renew", "Refresh"),
            };
        }

        return kind is TokenStatusKind.NotRequested or TokenStatusKind.Failed or TokenStatusKind.RefreshTokenExpired or TokenStatusKind.RefreshTokenRevoked
            ? ("Renew", "Request token")
            : ("Renew", "Refresh");
    }

    public async Task OnGetAsync(CancellationToken cancellationToken) => Accounts = await accounts.ListAsync(cancellationToken);

    /// <summary>Request token (authorization code accounts): the admin's browser goes to the provider to sign in.</summary>
    public async Task<IActionResult> OnPostRequestTokenAsync(int id, [FromServices] AuthorizationFlow flow, CancellationToken cancellationToken)
    {
        var start = await flow.StartAsync(TokenSource.Account(id), HttpContext, cancellationToken);
        if (start.Url is not null)
        {
            return Redirect(start.Url);
        }

        TempData["Error"] = start.Error;
        return RedirectToPage("/FunctionalAccounts/Index");
    }

    /// <summary>Renew: a new token now (refresh_token when one is held, otherwise the account's grant).</summary>
    public async Task<IActionResult> OnPostRenewAsync(int id, CancellationToken cancellationToken)
    {
        var result = await engine.RenewAsync(TokenSource.Account(id), AdminAuthentication.Actor(User), cancellationToken);
        TempData[result.Succeeded ? "Success" : "Error"] = result.Message;
        return RedirectToPage("/FunctionalAccounts/Index");
    }
}
