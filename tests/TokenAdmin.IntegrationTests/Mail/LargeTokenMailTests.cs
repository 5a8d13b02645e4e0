using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.IntegrationTests.Infrastructure;
using TokenAdmin.Mail;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.IntegrationTests.Mail;

/// <summary>
/// A short opaque token fits POP3's one-line form: "AUTH XOAUTH2 &lt;response&gt;" stays within 255 octets, so a host
/// that is not in the split list gets it in one line.
/// </summary>
public sealed class Pop3OneLineTests : MailTestBase
{
    protected override void ConfigureIdp(TestIdentityProviderOptions options) => options.OpaqueAccessTokens = true;

    [Theory]
    [InlineData(MailSaslMechanism.XOAuth2, "XOAUTH2")]
    [InlineData(MailSaslMechanism.OAuthBearer, "OAUTHBEARER")]
    public async Task Pop3_OneLineForm_ForShortTokens_OnHostsNotInTheSplitList(MailSaslMechanism mechanism, string name)
    {
        await Dovecot.SeedAsync(User, [DovecotServer.NewMessage("pop one-line")]);
        var id = await CreateAccountAsync(MailAccountType.Pop3, a => a.SaslMechanism = mechanism);

        var result = await FetchAsync(id);

        Assert.Empty(result.Errors);
        Assert.Equal(["pop one-line"], (await StoredAsync(id)).Select(m => m.Subject));
        // Dovecot's auth log: the response came with the AUTH command ("resp=") rather than as a continuation.
        Assert.Matches($"client in: AUTH\t[0-9]+\t{name}\tservice=pop3.*\tresp=", Dovecot.Log);
        Assert.Contains($"method={name}", Dovecot.Log, StringComparison.Ordinal);
    }
}

/// <summary>
/// Access tokens of users in many groups (Entra's exceed 4 KiB) against the real Dovecot: the fetcher sends them on
/// the SASL continuation when the one-line forms would be too long, and Dovecot accepts them.
/// </summary>
public sealed class LargeTokenMailTests : MailTestBase
{
    public override async Task InitializeAsync()
    {
        // Large tokens take the provider longer to issue than the base's 2 seconds on a busy machine.
        App.Settings["TokenAdmin:Providers:Timeout"] = "00:00:15";
        await base.InitializeAsync();
    }

    private async Task<string> BigTokenAsync(int groups)
    {
        Idp.AddUser(new TestUser(User, "alice-password-1")
        {
            Claims = new Dictionary<string, string[]>
            {
                ["email"] = ["alice@example.test"],
                ["groups"] = [.. Enumerable.Range(0, groups).Select(i => new Guid(i, 0, 0, new byte[8]).ToString())],
            },
        });
        var token = await App.Services.GetRequiredService<ITokenProvider>().ForceRefreshAsync(TokenSource.Config(ConfigId), default);
        return token.Value;
    }

    // Note: Dovecot 2.3's login processes keep at most 8192 octets of a SASL response (LOGIN_MAX_AUTH_BUF_SIZE), the
    // base64 of the token's XOAUTH2 message: 95 groups make a token of about 5.9 KiB, just below; 150 groups (8.7 KiB)
    // are refused below.
    [Theory]
    [InlineData(MailAccountType.Imap, 70)]
    [InlineData(MailAccountType.Pop3, 70)]
    [InlineData(MailAccountType.Imap, 95)]
    [InlineData(MailAccountType.Pop3, 95)]
    public async Task LargeAccessToken_LogsIn_OnTheContinuationWhereTheLineWouldBeTooLong(MailAccountType type, int groups)
    {
        var token = await BigTokenAsync(groups);
        Assert.True(token.Length > 4096, $"token of {token.Length} characters");
        await Dovecot.SeedAsync(User, [DovecotServer.NewMessage("large token")]);
        var id = await CreateAccountAsync(type, a => a.SaslMechanism = MailSaslMechanism.XOAuth2);

        var result = await FetchAsync(id);

        Assert.Empty(result.Errors);
        Assert.Equal(["large token"], (await StoredAsync(id)).Select(m => m.Subject));
        var service = type == MailAccountType.Imap ? "imap" : "pop3";
        var oneLine = type == MailAccountType.Imap && MailSasl.ImapInitialResponseFits(MailSasl.XOAuth2, User, token);
        Assert.Equal(oneLine, System.Text.RegularExpressions.Regex.IsMatch(Dovecot.Log, $"client in: AUTH\t[0-9]+\tXOAUTH2\tservice={service}.*\tresp="));
    }

    [Theory]
    [InlineData(MailAccountType.Imap)]
    [InlineData(MailAccountType.Pop3)]
    public async Task TokenBeyondDovecotsSaslBuffer_IsRefusedByTheServer_AndNothingIsFetched(MailAccountType type)
    {
        var token = await BigTokenAsync(150);
        Assert.True(MailSasl.InitialResponse(MailSasl.XOAuth2, User, token).Length > 8192);
        await Dovecot.SeedAsync(User, [DovecotServer.NewMessage("kept on the server")]);
        var id = await CreateAccountAsync(type, a => a.SaslMechanism = MailSaslMechanism.XOAuth2);

        var result = await FetchAsync(id);

        Assert.Contains(result.Errors, e => e.Contains("127.0.0.1", StringComparison.Ordinal));
        Assert.Empty(await StoredAsync(id));
        Assert.Single(await Dovecot.MessageIdsAsync(User));
    }
}
