using System.Buffers.Text;
using System.Text.Json;
using TokenAdmin.Providers;

namespace TokenAdmin.Tokens;

/// <summary>What kind of string an access token is, as far as a client can tell.</summary>
public enum TokenFormat
{
    /// <summary>No access token is stored.</summary>
    None,

    /// <summary>A signed JWT (three parts): its claims are readable.</summary>
    Jwt,

    /// <summary>An encrypted JWT (JWE, five parts): only its header is readable.</summary>
    EncryptedJwt,

    /// <summary>Not a JWT (Google's ya29. tokens, random references): only the provider can introspect it.</summary>
    Opaque,

    /// <summary>Shaped like a JWT, but its header or payload is not base64url JSON.</summary>
    Malformed,
}

/// <summary>What a mail server will likely answer to the token.</summary>
public enum MailVerdict
{
    /// <summary>The token carries what the server checks.</summary>
    LikelyAccepted,

    /// <summary>The token lacks what the server checks: it will refuse it.</summary>
    Refused,

    /// <summary>The client cannot tell (opaque token, unknown provider).</summary>
    Unknown,
}

/// <summary>One claim (or fact) in words: its label, its value as the token states it, and what it means.</summary>
public sealed record DiagnosisFact(string Label, string Value, string Meaning);

/// <summary>What one kind of mail server will likely say, and why.</summary>
public sealed record MailServerExpectation(string Server, MailVerdict Verdict, string Reason);

