using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using MimeKit;
using TokenAdmin.Admin;
using TokenAdmin.Mail;
using TokenAdmin.Settings;

namespace TokenAdmin.Pages.MailAccounts;

/// <summary>The SMTP settings (system settings of the group "SMTP sending") and "Send test mail".</summary>
public sealed class MailAccountsSmtpModel(SettingsStore settings, SettingCatalog catalog, MailAccountService accounts) : PageModel
{
    /// <summary>Field values by setting name, posted as Values[NAME]; the password is write-only.</summary>
    public Dictionary<string, string?> Values { get; private set; } = new(StringComparer.OrdinalIgnoreCase);
    public bool HasPassword { get; private set; }
    public IReadOnlyList<(string Value, string Name)> Sources { get; private set; } = [];

    [BindProperty]
    [Display(Name = "To")]
    public string? TestRecipient { get; set; }

    /// <summary>The test mail's address was refused: the summary goes with that form, not with the settings.</summary>
    public bool TestRecipientRejected => ModelState.TryGetValue(nameof(TestRecipient), out var entry) && entry.Errors.Count > 0;

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

            ModelState.AddSettingErrors(result.Errors, catalog);
            return Page();
        }

        TempData["Success"] = result.Changed.Count == 0 ? "Nothing changed." : "SMTP settings saved.";
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostSendTestAsync([FromServices] IMailSender sender, CancellationToken cancellationToken)
    {
        if (!MailboxAddress.TryParse(TestRecipient?.Trim() ?? "", out var to))
        {
            ModelState.AddModelError(nameof(TestRecipient), string.IsNullOrWhiteSpace(TestRecipient)
                ? "To is required: the address the test mail goes to."
                : $"To: '{TestRecipient}' is not a mail address.");
            await LoadAsync(cancellationToken);
            return Page();
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
        foreach (var definition in Definitions)
        {
            // Every field has its entry (the tag helpers read Values[NAME]); the password is never shown.
            Values[definition.Name] = definition.Kind == SettingKind.Secret ? null : current.Get(definition.Name);
        }

        HasPassword = current.IsSet(MailSettings.SmtpPassword);
        Sources = await accounts.TokenSourcesAsync(cancellationToken);
    }
}
