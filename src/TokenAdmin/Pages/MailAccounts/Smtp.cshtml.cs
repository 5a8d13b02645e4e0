using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using MimeKit;
using TokenAdmin.Admin;
using TokenAdmin.Mail;
using TokenAdmin.Settings;

namespace TokenAdmin.Pages.MailAccounts;

/// <summary>The SMTP settings (system settings of the group "SMTP sending") and "Send test mail".</summary>
public sealed class MailAccountsSmtpModel(SettingsStore settings, MailAccountService accounts) : PageModel
{
    /// <summary>Field values by setting name, posted as Values[NAME]; the password is write-only.</summary>
    public Dictionary<string, string?> Values { get; private set; } = new(StringComparer.OrdinalIgnoreCase);
    public IReadOnlyDictionary<string, string> Errors { get; private set; } = new Dictionary<string, string>();
    public bool HasPassword { get; private set; }
    public IReadOnlyList<(string Value, string Name)> Sources { get; private set; } = [];

    [BindProperty]
    public string? TestRecipient { get; set; }

    public static IEnumerable<SettingDefinition> Definitions => MailSettings.SmtpGroup.Definitions;

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var changes = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var definition in Definitions)
        {
            // Note: a field the form did not send stays as it is (a form of an older version, a script posting some fields).
            if (Request.Form.TryGetValue($"Values[{definition.Name}]", out var posted))
            {
                changes[definition.Name] = posted.ToString();
            }
        }

        var result = await settings.UpdateAsync(changes, AdminAuthentication.Actor(User), cancellationToken);
        if (!result.Succeeded)
        {
            await LoadAsync(cancellationToken);
            foreach (var (name, value) in changes.Where(c => c.Key != MailSettings.SmtpPassword))
            {
                Values[name] = value;
            }

            Errors = result.Errors;
            return Page();
        }

        TempData["Success"] = result.Changed.Count == 0 ? "Nothing changed." : "SMTP settings saved.";
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostSendTestAsync([FromServices] IMailSender sender, CancellationToken cancellationToken)
    {
        if (!MailboxAddress.TryParse(TestRecipient?.Trim() ?? "", out var to))
        {
            TempData["Error"] = "Enter the address the test mail goes to.";
            return RedirectToPage();
        }

        var message = new MimeMessage { Subject = "TokenAdmin test mail" };
        message.To.Add(to);
        message.Body = new TextPart("plain") { Text = $"This test mail was sent by TokenAdmin through the SMTP settings at {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss} UTC." };
        try
        {
            await sender.SendAsync(message, cancellationToken);
            TempData["Success"] = $"Test mail sent to {to.Address}.";
        }
        catch (MailConnectionException ex)
        {
            TempData["Error"] = "Sending failed: " + ex.Message;
        }

        return RedirectToPage();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var current = await settings.GetAsync(cancellationToken);
        foreach (var definition in Definitions.Where(d => d.Kind != SettingKind.Secret))
        {
            Values[definition.Name] = current.Get(definition.Name);
        }

        HasPassword = current.IsSet(MailSettings.SmtpPassword);
        Sources = await accounts.TokenSourcesAsync(cancellationToken);
    }
}
