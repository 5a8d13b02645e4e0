using System.Text.RegularExpressions;
using TokenAdmin.Tokens;

namespace TokenAdmin.Settings;

public enum SettingKind { Text, Choice, Boolean, Secret }

/// <summary>What a setting is, how it is shown and what values it accepts.</summary>
public sealed record SettingDefinition(
    string Name,
    string Group,
    string Label,
    string Help,
    string DefaultValue,
    SettingKind Kind = SettingKind.Text,
    IReadOnlyList<string>? Choices = null,
    Func<string, string?>? Validate = null)
{
    /// <summary>Returns an error message, or null when <paramref name="value"/> is acceptable (already trimmed).</summary>
    public string? Check(string value)
    {
        switch (Kind)
        {
            case SettingKind.Choice when !Choices!.Contains(value, StringComparer.Ordinal):
                return $"{Name} must be one of: {string.Join(", ", Choices!)}.";
            case SettingKind.Boolean when value is not ("true" or "false"):
                return $"{Name} must be true or false.";
            default:
                return value.Length > 2000 ? $"{Name} is longer than 2000 characters." : Validate?.Invoke(value);
        }
    }
}

public static partial class SettingNames
{
    public const string HttpType = "HttpType";
    public const string Fqdn = "FQDN";
    public const string PathBase = "PathBase";
    public const string AdminOidcEnabled = "AdminOidc.Enabled";
    public const string AdminOidcDisplayName = "AdminOidc.DisplayName";
    public const string AdminOidcMetadataAddress = "AdminOidc.MetadataAddress";
    public const string AdminOidcClientId = "AdminOidc.ClientId";
    public const string AdminOidcClientSecret = "AdminOidc.ClientSecret";
    public const string AdminOidcScopes = "AdminOidc.Scopes";
    public const string AdminOidcAdminClaim = "AdminOidc.AdminClaim";
    public const string AdminOidcAdminValues = "AdminOidc.AdminValues";
    public const string UpdaterSchedule = "TokenStoreUpdater.Schedule";
    public const string UpdaterInterval = "TokenStoreUpdater.Interval";
    public const string UpdaterParallelism = "TokenStoreUpdater.Parallelism";
    public const string Pop3SplitHosts = "MailAccount.POP3.Auth.SplitOAuth2MethodAndToken.Hosts";
    public const string SmtpTransport = "Smtp.Transport";
    public const string SmtpGraphMailbox = "Smtp.GraphMailbox";
    public const string SmtpGraphCloud = "Smtp.GraphCloud";
    public const string SmtpGraphEndpoint = "Smtp.GraphEndpoint";
    public const string SmtpHost = "Smtp.Host";
    public const string SmtpPort = "Smtp.Port";
    public const string SmtpSecurity = "Smtp.Security";
    public const string SmtpAuthentication = "Smtp.Authentication";
    public const string SmtpUserName = "Smtp.UserName";
    public const string SmtpPassword = "Smtp.Password";
    public const string SmtpTokenSource = "Smtp.OAuth2TokenSource";
    public const string SmtpMechanism = "Smtp.OAuth2Mechanism";
    public const string SmtpFrom = "Smtp.From";
    public const string DebuggerRetentionDays = "Debugger.RetentionDays";
    public const string DebuggerBodyLimit = "Debugger.BodyLimit";
    public const string DebuggerMaxSizeMb = "Debugger.MaxSizeMB";
    public const string CredentialWarningDays = "Credentials.ExpiryWarningDays";

    public const string PublicUrlGroup = "Public URL";
    public const string AdminOidcGroup = "Admin sign-in with OpenID Connect";
    public const string UpdaterGroup = "Token store updater";
    public const string MailGroup = "Mail accounts";
    /// <summary>Edited on its own page (Mail accounts → SMTP sending), where the token source is picked from a list.</summary>
    public const string SmtpGroup = "SMTP sending";
    public const string DebuggerGroup = "Web service debugger";
    public const string CredentialGroup = "Client secrets and certificates";

