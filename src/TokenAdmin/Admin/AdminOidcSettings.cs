using System.Text.RegularExpressions;
using TokenAdmin.Settings;

namespace TokenAdmin.Admin;

/// <summary>Admin sign-in with OpenID Connect: the provider, the client and the claim that makes a user an admin.</summary>
public static partial class AdminOidcSettings
{
    public const string Enabled = "AdminOidc.Enabled";
    public const string DisplayName = "AdminOidc.DisplayName";
    public const string MetadataAddress = "AdminOidc.MetadataAddress";
    public const string ClientId = "AdminOidc.ClientId";
    public const string ClientSecret = "AdminOidc.ClientSecret";
    public const string Scopes = "AdminOidc.Scopes";
    public const string AdminClaim = "AdminOidc.AdminClaim";
    public const string AdminValues = "AdminOidc.AdminValues";
    public const string GroupName = "Admin sign-in with OpenID Connect";

    public static SettingGroup Group { get; } = new(GroupName,
    [
        new(Enabled, GroupName, "Enabled", "Offers \"Sign in with …\" on the login page.", "false", SettingKind.Boolean),
        new(DisplayName, GroupName, "Display name", "Shown on the login button: Sign in with <name>.", "OpenID Connect",
            Validate: v => v.Length is 0 or > 60 ? "Display name must be 1 to 60 characters." : null),
        new(MetadataAddress, GroupName, "Metadata address", "The provider's discovery document, ending in /.well-known/openid-configuration.", "",
            Validate: CheckMetadataAddress),
        new(ClientId, GroupName, "Client ID", "The client (application) ID registered at the provider.", "",
            Validate: v => v.Any(char.IsWhiteSpace) ? "Client ID must not contain spaces." : null),
        new(ClientSecret, GroupName, "Client secret", "Stored encrypted. Leave empty to keep the stored secret.", "", SettingKind.Secret),
        new(Scopes, GroupName, "Scopes", "Space-separated; openid is always requested.", "openid profile email",
            Validate: v => v.Length == 0 || ScopeRegex().IsMatch(v) ? null : "Scopes must be space-separated words without quotes or backslashes."),
        new(AdminClaim, GroupName, "Admin claim", "The claim in the ID token that decides who is an admin, for example roles or groups.", "roles",
            Validate: v => v.Length == 0 || v.Any(char.IsWhiteSpace) ? "Admin claim must be one claim name without spaces." : null),
        new(AdminValues, GroupName, "Admin claim values", "Space- or comma-separated; a user whose admin claim holds any of them is an admin.", "",
            Validate: v => v.Length > 0 && SettingValues.SplitList(v).Count == 0 ? "Give at least one value." : null),
    ], CheckCombination);

    /// <summary>Sign-in switched on needs the provider, the client and at least one admin claim value.</summary>
    private static void CheckCombination(Func<string, string> after, Func<string, bool> secretAfter, IDictionary<string, string> errors)
    {
        if (after(Enabled) != "true")
        {
            return;
        }

        if (after(MetadataAddress).Length == 0)
        {
            errors.TryAdd(MetadataAddress, "OIDC sign-in needs the metadata address.");
        }

        if (after(ClientId).Length == 0)
        {
            errors.TryAdd(ClientId, "OIDC sign-in needs the client ID.");
        }

        if (!secretAfter(ClientSecret))
        {
            errors.TryAdd(ClientSecret, "OIDC sign-in needs the client secret.");
        }

        if (SettingValues.SplitList(after(AdminValues)).Count == 0)
        {
            errors.TryAdd(AdminValues, "Name at least one admin claim value, or every user of the provider would be an admin.");
        }
    }

    internal static string? CheckMetadataAddress(string value)
    {
        if (value.Length == 0)
        {
            return null;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(uri.Fragment))
        {
            return "Metadata address must be an absolute http(s) URL, for example https://login.example.com/.well-known/openid-configuration.";
        }

        return uri.Scheme == "http" && !Loopback.IsLoopback(uri)
            ? "Metadata address must use https (http is accepted only for a provider on this machine)."
            : null;
    }

    [GeneratedRegex(@"^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$")]
    private static partial Regex ScopeRegex();
}
