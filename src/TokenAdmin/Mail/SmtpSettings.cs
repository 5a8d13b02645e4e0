using System.Globalization;
using TokenAdmin.Settings;
using TokenAdmin.TokenProvider;

namespace TokenAdmin.Mail;

public enum SmtpAuthentication { None, Password, OAuth2 }

/// <summary>The SMTP settings as one value, read from the system settings.</summary>
public sealed record SmtpSettings(
    string Host, int Port, string Security, SmtpAuthentication Authentication, string UserName, TokenSource? TokenSource, string Mechanism, string From)
{
    public bool IsConfigured => Host.Length > 0;

    public static SmtpSettings Read(SettingsSnapshot settings) => new(
        settings.Get(SettingNames.SmtpHost),
        int.Parse(settings.Get(SettingNames.SmtpPort), CultureInfo.InvariantCulture),
        settings.Get(SettingNames.SmtpSecurity),
        settings.Get(SettingNames.SmtpAuthentication) switch { "password" => SmtpAuthentication.Password, "oauth2" => SmtpAuthentication.OAuth2, _ => SmtpAuthentication.None },
        settings.Get(SettingNames.SmtpUserName),
        ParseSource(settings.Get(SettingNames.SmtpTokenSource)),
        settings.Get(SettingNames.SmtpMechanism),
        settings.Get(SettingNames.SmtpFrom));

    /// <summary>"TokenConfig:12" → the source; anything else → null.</summary>
    public static TokenSource? ParseSource(string value)
    {
        var parts = value.Split(':');
        return parts.Length == 2
            && Enum.TryParse<TokenSourceKind>(parts[0], ignoreCase: false, out var kind) && Enum.IsDefined(kind)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0
            ? new TokenSource(kind, id)
            : null;
    }

    public static string FormatSource(TokenSource source) => $"{source.Kind}:{source.Id.ToString(CultureInfo.InvariantCulture)}";
}
