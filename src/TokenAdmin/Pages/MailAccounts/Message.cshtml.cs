using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using MimeKit;
using TokenAdmin.Data;
using TokenAdmin.Mail;

namespace TokenAdmin.Pages.MailAccounts;

public sealed class MailAccountsMessageModel(TokenAdminDb db, MailSpool spool) : PageModel
{
    public FetchedMessage Message { get; private set; } = null!;
    public IReadOnlyList<(string Name, string Value)> Headers { get; private set; } = [];
    public string? Text { get; private set; }
    public string? Problem { get; private set; }

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken cancellationToken)
    {
        if (await db.FetchedMessages.AsNoTracking().SingleOrDefaultAsync(m => m.Id == id, cancellationToken) is not { } message)
        {
            return NotFound();
        }

        Message = message;
        try
        {
            await using var file = spool.Open(message.SpoolPath);
            var mime = await MimeMessage.LoadAsync(file, cancellationToken);
            Headers = mime.Headers.Select(h => (h.Field, h.Value)).ToList();
            // Note: only the text part is shown; an HTML-only message is shown as its source, never rendered.
            Text = mime.TextBody ?? mime.HtmlBody;
        }
        catch (FileNotFoundException)
        {
            Problem = "The stored file of this message is missing from the spool directory.";
        }
        catch (FormatException ex)
        {
            Problem = "The message cannot be read as MIME: " + ex.Message;
        }

        return Page();
    }
}