    public static IReadOnlyList<SettingDefinition> All { get; } =
    [
        new(HttpType, PublicUrlGroup, "HTTP type", "The scheme admins and providers use to reach TokenAdmin. Production systems must use https.",
            "http", SettingKind.Choice, ["http", "https"]),
        new(Fqdn, PublicUrlGroup, "Fully qualified domain name", "Host name, optionally with :port, as browsers reach TokenAdmin (no scheme, no path). Example: tokenadmin.example.com",
            "localhost:5080", Validate: CheckFqdn),
        new(PathBase, PublicUrlGroup, "Path base", "Leave empty, or a path such as /tokenadmin when a reverse proxy serves TokenAdmin below a path.",
            "", Validate: CheckPathBase),
        new(AdminOidcEnabled, AdminOidcGroup, "Enabled", "Offers \"Sign in with …\" on the login page.", "false", SettingKind.Boolean),
        new(AdminOidcDisplayName, AdminOidcGroup, "Display name", "Shown on the login button: Sign in with <name>.", "OpenID Connect",
            Validate: v => v.Length is 0 or > 60 ? "Display name must be 1 to 60 characters." : null),
        new(AdminOidcMetadataAddress, AdminOidcGroup, "Metadata address", "The provider's discovery document, ending in /.well-known/openid-configuration.", "",
            Validate: CheckMetadataAddress),
        new(AdminOidcClientId, AdminOidcGroup, "Client ID", "The client (application) ID registered at the provider.", "",
            Validate: v => v.Any(char.IsWhiteSpace) ? "Client ID must not contain spaces." : null),
        new(AdminOidcClientSecret, AdminOidcGroup, "Client secret", "Stored encrypted. Leave empty to keep the stored secret.", "", SettingKind.Secret),
        new(AdminOidcScopes, AdminOidcGroup, "Scopes", "Space-separated; openid is always requested.", "openid profile email",
            Validate: v => v.Length == 0 || ScopeRegex().IsMatch(v) ? null : "Scopes must be space-separated words without quotes or backslashes."),
        new(AdminOidcAdminClaim, AdminOidcGroup, "Admin claim", "The claim in the ID token that decides who is an admin, for example roles or groups.", "roles",
            Validate: v => v.Length == 0 || v.Any(char.IsWhiteSpace) ? "Admin claim must be one claim name without spaces." : null),
        new(AdminOidcAdminValues, AdminOidcGroup, "Admin claim values", "Space- or comma-separated; a user whose admin claim holds any of them is an admin.", "",
            Validate: v => v.Length > 0 && SplitList(v).Count == 0 ? "Give at least one value." : null),
        new(UpdaterSchedule, UpdaterGroup, "Schedule",
            "When the updater refreshes tokens: a cron expression with 5 fields (minute hour day-of-month month day-of-week) in the server's time zone, as in crontab. " +
            "Examples: 0 * * * * (hourly, at minute 0), */10 * * * * (every 10 minutes), 0 0 * * * (daily at midnight).",
            Refresh.RefreshSchedule.DefaultCron, Validate: Refresh.RefreshSchedule.CheckCron),
        new(UpdaterInterval, UpdaterGroup, "Interval (seconds)",
            "The time between two runs, as in OTOBO (3600 for an hourly schedule): each run refreshes what expires before the next run. " +
            "TokenAdmin also computes the next run from the schedule and looks ahead by the longer of the two, so 0 (the schedule alone) is enough.",
            "0", Validate: Refresh.RefreshSchedule.CheckInterval),
        new(UpdaterParallelism, UpdaterGroup, "Parallelism", "How many token configs one run refreshes at the same time (1 to 32).",
            "4", Validate: Refresh.RefreshSchedule.CheckParallelism),
        new(Pop3SplitHosts, MailGroup, "POP3 hosts with split OAuth2 login",
            "POP3 servers (space- or comma-separated host names, case-insensitive) that get \"AUTH XOAUTH2\", wait for \"+\" and then " +
            "the token on its own line, as Microsoft requires. Every other POP3 server gets the one-line form \"AUTH XOAUTH2 <token>\". " +
            "Like Znuny's MailAccount::POP3::Auth::SplitOAuth2MethodAndToken::Hosts.",
            "outlook.office365.com pop-mail.outlook.com",
            Validate: v => SplitList(v).FirstOrDefault(h => Uri.CheckHostName(h) == UriHostNameType.Unknown) is { } bad ? $"'{bad}' is not a host name." : null),
        new(SmtpTransport, SmtpGroup, "Transport",
            "smtp: an SMTP server (below); graph: Microsoft Graph sendMail from a Microsoft 365 mailbox, for tenants without SMTP AUTH " +
            "(needs Mail.Send, and the token source below).", "smtp", SettingKind.Choice, ["smtp", "graph"]),
        new(SmtpGraphMailbox, SmtpGroup, "Graph: sending mailbox",
            "With the graph transport: the mailbox mail is sent from (address, user principal name or object id). Empty: the From address.", "",
            Validate: v => v.Any(char.IsWhiteSpace) ? "The mailbox has no spaces: an address, user principal name or object id." : null),
        new(SmtpGraphCloud, SmtpGroup, "Graph: deployment",
            "Global (graph.microsoft.com), UsGovernmentL4 (graph.microsoft.us), UsGovernmentL5 (dod-graph.microsoft.us), China " +
            "(microsoftgraph.chinacloudapi.cn), or Custom (the endpoint below).", "Global", SettingKind.Choice,
            ["Global", "UsGovernmentL4", "UsGovernmentL5", "China", "Custom"]),
        new(SmtpGraphEndpoint, SmtpGroup, "Graph: custom endpoint", "With the Custom deployment: the service root, e.g. https://graph.example.net.", "",
            Validate: v => v.Length == 0 ? null : Mail.GraphClouds.CheckCustomEndpoint(v)),
        new(SmtpHost, SmtpGroup, "Host", "The SMTP server mail is sent through, e.g. smtp.office365.com or smtp.gmail.com. Empty: TokenAdmin sends no mail.", "",
            Validate: v => v.Length > 0 && Uri.CheckHostName(v) == UriHostNameType.Unknown ? $"'{v}' is not a host name." : null),
        new(SmtpPort, SmtpGroup, "Port", "587 for STARTTLS (submission), 465 for TLS from the start, 25 for plain SMTP.", "587",
            Validate: v => int.TryParse(v, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var p) && p is >= 1 and <= 65535 ? null : "Port must be a number from 1 to 65535."),
        new(SmtpSecurity, SmtpGroup, "TLS", "starttls: plain connection upgraded with STARTTLS (required); tls: TLS from the start; none: no encryption (only on a trusted network).",
            "starttls", SettingKind.Choice, ["starttls", "tls", "none"]),
        new(SmtpAuthentication, SmtpGroup, "Authentication", "none, password (user name + password), or oauth2 (a bearer token from a token config).",
            "none", SettingKind.Choice, ["none", "password", "oauth2"]),
        new(SmtpUserName, SmtpGroup, "User name", "The login for password and OAuth2 authentication, usually the mailbox address.", ""),
        new(SmtpPassword, SmtpGroup, "Password", "Stored encrypted. Leave empty to keep the stored password.", "", SettingKind.Secret),
        new(SmtpTokenSource, SmtpGroup, "OAuth2 token source", "Where the token comes from: TokenConfig:<id> (picked from a list on the SMTP page).", "",
            Validate: v => v.Length == 0 || TokenSource.Parse(v) is not null ? null : "The token source must be TokenConfig:<id> or FunctionalAccount:<id>."),
        new(SmtpMechanism, SmtpGroup, "OAuth2 mechanism", "The SASL mechanism that carries the token.", "XOAUTH2", SettingKind.Choice, ["XOAUTH2", "OAUTHBEARER"]),
        new(SmtpFrom, SmtpGroup, "From address", "The sender of mail TokenAdmin sends, e.g. tokenadmin@example.com.", "",
            Validate: v => v.Length == 0 || MimeKit.MailboxAddress.TryParse(v, out _) ? null : $"'{v}' is not a mail address."),
        new(DebuggerRetentionDays, DebuggerGroup, "Retention (days)",
            "How long the debugger keeps recorded web service calls (1 to 3650 days); older ones are purged every hour.",
            "14", Validate: v => CheckNumber(v, 1, 3650, "Retention")),
        new(DebuggerBodyLimit, DebuggerGroup, "Body limit (characters)",
            "Request and response bodies are cut at this length in the debugger (1024 to 1048576), after secrets are redacted.",
            "16384", Validate: v => CheckNumber(v, 1024, 1024 * 1024, "Body limit")),
        new(DebuggerMaxSizeMb, DebuggerGroup, "Total size (MB)",
            "The most text the debugger keeps in all (1 to 100000 MB, counted in characters); when a new call goes beyond it, the oldest calls are removed first.",
            "100", Validate: v => CheckNumber(v, 1, 100_000, "Total size")),
        new(CredentialWarningDays, CredentialGroup, "Warn before expiry (days)",
            "Client secrets (with an expiry date entered) and client certificates of token configs, functional accounts and OIDC profiles " +
            "are shown in banners and raise the alert \"client secret or certificate will expire\" from this many days before they expire (1 to 365).",
            "30", Validate: v => CheckNumber(v, 1, 365, "Warn before expiry")),
    ];

