using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;
using TokenAdmin.Settings;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Mail;

/// <summary>Mail accounts and the SMTP settings that take their token from a config or a functional account keep it from being deleted.</summary>
internal sealed class MailTokenSourceUsage(TokenAdminDb db, SettingsStore settings) : ITokenSourceUsage
{
    public async Task<IReadOnlyList<string>> FindUsesAsync(TokenSource source, CancellationToken cancellationToken)
    {
        var uses = await db.MailAccounts.AsNoTracking()
            .Where(a => a.Authentication == MailAuthentication.OAuth2 && a.TokenSourceKind == source.Kind && a.TokenSourceId == source.Id)
            .OrderBy(a => a.Login)
            .Select(a => "mail account " + a.Login + " at " + a.Host)
            .ToListAsync(cancellationToken);
        var smtp = SmtpSettings.Read(await settings.GetAsync(cancellationToken));
        if ((smtp.Authentication == SmtpAuthentication.OAuth2 || smtp.UsesGraph) && smtp.TokenSource == source)
        {
            uses.Add("the SMTP settings");
        }

        return uses;
    }
}
