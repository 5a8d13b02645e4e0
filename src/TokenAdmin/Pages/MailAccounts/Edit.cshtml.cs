using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.Mail;

namespace TokenAdmin.Pages.MailAccounts;

public sealed class MailAccountsEditModel(MailAccountService service) : PageModel
{
    [BindProperty]
    public MailAccountInput Input { get; set; } = new();

    [BindProperty]
    public string Version { get; set; } = "";

    public MailAccount Account { get; private set; } = null!;
    public IReadOnlyList<(string Value, string Name)> Sources { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(int id, CancellationToken cancellationToken)
    {
        if (await service.FindAsync(id, cancellationToken) is not { } account)
        {
            return NotFound();
        }

        Account = account;
        Input = MailAccountInput.From(account);
        Version = account.Version;
        Sources = await service.TokenSourcesAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(int id, CancellationToken cancellationToken)
    {
        if (await service.FindAsync(id, cancellationToken) is not { } account)
        {
            return NotFound();
        }

        Account = account;
        if (ModelState.IsValid)
        {
            var result = await service.UpdateAsync(id, Version, Input, AdminAuthentication.Actor(User), cancellationToken);
            if (result.Succeeded)
            {
                TempData["Success"] = $"Mail account {result.Account!.DisplayName} was saved.";
                return RedirectToPage(new { id });
            }

            ModelState.AddFieldErrors(result.Errors);
        }
        else
        {
            // The fields the binder could read are checked too, so every mistake shows at once.
            ModelState.AddFieldErrors(await service.ValidateAsync(Input, account.PasswordProtected is not null, cancellationToken));
        }

        MailAccountsAddModel.KeepPasswordOut(ModelState, Input);
        Sources = await service.TokenSourcesAsync(cancellationToken);
        return Page();
    }

    /// <summary>Connects with the saved settings, logs in and counts the messages; on failure shows the server's own words.</summary>
    public async Task<IActionResult> OnPostTestAsync(int id, [FromServices] MailConnector connector, [FromServices] GraphMailClient graph, CancellationToken cancellationToken)
    {
        if (await service.FindAsync(id, cancellationToken) is not { } account)
        {
            return NotFound();
        }

        if (account.IsGraph)
        {
            try
            {
                TempData["Success"] = await graph.TestAsync(account, cancellationToken);
            }
            catch (GraphMailException ex)
            {
                TempData["Error"] = "Test connection failed: " + ex.Message;
            }

            return RedirectToPage(new { id });
        }

        try
        {
            var count = await connector.TestAsync(account, cancellationToken);
            TempData["Success"] = $"Connected to {account.Host} and logged in as {account.Login}: {count} message(s) in {(account.IsImap ? account.ImapFolder : "the mailbox")}.";
        }
        catch (MailConnectionException ex)
        {
            TempData["Error"] = "Test connection failed: " + ex.Message;
        }

        return RedirectToPage(new { id });
    }

    public async Task<IActionResult> OnPostFetchAsync(int id, [FromServices] MailFetcher fetcher, CancellationToken cancellationToken)
    {
        var result = await fetcher.FetchAsync(id, cancellationToken);
        TempData[result.Ran && result.Errors.Count == 0 ? "Success" : "Error"] = result.Summary;
        return RedirectToPage(new { id });
    }
}
