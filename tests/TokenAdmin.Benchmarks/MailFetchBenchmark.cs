using System.Diagnostics;
using System.Globalization;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MailKit.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Data;
using TokenAdmin.IntegrationTests.Infrastructure;
using TokenAdmin.Mail;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Benchmarks;

/// <summary>
/// Fetches the same 1,000 messages from a real Dovecot (IMAP, XOAUTH2, token checked against the test IdP) through
/// TokenAdmin's fetcher and through a bare MailKit loop, alternately, in one run. Target: fetcher ≤ 1.3 × bare loop.
/// The bare loop does what any fetcher must at least do: log in with the token, list the UIDs, download each message
/// and write it to a file, flag it seen. The fetcher adds the durable spool (flush to disk per file), the index rows,
/// duplicate detection and the size check. Both keep the mail on the server, so every round sees the same mailbox.
/// </summary>
internal static class MailFetchBenchmark
{
    private const string Secret = "bench-client-secret";

    public static async Task<int> RunAsync(int messages, int rounds)
    {
        await using var idp = await TestIdentityProviderServer.StartAsync();
        await idp.AddClientAsync(new TestClient("tokenadmin", Secret, ["http://localhost:5080/oauth2/callback"]));
        idp.AddUser(new TestUser("alice", "alice-password-1"));
        await using var relay = new SmtpRelaySink();
        await using var dovecot = await DovecotServer.StartAsync(idp.IntrospectionEndpoint, "tokenadmin", Secret, relay.Port);
        Console.WriteLine($"Seeding {messages} messages (3 KB text each) ...");
        var body = string.Join("\n", Enumerable.Repeat("The quick brown fox jumps over the lazy dog, again and again and again.", 42));
        await dovecot.SeedAsync("alice", Enumerable.Range(1, messages).Select(i => DovecotServer.NewMessage($"message {i}", body)));

        var dataDirectory = Path.Combine(Path.GetTempPath(), "tokenadmin-bench-" + Guid.NewGuid().ToString("N"));
        using var host = Seeding.BuildHost(dataDirectory);
        int accountId;
        using (var scope = host.Services.CreateScope())
        {
            await DatabaseStartup.MigrateAsync(scope.ServiceProvider.GetRequiredService<TokenAdminDb>(), CancellationToken.None);
            var document = TokenTemplates.Find(TokenTemplates.Custom)!.NewDocument();
            document.Name = "bench-mailbox";
            document.Flow = TokenFlows.Password;
            document.ClientId = "tokenadmin";
            document.Scope = "openid mail";
            document.Username = "alice";
            document.Issuer = idp.Issuer.ToString();
            document.Endpoints.Authorization = idp.AuthorizationEndpoint;
            document.Endpoints.Token = idp.TokenEndpoint;
            var config = await scope.ServiceProvider.GetRequiredService<TokenConfigService>()
                .CreateAsync(document, new TokenConfigSecrets(Secret, "alice-password-1"), "benchmark", CancellationToken.None);
            var account = await scope.ServiceProvider.GetRequiredService<MailAccountService>().CreateAsync(new MailAccountInput
            {
                Login = "alice", Host = "127.0.0.1", Type = MailAccountType.Imap, Port = dovecot.ImapPort,
                Authentication = MailAuthentication.OAuth2, TokenSource = TokenSource.Config(config.Config!.Id).Key,
                SaslMechanism = MailSaslMechanism.XOAuth2, KeepOnServer = true, MaxMessagesPerRun = messages,
            }, "benchmark", CancellationToken.None);
            accountId = account.Account!.Id;
        }

        var tokens = host.Services.GetRequiredService<ITokenProvider>();
        var source = TokenSource.Config((await host.Services.CreateScope().ServiceProvider.GetRequiredService<TokenAdminDb>().TokenConfigs.SingleAsync()).Id);
        var bareDirectory = Directory.CreateDirectory(Path.Combine(dataDirectory, "bare")).FullName;
        var fetcherTimes = new List<double>();
        var bareTimes = new List<double>();
        for (var round = 0; round <= rounds; round++)
        {
            // Round 0 warms both up (JIT, connection pools, Dovecot's caches) and is not counted.
            await ResetAsync(host.Services, accountId, dataDirectory, bareDirectory);
            var bare = await TimeAsync(() => BareLoopAsync(dovecot.ImapPort, tokens, source, bareDirectory, messages));
            await ResetAsync(host.Services, accountId, dataDirectory, bareDirectory);
            var fetcher = await TimeAsync(async () =>
            {
                using var scope = host.Services.CreateScope();
                var result = await scope.ServiceProvider.GetRequiredService<MailFetcher>().FetchAsync(accountId, CancellationToken.None);
                if (result.Stored != messages || result.Errors.Count > 0)
                {
                    throw new InvalidOperationException($"The fetcher stored {result.Stored} of {messages}: {result.Summary}");
                }
            });
            if (round > 0)
            {
                bareTimes.Add(bare);
                fetcherTimes.Add(fetcher);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round}{(round == 0 ? " (warm-up)" : "")}: bare loop {bare:F0} ms, fetcher {fetcher:F0} ms"));
        }

        var bareMedian = Median(bareTimes);
        var fetcherMedian = Median(fetcherTimes);
        var ratio = fetcherMedian / bareMedian;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{messages} messages, median of {rounds} rounds: bare MailKit loop {bareMedian:F0} ms ({messages / bareMedian * 1000:F0} msg/s), " +
            $"TokenAdmin fetcher {fetcherMedian:F0} ms ({messages / fetcherMedian * 1000:F0} msg/s), ratio {ratio:F2} (target ≤ 1.30): {(ratio <= 1.3 ? "met" : "NOT met")}"));
        try
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }

        return ratio <= 1.3 ? 0 : 1;
    }

    private static async Task BareLoopAsync(int port, ITokenProvider tokens, TokenSource source, string directory, int expected)
    {
        var token = await tokens.GetTokenAsync(source, CancellationToken.None);
        using var imap = new ImapClient();
        await imap.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None);
        await imap.AuthenticateAsync(new SaslMechanismOAuth2("alice", token.Value));
        await imap.Inbox.OpenAsync(FolderAccess.ReadWrite);
        var uids = await imap.Inbox.SearchAsync(SearchQuery.All);
        foreach (var uid in uids)
        {
            using var stream = await imap.Inbox.GetStreamAsync(uid, "");
            await using var file = File.Create(Path.Combine(directory, uid.Id.ToString(CultureInfo.InvariantCulture) + ".eml"));
            await stream.CopyToAsync(file);
        }

        await imap.Inbox.AddFlagsAsync(uids, MessageFlags.Seen, silent: true);
        await imap.DisconnectAsync(true);
        if (uids.Count != expected)
        {
            throw new InvalidOperationException($"The bare loop saw {uids.Count} of {expected} messages.");
        }
    }

    private static async Task ResetAsync(IServiceProvider services, int accountId, string dataDirectory, string bareDirectory)
    {
        using var scope = services.CreateScope();
        await scope.ServiceProvider.GetRequiredService<TokenAdminDb>().FetchedMessages.Where(m => m.MailAccountId == accountId).ExecuteDeleteAsync();
        scope.ServiceProvider.GetRequiredService<TokenAdmin.Mail.MailSpool>().DeleteAccount(accountId);
        foreach (var file in Directory.GetFiles(bareDirectory))
        {
            File.Delete(file);
        }
    }

    private static async Task<double> TimeAsync(Func<Task> run)
    {
        var watch = Stopwatch.StartNew();
        await run();
        return watch.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
