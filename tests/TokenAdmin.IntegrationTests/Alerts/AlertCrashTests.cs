using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Alerts;
using TokenAdmin.Alerts.Channels;
using TokenAdmin.IntegrationTests.Infrastructure;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Alerts;
using TokenAdmin.Tests.Api;
using TokenAdmin.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TokenAdmin.IntegrationTests.Alerts;

/// <summary>
/// A real TokenAdmin process commits a state change with its alert, starts delivering it, and dies (SIGKILL) before
/// the receiver has answered. A restarted process delivers the alert, and the receiver has it exactly once.
/// </summary>
public sealed class AlertCrashTests(ITestOutputHelper output) : ApiTestBase
{
    private const string Name = "crash-alerts";
    private static readonly string[] RefresherRole = ["refresher"];
    private readonly string _masterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private readonly List<TokenAdminProcess> _processes = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private WebhookReceiver _receiver = null!;

    public override async Task InitializeAsync()
    {
        if (!TestDatabase.IsPostgres)
        {
            App.Settings["TokenAdmin:MasterKey"] = _masterKey;
        }

        // The in-process host (the admin's browser here) sends no alerts: only the real processes do.
        App.Settings["TokenAdmin:Alerts:DispatcherEnabled"] = "false";
        _receiver = await WebhookReceiver.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        _http.Dispose();
        await base.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task ProcessKilledWhileDelivering_RestartedProcessDeliversTheAlert_ExactlyOnce()
    {
        await CreateApiProfileAsync();
        using (var scope = App.Services.CreateScope())
        {
            var created = await scope.ServiceProvider.GetRequiredService<AlertChannelService>().CreateAsync(
                new AlertChannelInput { Name = "ops", Kind = AlertChannelKind.Webhook, Target = _receiver.Url, Secret = _receiver.Secret }, "test", default);
            Assert.True(created.Succeeded, string.Join("; ", created.Errors.Values));
        }

        var id = await CreateConfigAsync(Name);
        Assert.Equal(System.Net.HttpStatusCode.Redirect, (await AuthorizeAsync(id)).StatusCode);

        // 1. Process A renews the token; the provider refuses the refresh token: A commits "dead" with its alert and
        //    starts delivering it; the receiver holds that request unanswered.
        _receiver.Fault = (_, cancellationToken) => Task.Delay(Timeout.Infinite, cancellationToken);
        Idp.Faults.TokenEndpoint = TokenEndpointFault.InvalidGrant;
        var nodeA = await StartNodeAsync();
        var answer = await CallApiAsync(nodeA, HttpMethod.Post, $"api/v1/token-configs/{Name}/refresh", Mint(c => c["roles"] = RefresherRole));
        output.WriteLine($"A's refresh answered: {answer}");
        await WaitAsync(() => Task.FromResult(_receiver.Attempts.Count == 1), "process A to start delivering the alert");
        var inFlight = await App.WithDbAsync(db => db.AlertDeliveries.AsNoTracking().Include(d => d.Event).SingleAsync());
        Assert.Equal(AlertDeliveryStatus.Pending, inFlight.Status);
        Assert.NotNull(inFlight.LeaseOwner);
        Assert.Equal(AlertTypes.SourceDead, inFlight.Event!.Type);

        // 2. A dies (SIGKILL by its PID) before the receiver answered: nothing recorded the delivery.
        await nodeA.KillAsync();
        _receiver.Fault = null;

        // 3. A restarted process sends it: the dead sender's lease is given back at once, not after it ends.
        var nodeB = await StartNodeAsync();
        var received = await _receiver.WaitForAsync(1, TimeSpan.FromSeconds(30));
        Assert.Equal(inFlight.Event.EventId, Assert.Single(received).GetProperty("id").GetString());
        await WaitAsync(async () => (await App.WithDbAsync(db => db.AlertDeliveries.AsNoTracking().SingleAsync())).Status == AlertDeliveryStatus.Sent,
            "process B to record the delivery");

        // A few more polls of B send nothing more.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(2, _receiver.Attempts.Count);
        Assert.Single(received);
        Assert.Equal(0, _receiver.Duplicates);
        Assert.Equal(1, await App.WithDbAsync(db => db.AlertEvents.CountAsync(e => e.Type == AlertTypes.SourceDead)));
        var delivery = await App.WithDbAsync(db => db.AlertDeliveries.AsNoTracking().SingleAsync());
        Assert.Equal(1, delivery.Attempts);
        Assert.Null(delivery.LeaseOwner);
        Assert.Contains("sent to channel 'ops'", nodeB.Output, StringComparison.Ordinal);
    }

    private async Task<TokenAdminProcess> StartNodeAsync()
    {
        var settings = TestDatabase.IsPostgres
            ? TestDatabase.Settings(App.DataDirectory).ToDictionary(s => s.Key, s => s.Value!)
            : new Dictionary<string, string>
            {
                ["TokenAdmin:Database:ConnectionString"] = $"Data Source={App.DatabasePath};Pooling=True",
                ["TokenAdmin:MasterKey"] = _masterKey,
            };
        settings["TokenAdmin:TokenStoreUpdater:Enabled"] = "false";
        // Longer than the test: A's delivery is still open when A dies.
        settings["TokenAdmin:Alerts:DeliveryTimeout"] = "00:02:00";
        var process = await TokenAdminProcess.StartAsync(settings: settings);
        _processes.Add(process);
        return process;
    }

    private async Task<string> CallApiAsync(TokenAdminProcess node, HttpMethod method, string path, string bearer)
    {
        using var request = new HttpRequestMessage(method, new Uri(node.BaseAddress, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await _http.SendAsync(request);
        return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
    }

    private static async Task WaitAsync(Func<Task<bool>> probe, string what)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!await probe())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"Waited 30 s for {what}.");
            await Task.Delay(100);
        }
    }
}
