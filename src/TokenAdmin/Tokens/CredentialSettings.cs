using System.Globalization;
using TokenAdmin.Settings;

namespace TokenAdmin.Tokens;

/// <summary>From when expiring client secrets and certificates are warned about (banners, the credential-expiring alert).</summary>
public static class CredentialSettings
{
    public const string WarningDays = "Credentials.ExpiryWarningDays";
    public const string GroupName = "Client secrets and certificates";

    public static SettingGroup Group { get; } = new(GroupName,
    [
        new(WarningDays, GroupName, "Warn before expiry (days)",
            "Client secrets (with an expiry date entered) and client certificates of token configs, functional accounts and OIDC profiles " +
            "are shown in banners and raise the alert \"client secret or certificate will expire\" from this many days before they expire (1 to 365).",
            "30", Validate: v => SettingValues.CheckNumber(v, 1, 365, "Warn before expiry")),
    ]);

    /// <summary>The days before a client secret or certificate expires from which it is warned about.</summary>
    public static int Warning(SettingsSnapshot settings) =>
        int.TryParse(settings.Get(WarningDays), NumberStyles.None, CultureInfo.InvariantCulture, out var days) ? days : 30;
}
