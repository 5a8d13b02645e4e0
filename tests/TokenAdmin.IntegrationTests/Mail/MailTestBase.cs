using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.IntegrationTests.Infrastructure;
using TokenAdmin.Mail;
using TokenAdmin.Settings;
using TokenAdmin.Tests.Tokens;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.IntegrationTests.Mail;

/// <summary>
/// TokenAdmin in-process with a signed-in admin, the test identity provider, a real Dovecot whose oauth2 passdb asks
/// that provider about every token, and a token config (password grant for alice) the mail accounts take tokens from.
/// </summary>
public abstract class MailTestBase : TokenTestBase
{
    protected const string User = "alice";
    protected DovecotServer Dovecot { get; private set; } = null!;
    protected SmtpRelaySink Relay { get; private set; } = null!;
    protected int ConfigId { get; private set; }

    public override async Task InitializeAsync()
    {
        // TokenAdmin trusts the test Dovecot's certificate as an internal CA, as an admin would configure it.
        App.Settings["TokenAdmin:Mail:TrustedCertificateAuthorities"] = DovecotServer.CertificateFile;
        // Changes a test makes to stored tokens reach the token provider at once.
        App.Settings["TokenAdmin:TokenProvider:MaxStaleness"] = "00:00:00";
        await base.InitializeAsync();
        Relay = new SmtpRelaySink();
        Dovecot = await DovecotServer.StartAsync(Idp.IntrospectionEndpoint, "tokenadmin", ClientSecret, Relay.Port);
        ConfigId = await CreateConfigAsync("mailbox", TokenFlows.Password, password: "alice-password-1");
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Dovecot.DisposeAsync();
        await Relay.DisposeAsync();
    }

    protected async Task<int> CreateAccountAsync(MailAccountType type, Action<MailAccountInput>? change = null)
    {
        var input = new MailAccountInput
        {
            Login = User,
            Host = "127.0.0.1",
            Type = type,
            Port = type switch
            {
                MailAccountType.Imap or MailAccountType.ImapStartTls => Dovecot.ImapPort,
                MailAccountType.Imaps => Dovecot.ImapsPort,
                MailAccountType.Pop3 or MailAccountType.Pop3StartTls => Dovecot.Pop3Port,
                _ => Dovecot.Pop3sPort,
            },
            Authentication = MailAuthentication.OAuth2,
            TokenSource = TokenSource.Config(ConfigId).Key,
        };
        change?.Invoke(input);
        using var scope = App.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<MailAccountService>().CreateAsync(input, "test", default);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => $"{e.Key}: {e.Value}")));
        return result.Account!.Id;
    }

    protected async Task<MailFetchResult> FetchAsync(int accountId, CancellationToken cancellationToken = default)
    {
        using var scope = App.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<MailFetcher>().FetchAsync(accountId, cancellationToken);
    }

    protected Task<MailAccount> AccountAsync(int id) => App.WithDbAsync(db => db.MailAccounts.AsNoTracking().SingleAsync(a => a.Id == id));

    /// <summary>
    /// Every stored row's file is there whole: the size the row says, and the message the row names (a file left empty
    /// or cut short by a killed run would fail here, whatever the counts say).
    /// </summary>
    internal static void AssertEveryFileIsWhole(string dataDirectory, IEnumerable<FetchedMessage> rows)
    {
        foreach (var row in rows)
        {
            var path = Path.Combine(dataDirectory, "mail", row.SpoolPath);
            Assert.Equal(row.Size, new FileInfo(path).Length);
            using var file = File.OpenRead(path);
            Assert.Contains(row.MessageId!, MimeKit.HeaderList.Load(file)[MimeKit.HeaderId.MessageId], StringComparison.Ordinal);
        }
    }

    protected Task<List<FetchedMessage>> StoredAsync(int id) =>
        App.WithDbAsync(db => db.FetchedMessages.AsNoTracking().Where(m => m.MailAccountId == id).OrderBy(m => m.Id).ToListAsync());

    protected async Task SetSettingAsync(string name, string value)
    {
        var result = await App.Services.GetRequiredService<SettingsStore>().UpdateAsync(new Dictionary<string, string?> { [name] = value }, "test", default);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Values));
    }

    /// <summary>Revokes the access token TokenAdmin holds for the config at the provider, as an admin of the provider would.</summary>
    protected async Task RevokeCachedAccessTokenAsync()
    {
        var token = await App.Services.GetRequiredService<ITokenProvider>().GetTokenAsync(TokenSource.Config(ConfigId), default);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, Idp.RevocationEndpoint)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token.Value, ["token_type_hint"] = "access_token" }),
        };
        request.Headers.Authorization = new("Basic", Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes($"tokenadmin:{ClientSecret}")));
        (await http.SendAsync(request)).EnsureSuccessStatusCode();
    }
}
