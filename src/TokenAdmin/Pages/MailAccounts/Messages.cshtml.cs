using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;
using TokenAdmin.Mail;

namespace TokenAdmin.Pages.MailAccounts;

public sealed class MailAccountsMessagesModel(TokenAdminDb db) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public MailAccount Account { get; private set; } = null!;
    public IReadOnlyList<FetchedMessage> Messages { get; private set; } = [];
    public int Total { get; private set; }
    public int Pages { get; private set; }

    public async Task<IActionResult> OnGetAsync(int id, CancellationToken cancellationToken)
    {
        if (await db.MailAccounts.AsNoTracking().SingleOrDefaultAsync(a => a.Id == id, cancellationToken) is not { } account)
        {
            return NotFound();
        }

        Account = account;
        var query = db.FetchedMessages.AsNoTracking().Where(m => m.MailAccountId == id);
        Total = await query.CountAsync(cancellationToken);
        Pages = Math.Max(1, (Total + PageSize - 1) / PageSize);
        PageNumber = Math.Clamp(PageNumber, 1, Pages);
        Messages = await query.OrderByDescending(m => m.Id).Skip((PageNumber - 1) * PageSize).Take(PageSize).ToListAsync(cancellationToken);
        return Page();
    }
}
