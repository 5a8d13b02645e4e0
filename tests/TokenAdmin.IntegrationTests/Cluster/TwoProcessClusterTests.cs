using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Alerts;
using TokenAdmin.Alerts.Channels;
using TokenAdmin.IntegrationTests.Infrastructure;
using TokenAdmin.Tests.Alerts;
using TokenAdmin.Refresh;
using TokenAdmin.Settings;
using TokenAdmin.Tests.Api;
using TokenAdmin.TokenProvider;
using Xunit.Abstractions;
using TokenAdmin.Tokens;

namespace TokenAdmin.IntegrationTests.Cluster;

/// <summary>
/// Two TokenAdmin processes on two loopback ports sharing one PostgreSQL database (started here from Debian's package),
/// the test identity provider rotating refresh tokens with 3 s access tokens and revoking a family on reuse. Tokens are
/// fetched the way another system does: the token broker of the incoming API. The config, the profile accepting the
/// test IdP's tokens and the schedule are set up through the services of an in-process host on the same database (its
/// scheduler is off, so it never runs the updater).
/// </summary>
public sealed class TwoProcessClusterTests(ITestOutputHelper output) : ApiTestBase
{
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(80);
    private static readonly string[] BrokerRole = ["broker"];
    private readonly List<TokenAdminProcess> _nodes = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(15) };
    private PostgresServer? _postgres;
    private Dictionary<string, string> _nodeSettings = [];

    public override async Task InitializeAsync()
    {
        _postgres = await PostgresServer.StartAsync();
        string connectionString;
        try
        {
            connectionString = await _postgres.CreateDatabaseAsync("tokenadmin_cluster");
        }
        catch
        {
            await _postgres.DisposeAsync();
            _postgres = null;
            throw;
        }

        _nodeSettings = new Dictionary<string, string>
        {
            ["TokenAdmin:Database:Provider"] = "Postgres",
            ["TokenAdmin:Database:ConnectionString"] = connectionString,
            ["TokenAdmin:MasterKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["TokenAdmin:TokenProvider:DefaultLeadTime"] = "00:00:01",
            ["TokenAdmin:TokenProvider:MaxStaleness"] = "00:00:01",
            ["TokenAdmin:Providers:Timeout"] = "00:00:05",
            // The hammer is many API calls from one address on purpose: the API's rate limits are not what it tests.
            ["TokenAdmin:Api:RateLimit:PerClientPerMinute"] = "1000000",
            ["TokenAdmin:Api:RateLimit:TotalPerMinute"] = "1000000",
        };
        foreach (var (key, value) in _nodeSettings)
        {
            App.Settings[key] = value;
        }

        // The test's own host only writes the shared database: the two node processes send the alerts.
        App.Settings["TokenAdmin:Alerts:DispatcherEnabled"] = "false";

        // The nodes run the updater on the clustered Quartz store, checking in every second; a node silent for 3 s is dead.
        _nodeSettings["TokenAdmin:TokenStoreUpdater:Enabled"] = "true";
        _nodeSettings["TokenAdmin:Cluster:CheckinInterval"] = "00:00:01";
        _nodeSettings["TokenAdmin:Cluster:CheckinMisfireThreshold"] = "00:00:03";
        try
        {
            await base.InitializeAsync();
        }
        catch (Exception failed)
        {
            // xUnit does not call DisposeAsync when InitializeAsync fails: the server started above is stopped here.
            try
            {
                await DisposeAsync();
            }
            catch (Exception cleanup) when (cleanup is NullReferenceException or InvalidOperationException or IOException)
            {
                throw new AggregateException(failed, cleanup);
            }

            throw;
        }
    }

    public override async Task DisposeAsync()
    {
        try
        {
            foreach (var node in _nodes)
            {
                await node.DisposeAsync();
            }

            _http.Dispose();
            await base.DisposeAsync();
        }
        finally
        {
            if (_postgres is not null)
            {
                await _postgres.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task TwoNodes_HammeredThroughTheBroker_NeverReuseARefreshToken_RunEachFireOnce_AndTheSurvivorCarriesOn()
    {
        // Setup on the shared database.
        await CreateApiProfileAsync();
        var id = await CreateConfigAsync("cluster-mailbox", change: d => d.SharedThroughApi = true);
        Assert.Equal(HttpStatusCode.Redirect, (await AuthorizeAsync(id)).StatusCode);
        var schedule = await App.Services.GetRequiredService<SettingsStore>().UpdateAsync(
            new Dictionary<string, string?> { [RefreshSettings.Schedule] = "* * * * *" }, "test", default);
        Assert.True(schedule.Succeeded);
        // Note: 3 s, as the provider rounds expires_in down (a 2 s token may be announced as 1 s).
        Idp.AccessTokenLifetime = TimeSpan.FromSeconds(3);
        await App.Services.GetRequiredService<ITokenProvider>().ForceRefreshAsync(TokenSource.Config(id), default);
        Idp.ResetCounters();
        var broker = Mint(c => c["roles"] = BrokerRole);

        var started = DateTime.UtcNow;
        var nodes = await Task.WhenAll(TokenAdminProcess.StartAsync(settings: _nodeSettings), TokenAdminProcess.StartAsync(settings: _nodeSettings));
        _nodes.AddRange(nodes);
        var (nodeA, nodeB) = (nodes[0], nodes[1]);

        // 1. Both nodes hammered for at least 20 s, and on until the schedule has fired once with both alive.
        var failures = new ConcurrentQueue<string>();
        var stats = new HammerStats();
        var both = Stopwatch.StartNew();
        await HammerAsync([nodeA, nodeB], broker, failures, stats, async () =>
            both.Elapsed > TimeSpan.FromSeconds(20) && await ScheduledRunsAsync(started) is { Count: > 0 } || both.Elapsed > Bounded);
        var runsWithBoth = await ScheduledRunsAsync(started);
        Assert.True(runsWithBoth.Count > 0, $"The schedule (every minute) did not fire within {Bounded.TotalSeconds} s with both nodes up.");
        var handedOutByBoth = stats.HandedOut;
        Assert.True(failures.IsEmpty, string.Join('\n', failures.Take(20)));

        // 2. Node A is killed (SIGKILL, by PID) while B serves on; B hammered until the schedule fires again, now on B alone.
        // Note: 3 s after the run's row appeared, so that Quartz has recorded the fire as complete on A; a node killed
        // between the end of the job and that record has its run done again by the survivor (RequestRecovery).
        await Task.Delay(TimeSpan.FromSeconds(3));
        await nodeA.KillAsync();
        var killed = DateTime.UtcNow;
        // The first fire the survivor alone owns: the next whole minute after the kill.
        var nextFire = new DateTime(killed.Year, killed.Month, killed.Day, killed.Hour, killed.Minute, 0, DateTimeKind.Utc).AddMinutes(1);
        var alone = Stopwatch.StartNew();
        await HammerAsync([nodeB], broker, failures, stats, async () =>
            alone.Elapsed > TimeSpan.FromSeconds(10) && (await ScheduledRunsAsync(nextFire)).Count > 0 || alone.Elapsed > Bounded);
        var runsAfterKill = await ScheduledRunsAsync(nextFire);

        Assert.True(failures.IsEmpty, string.Join('\n', failures.Take(20)));
        Assert.Equal(0, Idp.RefreshTokenReuseCount);
        Assert.True(stats.HandedOut - handedOutByBoth > 100, $"node B alone handed out only {stats.HandedOut - handedOutByBoth} tokens");
        Assert.True(stats.CheckedAtProvider > 10, $"only {stats.CheckedAtProvider} tokens were checked at the provider");
        var refreshes = Idp.TokenRequestsByGrantType.GetValueOrDefault("refresh_token");
        Assert.True(refreshes >= 8, $"only {refreshes} refreshes: the hammer did not span several refresh cycles");
        Assert.True(runsAfterKill.Count > 0, $"The schedule did not fire on the surviving node within {Bounded.TotalSeconds} s of the kill.");

        // One updater execution per fire across the cluster: one "schedule" run per minute, none failed.
        var all = await ScheduledRunsAsync(started);
        var perFire = all.GroupBy(r => new DateTime(r.StartedAt.Year, r.StartedAt.Month, r.StartedAt.Day, r.StartedAt.Hour, r.StartedAt.Minute, 0, DateTimeKind.Utc)).ToList();
        Assert.All(perFire, fire => Assert.True(fire.Count() == 1, $"{fire.Count()} runs for the fire of {fire.Key:HH:mm} (node A killed at {killed:HH:mm:ss.fff}): "
            + string.Join(", ", fire.Select(r => $"{r.StartedAt:HH:mm:ss.fff}-{r.FinishedAt:HH:mm:ss.fff}"))));
        Assert.All(all, run => Assert.Equal(0, run.Failed));

        output.WriteLine($"{stats.HandedOut} tokens handed out ({handedOutByBoth} by both nodes, the rest by B after the kill), "
            + $"{stats.CheckedAtProvider} checked at the provider, {refreshes} refreshes, 0 reuses; scheduled runs: "
            + string.Join(", ", all.OrderBy(r => r.StartedAt).Select(r => $"{r.StartedAt:HH:mm:ss.fff}-{r.FinishedAt:HH:mm:ss.fff} (refreshed {r.Refreshed}, skipped {r.Skipped})"))
            + $"; killed node A at {killed:HH:mm:ss}; phases {both.Elapsed.TotalSeconds:0} s + {alone.Elapsed.TotalSeconds:0} s");

        // The family is intact: the token the survivor hands out now is accepted by the provider.
        var last = await BrokerAsync(nodeB, broker);
        Assert.Equal(HttpStatusCode.OK, await UserInfoStatusAsync(last.AccessToken));
    }

    [Fact]
    public async Task TwoNodes_ShareOneOutbox_AndTheWebhookGetsEachEventIdExactlyOnce()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using (var scope = App.Services.CreateScope())
        {
            var created = await scope.ServiceProvider.GetRequiredService<AlertChannelService>().CreateAsync(
                new AlertChannelInput { Name = "ops", Kind = AlertChannelKind.Webhook, Target = receiver.Url, Secret = receiver.Secret }, "test", default);
            Assert.True(created.Succeeded, string.Join("; ", created.Errors.Values));
        }

        var nodes = await Task.WhenAll(TokenAdminProcess.StartAsync(settings: _nodeSettings), TokenAdminProcess.StartAsync(settings: _nodeSettings));
        _nodes.AddRange(nodes);

        // 40 alerts written to the shared outbox in bursts, as state changes do; both nodes poll it every second.
        const int Count = 40;
        var outbox = App.Services.GetRequiredService<AlertOutbox>();
        var ids = new List<string>();
        for (var burst = 0; burst < 4; burst++)
        {
            ids.AddRange(await App.WithDbAsync(async db =>
            {
                var added = Enumerable.Range(0, Count / 4).Select(i => outbox.Add(db, new AlertSubject("TokenConfig", i, $"source-{burst}-{i}", null),
                    AlertTypes.SourceFailing, AlertConditions.Failing, "Cluster test.", DateTime.UtcNow)).ToList();
                await db.SaveChangesAsync();
                return added.Select(a => a.EventId).ToList();
            }));
            await Task.Delay(TimeSpan.FromMilliseconds(700));
        }

        var accepted = await receiver.WaitForAsync(Count, Bounded);
        await Task.Delay(TimeSpan.FromSeconds(3)); // a second delivery, if any, would arrive meanwhile

        Assert.Equal(ids.Order(StringComparer.Ordinal), accepted.Select(a => a.GetProperty("id").GetString()!).Order(StringComparer.Ordinal));
        Assert.Equal(0, receiver.Duplicates);
        Assert.Equal(0, receiver.BadSignatures);
        Assert.Equal(Count, receiver.Attempts.Count);
        var deliveries = await App.WithDbAsync(db => db.AlertDeliveries.AsNoTracking().ToListAsync());
        Assert.Equal(Count, deliveries.Count); // one fan-out per alert, not one per node
        Assert.All(deliveries, d => Assert.Equal((AlertDeliveryStatus.Sent, 1), (d.Status, d.Attempts)));
        output.WriteLine($"{Count} alerts, {receiver.Attempts.Count} webhook requests, {deliveries.Count} deliveries, all sent once.");
    }

    private sealed class HammerStats
    {
        private int _handedOut;
        private int _checked;

        public int HandedOut => _handedOut;
        public int CheckedAtProvider => _checked;

        public int AddHandedOut() => Interlocked.Increment(ref _handedOut);

        public void AddChecked() => Interlocked.Increment(ref _checked);
    }

    private sealed record Brokered(HttpStatusCode Status, string AccessToken, DateTimeOffset ExpiresAt, string Body);

    /// <summary>Four callers per node until <paramref name="done"/> says so (checked every 250 ms).</summary>
    private async Task HammerAsync(TokenAdminProcess[] targets, string broker, ConcurrentQueue<string> failures, HammerStats stats, Func<Task<bool>> done)
    {
        using var stop = new CancellationTokenSource();
        var callers = Enumerable.Range(0, targets.Length * 4).Select(i => Task.Run(async () =>
        {
            var node = targets[i % targets.Length];
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    // Note: measured from the moment of asking, not of the answer: a node (or this test process) that the
                    // two busy cores leave waiting for a second between its decision and the answer hands out nothing wrong.
                    // A node decides after the ask, with its coarse clock at most 250 ms behind: a token handed out has
                    // more than the 1 s lead time minus 250 ms left from the ask; 500 ms is the bound with room for scheduling.
                    var asked = DateTimeOffset.UtcNow;
                    var brokered = await BrokerAsync(node, broker);
                    if (brokered.Status != HttpStatusCode.OK)
                    {
                        failures.Enqueue($"node on port {node.Port}: {(int)brokered.Status} {brokered.Body}");
                    }
                    else if (brokered.ExpiresAt - asked < TimeSpan.FromMilliseconds(500))
                    {
                        failures.Enqueue($"node on port {node.Port}, asked at {asked:O}, handed out a token that expires at {brokered.ExpiresAt:O}, within its lead time");
                    }
                    else if (stats.AddHandedOut() % 50 == 0 && brokered.ExpiresAt - DateTimeOffset.UtcNow > TimeSpan.FromSeconds(1.5))
                    {
                        // A sample checked at the provider: a token of a revoked family, or a made-up one, is refused there.
                        var status = await UserInfoStatusAsync(brokered.AccessToken);
                        if (status != HttpStatusCode.OK)
                        {
                            failures.Enqueue($"node on port {node.Port} handed out a token the provider refuses ({(int)status})");
                        }

                        stats.AddChecked();
                    }
                }
                catch (HttpRequestException ex)
                {
                    failures.Enqueue($"node on port {node.Port}: {ex.Message}");
                }
                catch (TaskCanceledException ex)
                {
                    failures.Enqueue($"node on port {node.Port}: timed out ({ex.Message})");
                }

                await Task.Delay(5);
            }
        })).ToList();
        while (!await done())
        {
            await Task.Delay(250);
        }

        await stop.CancelAsync();
        await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(30));
    }

    private async Task<Brokered> BrokerAsync(TokenAdminProcess node, string broker)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(node.BaseAddress, "api/v1/token-configs/cluster-mailbox/token"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", broker);
        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return new Brokered(response.StatusCode, "", default, body);
        }

        var json = JsonDocument.Parse(body).RootElement;
        return new Brokered(response.StatusCode, json.GetProperty("access_token").GetString()!,
            DateTimeOffset.Parse(json.GetProperty("expires_at").GetString()!, CultureInfo.InvariantCulture), "");
    }

    private async Task<HttpStatusCode> UserInfoStatusAsync(string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Idp.UserInfoEndpoint);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await _http.SendAsync(request);
        return response.StatusCode;
    }

    private Task<List<Refresh.UpdaterRun>> ScheduledRunsAsync(DateTime since) =>
        App.WithDbAsync(db => db.UpdaterRuns.AsNoTracking().Where(r => r.TriggeredBy == "schedule" && r.StartedAt >= since).ToListAsync());
}
