using System.Text;
using TokenAdmin.Mail;
using TokenAdmin.Settings;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Mail;

public sealed class MailSaslTests
{
    [Theory]
    [InlineData(MailSaslMechanism.Automatic, new[] { "PLAIN", "XOAUTH2", "OAUTHBEARER" }, "OAUTHBEARER")]
    [InlineData(MailSaslMechanism.Automatic, new[] { "PLAIN", "xoauth2" }, "XOAUTH2")]
    [InlineData(MailSaslMechanism.Automatic, new[] { "PLAIN", "LOGIN" }, null)]
    [InlineData(MailSaslMechanism.XOAuth2, new[] { "OAUTHBEARER" }, "XOAUTH2")]
    [InlineData(MailSaslMechanism.OAuthBearer, new string[0], "OAUTHBEARER")]
    public void Choose_PrefersOAuthBearer_UnlessForced(MailSaslMechanism wanted, string[] advertised, string? expected) =>
        Assert.Equal(expected, MailSasl.Choose(wanted, advertised));

    [Fact]
    public void InitialResponse_IsTheXOAuth2AndOAuthBearerWireFormat()
    {
        string Decode(string b64) => Encoding.UTF8.GetString(Convert.FromBase64String(b64));

        Assert.Equal("user=a@b.test\u0001auth=Bearer tok\u0001\u0001", Decode(MailSasl.InitialResponse(MailSasl.XOAuth2, "a@b.test", "tok")));
        Assert.Equal("n,a=x=3Dy=2Cz,\u0001auth=Bearer tok\u0001\u0001", Decode(MailSasl.InitialResponse(MailSasl.OAuthBearer, "x=y,z", "tok")));
    }

    [Fact]
    public void Pop3OneLine_PutsTheResponseIntoTheCommand()
    {
        var mechanism = MailSasl.Pop3OneLine(MailSasl.XOAuth2, "alice", "tok");

        Assert.Equal("XOAUTH2 " + MailSasl.InitialResponse(MailSasl.XOAuth2, "alice", "tok"), mechanism.MechanismName);
        Assert.False(mechanism.SupportsInitialResponse);
    }

    [Theory]
    [InlineData(MailSasl.XOAuth2)]
    [InlineData(MailSasl.OAuthBearer)]
    public void Pop3OneLine_FitsOnlyWithin255Octets_SoJwtsGoOnTheContinuation(string mechanism)
    {
        // The longest token whose "AUTH <mechanism> <response>" CRLF is 255 octets, found by trying every length.
        var longest = Enumerable.Range(1, 300).Last(n => MailSasl.Pop3OneLineFits(mechanism, "alice@example.test", new string('t', n)));
        var line = $"AUTH {mechanism} {MailSasl.InitialResponse(mechanism, "alice@example.test", new string('t', longest))}\r\n";

        Assert.InRange(Encoding.ASCII.GetByteCount(line), 253, 255);
        Assert.False(MailSasl.Pop3OneLineFits(mechanism, "alice@example.test", new string('t', longest + 3)));
        Assert.True(MailSasl.Pop3OneLineFits(mechanism, "alice@example.test", "opaque-token-of-43-characters-xxxxxxxxxxxx"));
        Assert.False(MailSasl.Pop3OneLineFits(mechanism, "alice@example.test", new string('j', 900)));
    }

    [Theory]
    [InlineData(MailSasl.XOAuth2)]
    [InlineData(MailSasl.OAuthBearer)]
    public void ImapInitialResponse_IsUsedUpTo8192Octets_ThenTheContinuation(string mechanism)
    {
        var longest = Enumerable.Range(1, 8192).Last(n => MailSasl.ImapInitialResponseFits(mechanism, "alice@example.test", new string('t', n)));
        var line = $"A000000001 AUTHENTICATE {mechanism} {MailSasl.InitialResponse(mechanism, "alice@example.test", new string('t', longest))}\r\n";

        Assert.InRange(Encoding.ASCII.GetByteCount(line), 8190, 8192);
        Assert.True(MailSasl.ImapInitialResponseFits(mechanism, "alice@example.test", new string('j', 4000)));
        Assert.False(MailSasl.ImapInitialResponseFits(mechanism, "alice@example.test", new string('j', 64 * 1024)));
    }

    [Theory]
    [InlineData("TokenConfig:12", TokenSourceKind.TokenConfig, 12)]
    [InlineData("FunctionalAccount:3", TokenSourceKind.FunctionalAccount, 3)]
    public void ParseSource_ReadsKindAndId(string value, TokenSourceKind kind, int id) =>
        Assert.Equal(new TokenSource(kind, id), TokenSource.Parse(value));

    [Theory]
    [InlineData("")]
    [InlineData("TokenConfig")]
    [InlineData("TokenConfig:0")]
    [InlineData("TokenConfig:-1")]
    [InlineData("tokenconfig:1")]
    [InlineData("Other:1")]
    [InlineData("3:1")]
    public void ParseSource_RefusesAnythingElse(string value) => Assert.Null(TokenSource.Parse(value));

    [Theory]
    [InlineData("outlook.office365.com pop-mail.outlook.com", null)]
    [InlineData("pop.example.com, mail.example.org", null)]
    [InlineData("bad_host!", "'bad_host!' is not a host name.")]
    public void SplitHostsSetting_IsAListOfHostNames(string value, string? error) =>
        Assert.Equal(error, MailSettings.MailGroup[MailSettings.Pop3SplitHosts].Check(value));
}
