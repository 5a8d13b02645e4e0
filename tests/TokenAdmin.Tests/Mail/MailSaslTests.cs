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
