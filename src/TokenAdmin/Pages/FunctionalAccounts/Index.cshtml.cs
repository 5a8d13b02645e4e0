using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.FunctionalAccounts;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Pages.FunctionalAccounts;

public sealed class FunctionalAccountsIndexModel(FunctionalAccountService accounts, TokenEngine engine) : PageModel
{
    public IReadOnlyList<FunctionalAccount> Accounts { get; private set; } = [];

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