    /// <summary>The days before a client secret or certificate expires from which it is warned about.</summary>
    public static int CredentialWarning(SettingsSnapshot settings) =>
        int.TryParse(settings.Get(CredentialWarningDays), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var days) ? days : 30;

    internal static string? CheckNumber(string value, int min, int max, string label) =>
        int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? null
            : $"{label} must be a whole number from {min} to {max}.";

    private static readonly Dictionary<string, SettingDefinition> ByName =
        All.ToDictionary(d => d.Name, StringComparer.OrdinalIgnoreCase);

    public static SettingDefinition? Find(string name) => ByName.GetValueOrDefault(name);

    public static IReadOnlyList<string> SplitList(string value) =>
        value.Split([' ', ',', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    internal static string? CheckFqdn(string value)
    {
        if (value.Length == 0)
        {
            return "FQDN is required.";
        }

        if (value.Contains("://", StringComparison.Ordinal) || value.IndexOfAny(['/', '?', '#', '@', ' ']) >= 0)
        {
            return "FQDN is a host name with an optional :port, without scheme or path (for example tokenadmin.example.com).";
        }

        string host = value, port = "";
        if (value.StartsWith('['))
        {
            var end = value.IndexOf(']', StringComparison.Ordinal);
            if (end < 0)
            {
                return "FQDN has an IPv6 address without its closing ].";
            }

            host = value[1..end];
            port = value[(end + 1)..];
            if (port.Length > 0 && !port.StartsWith(':'))
            {
                return "FQDN: only :port may follow an IPv6 address.";
            }

            port = port.TrimStart(':');
        }
        else if (value.Contains(':', StringComparison.Ordinal))
        {
            var colon = value.LastIndexOf(':');
            host = value[..colon];
            port = value[(colon + 1)..];
        }

        if (Uri.CheckHostName(host) == UriHostNameType.Unknown)
        {
            return $"FQDN: '{host}' is not a valid host name.";
        }

        if (value.Contains(':', StringComparison.Ordinal) && !(int.TryParse(port, out var p) && p is >= 1 and <= 65535))
        {
            return "FQDN: the port must be a number from 1 to 65535.";
        }

        return null;
    }

    internal static string? CheckPathBase(string value)
    {
        if (value.Length == 0)
        {
            return null;
        }

        return PathBaseRegex().IsMatch(value)
            ? null
            : "Path base must be empty or start with / and hold only letters, digits and - . _ ~ / (no trailing /), for example /tokenadmin.";
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

    [GeneratedRegex(@"^(/[A-Za-z0-9\-._~]+)+$")]
    private static partial Regex PathBaseRegex();

    [GeneratedRegex(@"^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$")]
    private static partial Regex ScopeRegex();
}
