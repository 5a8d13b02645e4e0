using System.Globalization;
using TokenAdmin.Settings;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Mail;

public enum SmtpAuthentication { None, Password, OAuth2 }

/// <summary>The SMTP settings as one value, read from the system settings.</summary>
public sealed record SmtpSettings(
    string Host, int Port, string Security, SmtpAuthentication Authentication, string UserName, TokenSource? TokenSource, string Mechanism, string From)
{
    /// <summary>True: mail goes through Microsoft Graph sendMail instead of an SMTP server.</summary>
    public bool UsesGraph { get; init; }
    public string GraphMailbox { get; init; } = "";
    public GraphCloud GraphCloud { get; init; } = GraphCloud.Global;
    public string GraphEndpoint { get; init; } = "";

    public bool IsConfigured => UsesGraph ? TokenSource is not null : Host.Length > 0;

    public static SmtpSettings Read(SettingsSnapshot settings) => new(
        settings.Get(MailSettings.SmtpHost),
        int.Parse(settings.Get(MailSettings.SmtpPort), CultureInfo.InvariantCulture),
        settings.Get(MailSettings.SmtpSecurity),
        settings.Get(MailSettings.SmtpAuthentication) switch { "password" => SmtpAuthentication.Password, "oauth2" => SmtpAuthentication.OAuth2, _ => SmtpAuthentication.None },
        settings.Get(MailSettings.SmtpUserName),
        Tokens.TokenSource.Parse(settings.Get(MailSettings.SmtpTokenSource)),
        settings.Get(MailSettings.SmtpMechanism),
        settings.Get(MailSettings.SmtpFrom))
    {
        UsesGraph = settings.Get(MailSettings.SmtpTransport) == "graph",
        GraphMailbox = settings.Get(MailSettings.SmtpGraphMailbox),
        GraphCloud = Enum.TryParse<GraphCloud>(settings.Get(MailSettings.SmtpGraphCloud), out var cloud) ? cloud : GraphCloud.Global,
        GraphEndpoint = settings.Get(MailSettings.SmtpGraphEndpoint),
    };

    /// <summary>Rules across the SMTP settings, checked with the values they will have after a change.</summary>
    internal static void CheckCombination(Func<string, string> after, Func<string, bool> secretAfter, IDictionary<string, string> errors)
    {
        if (after(MailSettings.SmtpTransport) == "graph")
        {
            if (after(MailSettings.SmtpTokenSource).Length == 0)
            {
                errors.TryAdd(MailSettings.SmtpTokenSource, "The graph transport needs the token source that gives a token for Microsoft Graph (with Mail.Send).");
            }

            if (after(MailSettings.SmtpGraphCloud) == "Custom" && after(MailSettings.SmtpGraphEndpoint).Length == 0)
            {
                errors.TryAdd(MailSettings.SmtpGraphEndpoint, "The Custom deployment needs the endpoint.");
            }

            if (after(MailSettings.SmtpFrom).Length == 0)
            {
                errors.TryAdd(MailSettings.SmtpFrom, "Enter the From address of the mail TokenAdmin sends.");
            }

            return;
        }

        if (after(MailSettings.SmtpHost).Length == 0)
        {
            return;
        }

        var authentication = after(MailSettings.SmtpAuthentication);
        if (authentication != "none" && after(MailSettings.SmtpUserName).Length == 0)
        {
            errors.TryAdd(MailSettings.SmtpUserName, "Password and OAuth2 authentication need the user name.");
        }

        if (authentication == "password" && !secretAfter(MailSettings.SmtpPassword))
        {
            errors.TryAdd(MailSettings.SmtpPassword, "Password authentication needs the password.");
        }

        if (authentication == "oauth2" && after(MailSettings.SmtpTokenSource).Length == 0)
        {
            errors.TryAdd(MailSettings.SmtpTokenSource, "OAuth2 authentication needs the token config that gives the token.");
        }

        if (after(MailSettings.SmtpFrom).Length == 0)
        {
            errors.TryAdd(MailSettings.SmtpFrom, "Enter the From address of the mail TokenAdmin sends.");
        }
    }
}
