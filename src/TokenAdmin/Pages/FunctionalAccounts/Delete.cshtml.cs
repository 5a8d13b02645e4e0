using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.FunctionalAccounts;

namespace TokenAdmin.Pages.FunctionalAccounts;

public sealed class FunctionalAccountsDeleteModel(FunctionalAccountService accounts) : PageModel
{
    public FunctionalAccount Account { get; private set; } = null!;

    /// <summary>What still uses the account (mail accounts, web services), asked when the page is shown.</summary>
    public IReadOnlyList<string> Blockers { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(int id, CancellationToken cancellationToken)
    {
        if (await accounts.FindAsync(id, cancellationToken) is not { } account)
        {
            return NotFound();
        }

        Account = account;
        Blockers = await accounts.UsesAsync(id, cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(int id, CancellationToken cancellationToken)
    {
        if (await accounts.FindAsync(id, cancellationToken) is not { } account)
        {
            return NotFound();
        }

        Account = account;
        if (await accounts.DeleteAsync(id, AdminAuthentication.Actor(User), cancellationToken) is { } refused)
        {
            // Something started to use it since the page was shown: show what, as the page would have.
            var uses = await accounts.UsesAsync(id, cancellationToken);
            Blockers = uses.Count > 0 ? uses : [refused];
            return Page();
        }

        TempData["Success"] = $"Functional account '{account.Name}' deleted.";
        return RedirectToPage("/FunctionalAccounts/Index");
    }
}