/// <summary>
/// An access token decoded and explained in words: the claims that decide whether a server accepts it and what mail
/// servers will likely answer. The token itself is never part of it; the signature is NOT checked (only the token's
/// audience can do that with the provider's keys), so the claims are what the token says, not proven facts.
/// </summary>
public sealed record TokenDiagnosis(
    TokenFormat Format,
    string Summary,
    IReadOnlyList<DiagnosisFact> Facts,
    IReadOnlyList<MailServerExpectation> MailServers,
    DateTime? ExpiresAt,
    bool Expired)
{
    // Note: Exchange Online's resource has two host names (outlook.office365.com, outlook.office.com) and one app ID;
    // a token requested for either names it in aud, with or without a trailing slash.
    private static readonly string[] ExchangeAudiences =
        ["https://outlook.office365.com", "https://outlook.office.com", "00000002-0000-0ff1-ce00-000000000000"];

    private static readonly string[] GraphAudiences =
        ["https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000"];

    /// <summary>The scope of Google's mail servers (IMAP, POP, SMTP).</summary>
    public const string GoogleMailScope = "https://mail.google.com/";

    private const string DelegatedScopes = "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/POP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access";
    private const string AppOnlyScope = "https://outlook.office365.com/.default";

    /// <summary>
    /// Decodes and explains <paramref name="accessToken"/> (without checking its signature). <paramref name="grantedScope"/>
    /// is the scope the provider stated in its token response (the only thing a client knows of an opaque token).
    /// </summary>
    public static TokenDiagnosis Explain(string? accessToken, string? grantedScope, DateTime now)
    {
        if (string.IsNullOrEmpty(accessToken))
        {
            return new TokenDiagnosis(TokenFormat.None, "No access token is stored: request one first.", [], [], null, false);
        }

        // Note: a token is a JWT only when its first part is a JOSE header (base64url JSON with "alg"); anything else is
        // opaque, however many dots it has (Google's ya29. tokens can have two).
        var parts = accessToken.Split('.');
        if (accessToken.StartsWith("ya29.", StringComparison.Ordinal) || parts.Length is not (3 or 5) || !IsJoseHeader(parts[0]))
        {
            return Opaque(accessToken, grantedScope);
        }

        if (parts.Length == 5)
        {
            return Encrypted(parts[0]);
        }

        JsonElement payload;
        try
        {
            using var headerDocument = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0]));
            using var payloadDocument = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
            if (headerDocument.RootElement.ValueKind != JsonValueKind.Object || payloadDocument.RootElement.ValueKind != JsonValueKind.Object)
            {
                return Malformed();
            }

            payload = payloadDocument.RootElement.Clone();
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return Malformed();
        }

        return Jwt(new Claims(payload), grantedScope, now);
    }

    private static bool IsJoseHeader(string part)
    {
        try
        {
            using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(part));
            return header.RootElement.ValueKind == JsonValueKind.Object && header.RootElement.TryGetProperty("alg", out _);
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return false;
        }
    }

    private static TokenDiagnosis Malformed() => new(TokenFormat.Malformed,
        "The access token has a JWT header but its payload is not base64url-encoded JSON. " +
        "No server will accept it: request a new token; if it happens again, something between TokenAdmin and the provider alters the answer.",
        [], [new MailServerExpectation("Any mail server", MailVerdict.Refused, "A token that cannot be read is refused (AUTHENTICATE failed).")], null, false);

    private static TokenDiagnosis Encrypted(string header)
    {
        string? enc = null;
        try
        {
            using var document = JsonDocument.Parse(Base64Url.DecodeFromChars(header));
            enc = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("enc", out var e) ? e.ToString() : null;
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            // Note: the header is shown only as "unreadable" below.
        }

        return new TokenDiagnosis(TokenFormat.EncryptedJwt,
            "The access token is an encrypted JWT (JWE): its claims are encrypted for the server it is meant for, so only that server " +
            "(or the provider, by introspection) can read them.",
            [new DiagnosisFact("Encryption", enc ?? "unreadable header", "The content encryption the provider used (header enc).")],
            [new MailServerExpectation("Any mail server", MailVerdict.Unknown, "Only the server the token is encrypted for can tell whether it accepts it.")],
            null, false);
    }

    private static TokenDiagnosis Opaque(string token, string? grantedScope)
    {
        var google = token.StartsWith("ya29.", StringComparison.Ordinal);
        var facts = new List<DiagnosisFact>();
        if (google)
        {
            facts.Add(new DiagnosisFact("Provider", "Google", "Google access tokens start with ya29. and are opaque."));
        }

        facts.Add(GrantedScopeFact(grantedScope));
        var summary = "This token is opaque to clients (not a JWT): it carries no claims TokenAdmin could read; only the provider can introspect it.";
        IReadOnlyList<MailServerExpectation> servers = google
            ? [GoogleVerdict(grantedScope)]
            : [new MailServerExpectation("Any mail server", MailVerdict.Unknown,
                "Only the provider can tell what an opaque token allows; the mail server asks it (introspection). Compare the granted scope with what the server requires.")];
        return new TokenDiagnosis(TokenFormat.Opaque, summary, facts, servers, null, false);
    }

    private static DiagnosisFact GrantedScopeFact(string? grantedScope) => new("Granted scope", grantedScope ?? "not stated",
        grantedScope is null
            ? "The provider did not state the granted scope in its token response (it then granted the scope requested)."
            : "The scope the provider stated in its token response when it issued this token.");

    private static MailServerExpectation GoogleVerdict(string? grantedScope)
    {
        const string server = "Gmail IMAP / POP / SMTP";
        if (grantedScope is null)
        {
            return new(server, MailVerdict.Unknown,
                $"Gmail accepts the token when the scope {GoogleMailScope} was granted; the provider did not say which scope it granted.");
        }

        return Split(grantedScope).Contains(GoogleMailScope, StringComparer.Ordinal)
            ? new(server, MailVerdict.LikelyAccepted, $"The granted scope includes {GoogleMailScope}, which Gmail's IMAP, POP and SMTP servers require (SASL XOAUTH2, user = the mailbox's address).")
            : new(server, MailVerdict.Refused, $"Gmail will refuse it (\"Invalid credentials\" / AUTHENTICATE failed): the granted scope lacks {GoogleMailScope}. Add that scope and sign in again.");
    }

    private static TokenDiagnosis Jwt(Claims claims, string? grantedScope, DateTime now)
    {
        var facts = new List<DiagnosisFact>();
        var audiences = claims.Strings("aud");
        var roles = claims.Strings("roles");
        var scp = Split(claims.String("scp") ?? "");
        var appOnly = (roles.Count > 0 && scp.Count == 0) || claims.String("idtyp") == "app";
        var delegated = scp.Count > 0;

        facts.Add(new DiagnosisFact("Audience (aud)", Join(audiences), audiences.Count == 0
            ? "The token names no audience: a server that checks it (every mail server does) refuses it."
            : "The server (resource) the token is for. A server accepts only tokens whose audience is itself." + AudienceName(audiences)));
        if (claims.String("tid") is { } tid)
        {
            facts.Add(new DiagnosisFact("Tenant (tid)", tid, "The Microsoft Entra directory (tenant) that issued the token; it must be the tenant of the mailbox."));
        }

        if (claims.String("iss") is { } iss)
        {
            facts.Add(new DiagnosisFact("Issuer (iss)", iss, "Who issued (and signed) the token."));
        }

        if ((claims.String("appid") ?? claims.String("azp")) is { } app)
        {
            facts.Add(new DiagnosisFact(claims.String("appid") is null ? "App (azp)" : "App (appid)", app,
                "The client ID of the application the token was issued to: the app registration's Application (client) ID." +
                (claims.String("app_displayname") is { } display ? $" Its name: {display}." : "")));
        }

        facts.Add(new DiagnosisFact("Kind of token", appOnly ? "app-only" : delegated ? "delegated" : "neither roles nor scp",
            appOnly ? "The application acts as itself, with no user: what it may do are its application permissions (roles), granted by an admin."
            : delegated ? "The application acts for the signed-in user: what it may do are the delegated permissions (scp) the user or an admin consented to."
            : "The token carries neither application permissions (roles) nor delegated ones (scp)."));
        if (roles.Count > 0)
        {
            facts.Add(new DiagnosisFact("Application permissions (roles)", Join(roles), "Permissions granted to the application itself (app-only); Exchange Online checks IMAP.AccessAsApp, POP.AccessAsApp, SMTP.SendAsApp."));
        }

        if (delegated)
        {
            facts.Add(new DiagnosisFact("Delegated permissions (scp)", string.Join(' ', scp), "Permissions the application has on behalf of the user; Exchange Online checks IMAP.AccessAsUser.All, POP.AccessAsUser.All, SMTP.Send."));
        }

        foreach (var (claim, meaning) in IdentityClaims)
        {
            if (claims.String(claim) is { } value)
            {
                facts.Add(new DiagnosisFact(claim, value, claim == "oid" && appOnly
                    ? "The object ID of the service principal (enterprise application) in the tenant: this is the ID New-ServicePrincipal -ObjectId wants, not the app registration's object ID."
                    : meaning));
            }
        }

        DateTime? expires = claims.Seconds("exp") is { } exp ? DateTimeOffset.FromUnixTimeSeconds(exp).UtcDateTime : null;
        var expired = expires is { } e && e <= now;
        facts.Add(new DiagnosisFact("Expires (exp)", expires is { } x ? $"{x:yyyy-MM-dd HH:mm:ss} UTC" : "not stated",
            expires is not { } when ? "The token states no expiry."
            : expired ? $"Expired {Span(now - when)} ago: every server refuses it. TokenAdmin renews a token before it hands it out; use Refresh or Request token to get a new one now."
            : $"Valid for {Span(when - now)} more."));
        if (claims.String("ver") is { } ver)
        {
            facts.Add(new DiagnosisFact("Token version (ver)", ver,
                "The format version of a Microsoft Entra token (1.0: issuer https://sts.windows.net/{tenant}/, upn; 2.0: issuer https://login.microsoftonline.com/{tenant}/v2.0, preferred_username). The resource chooses it; both work for mail."));
        }

        if (grantedScope is not null)
        {
            facts.Add(GrantedScopeFact(grantedScope));
        }

        var servers = new List<MailServerExpectation>();
        if (expired)
        {
            servers.Add(new("Any server", MailVerdict.Refused, "The token has expired: it is refused whatever it carries (renew it first)."));
        }

        if (audiences.Any(a => Is(a, ExchangeAudiences)))
        {
            servers.AddRange(Exchange(roles, scp, appOnly));
        }
        else if (audiences.Any(a => Is(a, GraphAudiences)))
        {
            servers.Add(new("Exchange Online IMAP / POP / SMTP", MailVerdict.Refused,
                "This is a Microsoft Graph token (aud Graph): Exchange Online's IMAP, POP and SMTP servers refuse it (AUTHENTICATE failed). " +
                $"Request the scope {DelegatedScopes} (delegated) or {AppOnlyScope} (app-only) instead."));
            var graphMail = roles.Concat(scp).Any(p => p.StartsWith("Mail.", StringComparison.OrdinalIgnoreCase));
            servers.Add(new("Microsoft Graph mail (TokenAdmin's graph transport)", graphMail ? MailVerdict.LikelyAccepted : MailVerdict.Refused,
                graphMail ? "The token carries Mail.* permissions, which Graph's mail API needs (Mail.ReadWrite to fetch, Mail.Send to send)."
                    : "The token carries no Mail.* permission: Graph's mail API answers 403 (add Mail.ReadWrite / Mail.Send)."));
        }
        else if (claims.String("tid") is not null || claims.String("iss")?.Contains("login.microsoftonline.com", StringComparison.OrdinalIgnoreCase) == true
            || claims.String("iss")?.Contains("sts.windows.net", StringComparison.OrdinalIgnoreCase) == true)
        {
            servers.Add(new("Exchange Online IMAP / POP / SMTP", MailVerdict.Refused,
                $"The audience {Join(audiences)} is not Exchange Online (https://outlook.office365.com or 00000002-0000-0ff1-ce00-000000000000): the mail servers refuse the token (AUTHENTICATE failed). " +
                $"Request the scope {DelegatedScopes} (delegated) or {AppOnlyScope} (app-only)."));
        }
        else
        {
            servers.Add(new("Mail server of this provider", MailVerdict.Unknown,
                $"Not a Microsoft or Google token: a mail server that takes tokens of this provider (for example Dovecot with an oauth2 passdb) checks the audience ({Join(audiences)}) and the scope it was configured for."));
        }

        var summary = "The access token is a JWT. Its claims are shown as the token states them: the signature is not verified here " +
            "(only the server the token is for can check it with the provider's keys).";
        return new TokenDiagnosis(TokenFormat.Jwt, summary, facts, servers, expires, expired);
    }

    private static readonly (string Claim, string Meaning)[] IdentityClaims =
    [
        ("upn", "The user principal name of the signed-in user (1.0 tokens): by default the SASL user name for IMAP/POP/SMTP."),
        ("preferred_username", "The user's sign-in name (2.0 tokens)."),
        ("email", "The user's e-mail address as the provider knows it."),
        ("unique_name", "A display name of the user (1.0 tokens); not a stable identifier."),
        ("oid", "The object ID of the user in the tenant."),
        ("sub", "The subject: the user (or, app-only, the application) the token is about, as this provider identifies it."),
    ];

    private static IEnumerable<MailServerExpectation> Exchange(IReadOnlyList<string> roles, List<string> scp, bool appOnly)
    {
        (string Server, string Delegated, string App)[] protocols =
        [
            ("Exchange Online IMAP", "IMAP.AccessAsUser.All", "IMAP.AccessAsApp"),
            ("Exchange Online POP", "POP.AccessAsUser.All", "POP.AccessAsApp"),
            ("Exchange Online SMTP", "SMTP.Send", "SMTP.SendAsApp"),
        ];
        foreach (var (server, delegatedPermission, appPermission) in protocols)
        {
            var smtp = appPermission == "SMTP.SendAsApp";
            var smtpNote = smtp ? " SMTP AUTH must also be enabled for the mailbox (Set-CASMailbox -SmtpClientAuthenticationDisabled $false)." : "";
            if (appOnly)
            {
                yield return roles.Contains(appPermission, StringComparer.OrdinalIgnoreCase)
                    ? new(server, MailVerdict.LikelyAccepted,
                        $"The audience is Exchange Online and the roles include {appPermission}. The server still refuses it unless the service principal is registered in Exchange Online " +
                        "(New-ServicePrincipal with the enterprise application's object ID) and has FullAccess to the mailbox (Add-MailboxPermission); the SASL user is the mailbox's address." + smtpNote)
                    : new(server, MailVerdict.Refused,
                        $"The roles lack {appPermission}: the server answers AUTHENTICATE failed. Add the application permission Office 365 Exchange Online → {appPermission}, grant admin consent, and request a new token.");
            }
            else if (scp.Count > 0)
            {
                yield return scp.Contains(delegatedPermission, StringComparer.OrdinalIgnoreCase)
                    ? new(server, MailVerdict.LikelyAccepted,
                        $"The audience is Exchange Online and scp includes {delegatedPermission}: the server accepts it for the signed-in user's mailbox, or a mailbox the user has FullAccess to (SASL user = that mailbox's address)." + smtpNote)
                    : new(server, MailVerdict.Refused,
                        $"scp lacks {delegatedPermission}: the server answers AUTHENTICATE failed. Add https://outlook.office.com/{delegatedPermission} to the scope and sign in again.");
            }
            else
            {
                yield return new(server, MailVerdict.Refused,
                    $"The token carries neither {delegatedPermission} (scp, delegated) nor {appPermission} (roles, app-only): the server answers AUTHENTICATE failed.");
            }
        }
    }

    private static string AudienceName(IReadOnlyList<string> audiences) =>
        audiences.Any(a => Is(a, ExchangeAudiences)) ? " This one is Exchange Online (Office 365 Exchange Online, IMAP/POP/SMTP and EWS)."
        : audiences.Any(a => Is(a, GraphAudiences)) ? " This one is Microsoft Graph."
        : "";

    private static bool Is(string audience, string[] known) =>
        known.Any(k => string.Equals(audience.TrimEnd('/'), k, StringComparison.OrdinalIgnoreCase));

    private static List<string> Split(string value) => [.. value.Split(' ', StringSplitOptions.RemoveEmptyEntries)];

    private static string Join(IReadOnlyList<string> values) => values.Count == 0 ? "none" : string.Join(", ", values);

    private static string Span(TimeSpan span) =>
        span.TotalDays >= 2 ? $"{(int)span.TotalDays} days"
        : span.TotalHours >= 2 ? $"{(int)span.TotalHours} hours"
        : span.TotalMinutes >= 2 ? $"{(int)span.TotalMinutes} minutes"
        : $"{Math.Max(0, (int)span.TotalSeconds)} seconds";

    /// <summary>The payload's claims, read leniently: a claim of an unexpected JSON type counts as absent.</summary>
    private sealed class Claims(JsonElement payload)
    {
        public string? String(string name) =>
            payload.TryGetProperty(name, out var value) ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number => value.GetRawText(),
                _ => null,
            } : null;

        public IReadOnlyList<string> Strings(string name) =>
            !payload.TryGetProperty(name, out var value) ? []
            : value.ValueKind == JsonValueKind.String ? [value.GetString()!]
            : value.ValueKind == JsonValueKind.Array ? [.. value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!)]
            : [];

        public long? Seconds(string name) =>
            payload.TryGetProperty(name, out var value) ? NumericDate.Seconds(value) : null;
    }
}
