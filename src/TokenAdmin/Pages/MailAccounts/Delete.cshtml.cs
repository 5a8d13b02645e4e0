using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.Mail;

namespace TokenAdmin.Pages.MailAccounts;

public sealed class MailAccountsDeleteModel(MailAccountService service) : PageModel
{
    public MailAccount Account { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(int id, CancellationToken cancellationToken)
    {
        if (await service.FindAsync(id, cancellationToken) is not { } account)
        {
            return NotFound();
        }

        Account = account;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(int id, CancellationToken cancellationToken)
    {
        var (deleted, message) = await service.DeleteAsync(id, AdminAuthentication.Actor(User), cancellationToken);
        TempData[deleted ? "Success" : "Error"] = message;
        return RedirectToPage("/MailAccounts/Index");
    }
}
