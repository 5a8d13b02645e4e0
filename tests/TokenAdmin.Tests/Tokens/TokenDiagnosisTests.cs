using System.Buffers.Text;
using System.Text;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Tokens;

/// <summary>
/// The Diagnose explainer on real JWTs signed by a throwaway RSA key, shaped like Microsoft Entra's (delegated,
/// app-only, Graph), and on opaque, malformed and expired tokens.
/// </summary>
public sealed class TokenDiagnosisTests
{
    private const string Tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    private const string AppId = "8d6e1c4f-7e2b-4a0c-9b1d-2f3a4b5c6d7e";
    private static readonly DateTime Now = new(2026, 12, 3, 9, 0, 0, DateTimeKind.Utc);
    private static readonly SigningCredentials Key = new(new RsaSecurityKey(RSA.Create(2048)) { KeyId = "throwaway" }, SecurityAlgorithms.RsaSha256);

    private static string Jwt(Dictionary<string, object> claims, TimeSpan? lifetime = null)
    {
        var expires = Now.Add(lifetime ?? TimeSpan.FromMinutes(55));
        var descriptor = new SecurityTokenDescriptor
        {
            Claims = claims,
            SigningCredentials = Key,
            IssuedAt = expires.AddHours(-1),
            NotBefore = expires.AddHours(-1),
            Expires = expires,
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    private static Dictionary<string, object> Entra(string audience, string version = "1.0") => new()
    {
        ["aud"] = audience,
        ["iss"] = version == "1.0" ? $"https://sts.windows.net/{Tenant}/" : $"https://login.microsoftonline.com/{Tenant}/v2.0",
        ["tid"] = Tenant,
        ["ver"] = version,
    };

    private static MailServerExpectation Server(TokenDiagnosis d, string name) => Assert.Single(d.MailServers, s => s.Server == name);

    private static DiagnosisFact Fact(TokenDiagnosis d, string label) => Assert.Single(d.Facts, f => f.Label == label);

    [Fact]
    public void EntraDelegated_ExchangeAudience_ExplainsScpAndUser_ImapAccepted_PopAndSmtpRefusedForLackingScopes()
    {
        var claims = Entra("https://outlook.office.com");
        claims["appid"] = AppId;
        claims["scp"] = "IMAP.AccessAsUser.All SMTP.Send";
        claims["upn"] = "support@contoso.example";
        claims["oid"] = "11111111-2222-3333-4444-555555555555";
        var token = Jwt(claims);

        var d = TokenDiagnosis.Explain(token, "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send", Now);

        Assert.Equal(TokenFormat.Jwt, d.Format);
        Assert.Contains("not verified", d.Summary, StringComparison.Ordinal);
        Assert.Equal("delegated", Fact(d, "Kind of token").Value);
        Assert.Equal("IMAP.AccessAsUser.All SMTP.Send", Fact(d, "Delegated permissions (scp)").Value);
        Assert.Equal(Tenant, Fact(d, "Tenant (tid)").Value);
        Assert.Equal(AppId, Fact(d, "App (appid)").Value);
        Assert.Equal("support@contoso.example", Fact(d, "upn").Value);
        Assert.Contains("Exchange Online", Fact(d, "Audience (aud)").Meaning, StringComparison.Ordinal);
        Assert.Equal("Valid for 55 minutes more.", Fact(d, "Expires (exp)").Meaning);
        Assert.Equal("1.0", Fact(d, "Token version (ver)").Value);
        Assert.Equal(MailVerdict.LikelyAccepted, Server(d, "Exchange Online IMAP").Verdict);
        Assert.Equal(MailVerdict.Refused, Server(d, "Exchange Online POP").Verdict);
        Assert.Contains("https://outlook.office.com/POP.AccessAsUser.All", Server(d, "Exchange Online POP").Reason, StringComparison.Ordinal);
        Assert.Equal(MailVerdict.LikelyAccepted, Server(d, "Exchange Online SMTP").Verdict);
        Assert.Contains("Set-CASMailbox -SmtpClientAuthenticationDisabled $false", Server(d, "Exchange Online SMTP").Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(d.Facts, f => f.Value.Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    public void EntraAppOnly_ExchangeAppId_ExplainsRolesAndServicePrincipal_MissingRoleRefused()
    {
        var claims = Entra("00000002-0000-0ff1-ce00-000000000000");
        claims["appid"] = AppId;
        claims["roles"] = new[] { "IMAP.AccessAsApp", "SMTP.SendAsApp" };
        claims["oid"] = "99999999-8888-7777-6666-555555555555";
        claims["sub"] = "99999999-8888-7777-6666-555555555555";
        claims["idtyp"] = "app";

        var d = TokenDiagnosis.Explain(Jwt(claims), null, Now);

        Assert.Equal("app-only", Fact(d, "Kind of token").Value);
        Assert.Equal("IMAP.AccessAsApp, SMTP.SendAsApp", Fact(d, "Application permissions (roles)").Value);
        Assert.Contains("New-ServicePrincipal -ObjectId", Fact(d, "oid").Meaning, StringComparison.Ordinal);
        var imap = Server(d, "Exchange Online IMAP");
        Assert.Equal(MailVerdict.LikelyAccepted, imap.Verdict);
        Assert.Contains("Add-MailboxPermission", imap.Reason, StringComparison.Ordinal);
        var pop = Server(d, "Exchange Online POP");
        Assert.Equal(MailVerdict.Refused, pop.Verdict);
        Assert.Contains("POP.AccessAsApp", pop.Reason, StringComparison.Ordinal);
        Assert.Equal(MailVerdict.LikelyAccepted, Server(d, "Exchange Online SMTP").Verdict);
    }

    [Fact]
    public void GraphAudience_IsRefusedByImap_AndSaysWhichScopeToRequest()
    {
        var claims = Entra("https://graph.microsoft.com", "2.0");
        claims["azp"] = AppId;
        claims["scp"] = "Mail.ReadWrite User.Read";
        claims["preferred_username"] = "support@contoso.example";

        var d = TokenDiagnosis.Explain(Jwt(claims), null, Now);

        Assert.Equal(AppId, Fact(d, "App (azp)").Value);
        Assert.Contains("Microsoft Graph", Fact(d, "Audience (aud)").Meaning, StringComparison.Ordinal);
        var exchange = Server(d, "Exchange Online IMAP / POP / SMTP");
        Assert.Equal(MailVerdict.Refused, exchange.Verdict);
        Assert.Contains("AUTHENTICATE failed", exchange.Reason, StringComparison.Ordinal);
        Assert.Contains("https://outlook.office.com/IMAP.AccessAsUser.All", exchange.Reason, StringComparison.Ordinal);
        Assert.Contains("https://outlook.office365.com/.default", exchange.Reason, StringComparison.Ordinal);
        Assert.Equal(MailVerdict.LikelyAccepted, Server(d, "Microsoft Graph mail (TokenAdmin's graph transport)").Verdict);
    }

    [Fact]
    public void OtherMicrosoftAudience_IsRefusedByExchange_NamingTheAudience()
    {
        var claims = Entra("api://my-api");
        claims["roles"] = new[] { "Things.Read" };

        var d = TokenDiagnosis.Explain(Jwt(claims), null, Now);

        var exchange = Server(d, "Exchange Online IMAP / POP / SMTP");
        Assert.Equal(MailVerdict.Refused, exchange.Verdict);
        Assert.Contains("api://my-api", exchange.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Expired_SaysSinceWhen_AndEveryServerRefusesIt()
    {
        var claims = Entra("https://outlook.office365.com");
        claims["roles"] = new[] { "IMAP.AccessAsApp" };

        var d = TokenDiagnosis.Explain(Jwt(claims, TimeSpan.FromHours(-3)), null, Now);

        Assert.True(d.Expired);
        Assert.Equal(Now.AddHours(-3), d.ExpiresAt);
        Assert.StartsWith("Expired 3 hours ago", Fact(d, "Expires (exp)").Meaning, StringComparison.Ordinal);
        Assert.Equal(MailVerdict.Refused, Server(d, "Any server").Verdict);
    }

    [Theory]
    [InlineData("https://mail.google.com/", MailVerdict.LikelyAccepted)]
    [InlineData("https://www.googleapis.com/auth/gmail.readonly", MailVerdict.Refused)]
    [InlineData(null, MailVerdict.Unknown)]
    public void GoogleOpaque_IsExplainedByTheGrantedScope(string? grantedScope, MailVerdict verdict)
    {
        var d = TokenDiagnosis.Explain("ya29.a0AfB_byC-opaque-google-token", grantedScope, Now);

        Assert.Equal(TokenFormat.Opaque, d.Format);
        Assert.Contains("opaque to clients", d.Summary, StringComparison.Ordinal);
        Assert.Contains("only the provider can introspect it", d.Summary, StringComparison.Ordinal);
        Assert.Equal("Google", Fact(d, "Provider").Value);
        Assert.Equal(grantedScope ?? "not stated", Fact(d, "Granted scope").Value);
        Assert.Equal(verdict, Server(d, "Gmail IMAP / POP / SMTP").Verdict);
    }

    [Fact]
    public void OtherOpaque_CannotTell()
    {
        var d = TokenDiagnosis.Explain("2YotnFZFEjr1zCsicMWpAA", "mail", Now);

        Assert.Equal(TokenFormat.Opaque, d.Format);
        Assert.DoesNotContain(d.Facts, f => f.Label == "Provider");
        Assert.Equal(MailVerdict.Unknown, Assert.Single(d.MailServers).Verdict);
    }

    [Theory]
    [InlineData("eyJhbGciOiJSUzI1NiJ9.not-base64-json!.c2ln")]
    [InlineData("eyJhbGciOiJSUzI1NiJ9.WzEsMl0.c2ln")] // the payload is a JSON array, not an object
    public void Malformed_SaysSo_AndIsRefused(string token)
    {
        var d = TokenDiagnosis.Explain(token, null, Now);

        Assert.Equal(TokenFormat.Malformed, d.Format);
        Assert.Contains("not base64url-encoded JSON", d.Summary, StringComparison.Ordinal);
        Assert.Equal(MailVerdict.Refused, Assert.Single(d.MailServers).Verdict);
        Assert.Empty(d.Facts);
    }

    [Theory]
    [InlineData("ya29.c.b0AXv0zTOPqRsTuVwXyZ0123456789")] // a Google service-account token: two dots, still opaque
    [InlineData("abc.def.ghi")] // three parts, but no JOSE header
    public void DottedOpaqueTokens_AreOpaque_NotMalformed(string token)
    {
        var d = TokenDiagnosis.Explain(token, "https://mail.google.com/", Now);

        Assert.Equal(TokenFormat.Opaque, d.Format);
        Assert.DoesNotContain(d.MailServers, m => m.Verdict == MailVerdict.Refused && m.Server == "Any mail server");
    }

    [Theory]
    [InlineData("""{"aud":"https://outlook.office365.com","exp":1796288400000}""")] // milliseconds: beyond year 9999 as seconds
    [InlineData("""{"aud":"https://outlook.office365.com","exp":"1796288400"}""")] // a string
    [InlineData("""{"aud":"https://outlook.office365.com","exp":1e300}""")]
    public void UnreadableExpiry_IsNotStated_InsteadOfAnError(string payload)
    {
        var token = Base64Url.EncodeToString(Encoding.UTF8.GetBytes("""{"alg":"RS256","typ":"JWT"}""")) + "."
            + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload)) + ".c2ln";

        var d = TokenDiagnosis.Explain(token, null, Now);

        Assert.Equal(TokenFormat.Jwt, d.Format);
        Assert.Equal("not stated", Fact(d, "Expires (exp)").Value);
        var decoded = JwtInspector.TryDecode(token); // unreadable as a JWT or read without an expiry, never an exception
        Assert.True(decoded is null || decoded.ExpiresAt is null);
    }

    [Fact]
    public void EncryptedJwt_OnlyItsAudienceCanRead()
    {
        var d = TokenDiagnosis.Explain("eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d", null, Now);

        Assert.Equal(TokenFormat.EncryptedJwt, d.Format);
        Assert.Equal("A256GCM", Fact(d, "Encryption").Value);
    }

    [Fact]
    public void NoToken_SaysRequestOne()
    {
        var d = TokenDiagnosis.Explain(null, null, Now);

        Assert.Equal(TokenFormat.None, d.Format);
        Assert.Empty(d.MailServers);
    }

    [Fact]
    public void NonMicrosoftJwt_CannotTell_NamesAudience()
    {
        var d = TokenDiagnosis.Explain(Jwt(new Dictionary<string, object> { ["aud"] = "dovecot", ["iss"] = "https://keycloak.example/realms/mail", ["sub"] = "u1", ["scope"] = "mail" }), null, Now);

        var server = Assert.Single(d.MailServers);
        Assert.Equal(MailVerdict.Unknown, server.Verdict);
        Assert.Contains("dovecot", server.Reason, StringComparison.Ordinal);
        Assert.Equal("neither roles nor scp", Fact(d, "Kind of token").Value);
    }
}
