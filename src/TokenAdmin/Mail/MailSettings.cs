using TokenAdmin.Settings;
using TokenAdmin.Tokens;

namespace TokenAdmin.Mail;

/// <summary>The mail settings: how POP3 servers get a token, and how TokenAdmin sends its own mail (SMTP or Graph).</summary>
public static class MailSettings
{
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

    public const string MailGroupName = "Mail accounts";
    /// <summary>Edited on its own page (Mail accounts → SMTP sending), where the token source is picked from a list.</summary>
    public const string SmtpGroupName = "SMTP sending";

    public static SettingGroup MailGroup { get; } = new(MailGroupName,
    [
        new(Pop3SplitHosts, MailGroupName, "POP3 hosts with split OAuth2 login",
            "POP3 servers (space- or comma-separated host names, case-insensitive) that get \"AUTH XOAUTH2\", wait for \"+\" and then " +
            "the token on its own line, as Microsoft requires. Every other POP3 server gets the one-line form \"AUTH XOAUTH2 <token>\". " +
            "Like Znuny's MailAccount::POP3::Auth::SplitOAuth2MethodAndToken::Hosts.",
            "outlook.office365.com pop-mail.outlook.com",
            Validate: v => SettingValues.SplitList(v).FirstOrDefault(h => Uri.CheckHostName(h) == UriHostNameType.Unknown) is { } bad ? $"'{bad}' is not a host name." : null),
    ]);

    public static SettingGroup SmtpGroup { get; } = new(SmtpGroupName,
    [
        new(SmtpTransport, SmtpGroupName, "Transport",
            "smtp: an SMTP server (below); graph: Microsoft Graph sendMail from a Microsoft 365 mailbox, for tenants without SMTP AUTH " +
            "(needs Mail.Send, and the token source below).", "smtp", SettingKind.Choice, ["smtp", "graph"]),
        new(SmtpGraphMailbox, SmtpGroupName, "Graph: sending mailbox",
            "With the graph transport: the mailbox mail is sent from (address, user principal name or object id). Empty: the From address.", "",
            Validate: v => v.Any(char.IsWhiteSpace) ? "The mailbox has no spaces: an address, user principal name or object id." : null),
        new(SmtpGraphCloud, SmtpGroupName, "Graph: deployment",
            "Global (graph.microsoft.com), UsGovernmentL4 (graph.microsoft.us), UsGovernmentL5 (dod-graph.microsoft.us), China " +
            "(microsoftgraph.chinacloudapi.cn), or Custom (the endpoint below).", "Global", SettingKind.Choice,
            ["Global", "UsGovernmentL4", "UsGovernmentL5", "China", "Custom"]),
        new(SmtpGraphEndpoint, SmtpGroupName, "Graph: custom endpoint", "With the Custom deployment: the service root, e.g. https://graph.example.net.", "",
            Validate: v => v.Length == 0 ? null : GraphClouds.CheckCustomEndpoint(v)),
        new(SmtpHost, SmtpGroupName, "Host", "The SMTP server mail is sent through, e.g. smtp.office365.com or smtp.gmail.com. Empty: TokenAdmin sends no mail.", "",
            Validate: v => v.Length > 0 && Uri.CheckHostName(v) == UriHostNameType.Unknown ? $"'{v}' is not a host name." : null),
        new(SmtpPort, SmtpGroupName, "Port", "587 for STARTTLS (submission), 465 for TLS from the start, 25 for plain SMTP.", "587",
            Validate: v => int.TryParse(v, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var p) && p is >= 1 and <= 65535 ? null : "Port must be a number from 1 to 65535."),
        new(SmtpSecurity, SmtpGroupName, "TLS", "starttls: plain connection upgraded with STARTTLS (required); tls: TLS from the start; none: no encryption (only on a trusted network).",
            "starttls", SettingKind.Choice, ["starttls", "tls", "none"]),
        new(SmtpAuthentication, SmtpGroupName, "Authentication", "none, password (user name + password), or oauth2 (a bearer token from a token config).",
            "none", SettingKind.Choice, ["none", "password", "oauth2"]),
        new(SmtpUserName, SmtpGroupName, "User name", "The login for password and OAuth2 authentication, usually the mailbox address.", ""),
        new(SmtpPassword, SmtpGroupName, "Password", "Stored encrypted. Leave empty to keep the stored password.", "", SettingKind.Secret),
        new(SmtpTokenSource, SmtpGroupName, "OAuth2 token source", "Where the token comes from: TokenConfig:<id> (picked from a list on the SMTP page).", "",
            Validate: v => v.Length == 0 || TokenSource.Parse(v) is not null ? null : "The token source must be TokenConfig:<id> or FunctionalAccount:<id>."),
        new(SmtpMechanism, SmtpGroupName, "OAuth2 mechanism", "The SASL mechanism that carries the token.", "XOAUTH2", SettingKind.Choice, ["XOAUTH2", "OAUTHBEARER"]),
        new(SmtpFrom, SmtpGroupName, "From address", "The sender of mail TokenAdmin sends, e.g. tokenadmin@example.com.", "",
            Validate: v => v.Length == 0 || MimeKit.MailboxAddress.TryParse(v, out _) ? null : $"'{v}' is not a mail address."),
    ], SmtpSettings.CheckCombination) { OnSettingsPage = false };
}
