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
        settings.Get(SettingNames.SmtpHost),
        int.Parse(settings.Get(SettingNames.SmtpPort), CultureInfo.InvariantCulture),
        settings.Get(SettingNames.SmtpSecurity),
        settings.Get(SettingNames.SmtpAuthentication) switch { "password" => SmtpAuthentication.Password, "oauth2" => SmtpAuthentication.OAuth2, _ => SmtpAuthentication.None },
        settings.Get(SettingNames.SmtpUserName),
        Tokens.TokenSource.Parse(settings.Get(SettingNames.SmtpTokenSource)),
        settings.Get(SettingNames.SmtpMechanism),
        settings.Get(SettingNames.SmtpFrom))
    {
        UsesGraph = settings.Get(SettingNames.SmtpTransport) == "graph",
        GraphMailbox = settings.Get(SettingNames.SmtpGraphMailbox),
        GraphCloud = Enum.TryParse<GraphCloud>(settings.Get(SettingNames.SmtpGraphCloud), out var cloud) ? cloud : GraphCloud.Global,
        GraphEndpoint = settings.Get(SettingNames.SmtpGraphEndpoint),
    };

    /// <summary>Rules across the SMTP settings, checked with the values they will have after a change.</summary>
    internal static void CheckCombination(Func<string, string> after, Func<string, bool> secretAfter, Dictionary<string, string> errors)
    {
        if (after(SettingNames.SmtpTransport) == "graph")
        {
            if (after(SettingNames.SmtpTokenSource).Length == 0)
            {
                errors.TryAdd(SettingNames.SmtpTokenSource, "The graph transport needs the token source that gives a token for Microsoft Graph (with Mail.Send).");
            }

            if (after(SettingNames.SmtpGraphCloud) == "Custom" && after(SettingNames.SmtpGraphEndpoint).Length == 0)
            {
                errors.TryAdd(SettingNames.SmtpGraphEndpoint, "The Custom deployment needs the endpoint.");
            }

            if (after(SettingNames.SmtpFrom).Length == 0)
            {
                errors.TryAdd(SettingNames.SmtpFrom, "Enter the From address of the mail TokenAdmin sends.");
            }

            return;
        }

        if (after(SettingNames.SmtpHost).Length == 0)
        {
            return;
        }

        var authentication = after(SettingNames.SmtpAuthentication);
        if (authentication != "none" && after(SettingNames.SmtpUserName).Length == 0)
        {
            errors.TryAdd(SettingNames.SmtpUserName, "Password and OAuth2 authentication need the user name.");
        }

        if (authentication == "password" && !secretAfter(SettingNames.SmtpPassword))
        {
            errors.TryAdd(SettingNames.SmtpPassword, "Password authentication needs the password.");
        }

        if (authentication == "oauth2" && after(SettingNames.SmtpTokenSource).Length == 0)
        {
            errors.TryAdd(SettingNames.SmtpTokenSource, "OAuth2 authentication needs the token config that gives the token.");
        }

        if (after(SettingNames.SmtpFrom).Length == 0)
        {
            errors.TryAdd(SettingNames.SmtpFrom, "Enter the From address of the mail TokenAdmin sends.");
        }
    }
}
