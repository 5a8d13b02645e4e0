using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.FunctionalAccounts;

namespace TokenAdmin.Pages.FunctionalAccounts;

public sealed class FunctionalAccountsDeleteModel(FunctionalAccountService accounts) : PageModel
{
    public FunctionalAccount Account { get; private set; } = null!;
    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(int id, CancellationToken cancellationToken)
    {
        if (await accounts.FindAsync(id, cancellationToken) is not { } account)
        {
            return NotFound();
        }

        Account = account;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(int id, CancellationToken cancellationToken)
    {
        if (await accounts.FindAsync(id, cancellationToken) is not { } account)
        {
            return NotFound();
        }

        Account = account;
        Error = await accounts.DeleteAsync(id, AdminAuthentication.Actor(User), cancellationToken);
        if (Error is not null)
        {
            return Page();
        }

        TempData["Success"] = $"Functional account '{account.Name}' deleted.";
        return RedirectToPage("/FunctionalAccounts/Index");
    }
}
