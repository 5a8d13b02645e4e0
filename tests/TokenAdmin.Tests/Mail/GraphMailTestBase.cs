using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Mail;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tests.Tokens;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Mail;

/// <summary>
/// TokenAdmin in-process, the test identity provider issuing tokens for Microsoft Graph (aud https://graph.microsoft.com),
/// an app registration "graph-app" with application permissions (roles), and the loopback Graph server that checks
/// every token against the provider's keys. Mail accounts reach the server through the "custom endpoint" cloud.
/// </summary>
public abstract class GraphMailTestBase : TokenTestBase
{
    protected const string Address = "support@contoso.test";
    protected GraphMailServer Graph { get; private set; } = null!;
    protected GraphMailServer.GraphMailbox Mailbox { get; private set; } = null!;
    protected int ConfigId { get; private set; }

    /// <summary>The application permissions the app registration holds (admin consent given).</summary>
    protected virtual string[] Roles => ["Mail.ReadWrite", "Mail.Send"];

    protected override void ConfigureIdp(TestIdentityProviderOptions options) => options.AccessTokenAudiences.Add(GraphMailServer.GraphResource);

    public override async Task InitializeAsync()
    {
        App.Settings["TokenAdmin:TokenProvider:MaxStaleness"] = "00:00:00";
        App.Settings.TryAdd("TokenAdmin:Mail:GraphMaxRetryWait", "00:00:05");
        // A stalled exchange ends within the test's patience; answers on loopback take milliseconds.
        App.Settings.TryAdd("TokenAdmin:Mail:GraphExchangeTimeout", "00:00:10");
        await base.InitializeAsync();
        await Idp.AddClientAsync(new TestClient("graph-app", ClientSecret, [])
        {
            AllowedGrantTypes = ["client_credentials"],
            AllowedScopes = [GraphMailServer.GraphResource + "/.default"],
            ClientCredentialsClaims = new Dictionary<string, string[]> { ["roles"] = Roles },
        });
        Graph = await GraphMailServer.StartAsync(Idp.Issuer.ToString(), Idp.JwksUri);
        Mailbox = Graph.AddMailbox(Address);
        ConfigId = await CreateConfigAsync("graph-app", TokenFlows.ClientCredentials, d =>
        {
            d.ClientId = "graph-app";
            d.Scope = GraphMailServer.GraphResource + "/.default";
        });
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Graph.DisposeAsync();
    }

    protected static byte[] NewMessage(string subject, string messageId, int bodyBytes = 200) => Encoding.UTF8.GetBytes(
        $"From: Customer <customer@example.test>\r\nTo: {Address}\r\nSubject: {subject}\r\nMessage-ID: <{messageId}>\r\n" +
        $"Date: Wed, 02 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{new string('x', bodyBytes)}\r\n");

    protected static IEnumerable<byte[]> NewMessages(string prefix, int count, int bodyBytes = 200) =>
        Enumerable.Range(1, count).Select(i => NewMessage($"{prefix} {i}", $"{prefix}{i:0000}@test", bodyBytes));

    protected async Task<int> CreateAccountAsync(Action<MailAccountInput>? change = null)
    {
        var input = new MailAccountInput
        {
            Type = MailAccountType.Graph,
            Login = Address,
            GraphCloud = GraphCloud.Custom,
            GraphEndpoint = Graph.BaseUrl,
            ImapFolder = "inbox",
            Authentication = MailAuthentication.OAuth2,
            TokenSource = TokenSource.Config(ConfigId).Key,
            MaxMessagesPerRun = 1000,
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

    protected Task<List<FetchedMessage>> StoredAsync(int id) =>
        App.WithDbAsync(db => db.FetchedMessages.AsNoTracking().Where(m => m.MailAccountId == id).OrderBy(m => m.Id).ToListAsync());
}
