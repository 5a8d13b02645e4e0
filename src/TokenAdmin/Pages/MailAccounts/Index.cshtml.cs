using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;
using TokenAdmin.Mail;

namespace TokenAdmin.Pages.MailAccounts;

public sealed class MailAccountsIndexModel(TokenAdminDb db) : PageModel
{
    public sealed record Row(int Id, string Login, string Host, MailAccountType Type, MailAuthentication Authentication, bool Valid,
        DateTime? LastFetchAt, int? LastFetchCount, string? LastError, int Stored);

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        Rows = await db.MailAccounts.AsNoTracking().OrderBy(a => a.Login).ThenBy(a => a.Host)
            .Select(a => new Row(a.Id, a.Login, a.Host, a.Type, a.Authentication, a.Valid, a.LastFetchAt, a.LastFetchCount, a.LastError,
                db.FetchedMessages.Count(m => m.MailAccountId == a.Id)))
            .ToListAsync(cancellationToken);

    public async Task<IActionResult> OnPostFetchAsync(int id, [FromServices] MailFetcher fetcher, CancellationToken cancellationToken)
    {
        var result = await fetcher.FetchAsync(id, cancellationToken);
        TempData[result.Ran && result.Errors.Count == 0 ? "Success" : "Error"] = result.Summary;
        return RedirectToPage();
    }
}
