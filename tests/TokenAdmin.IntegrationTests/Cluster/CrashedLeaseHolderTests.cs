using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using TokenAdmin.IntegrationTests.Infrastructure;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Api;
using TokenAdmin.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TokenAdmin.IntegrationTests.Cluster;

/// <summary>
/// A real TokenAdmin process that dies (SIGKILL) while it holds a token's refresh lease: its refresh hangs at the test
/// provider's token endpoint, which rotates refresh tokens and revokes the whole family when a spent one comes back.
/// The in-process host on the same database plays the admin's browser (Refresh click) next to it.
/// </summary>
public sealed class CrashedLeaseHolderTests(ITestOutputHelper output) : ApiTestBase
{
    private const string Name = "crash-mailbox";
    private static readonly string[] RefresherRole = ["refresher"];
    // Note: the lease's bounded wait for a live holder (5 s) and some slack for a machine busy with other builds.
    private static readonly TimeSpan ClickBound = TimeSpan.FromSeconds(10);
    private readonly string _masterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private readonly List<TokenAdminProcess> _processes = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(90) };

    public override async Task InitializeAsync()
    {
        if (!TestDatabase.IsPostgres)
        {
            // Both hosts read the secrets the other wrote: one master key (the key ring is in the shared database).
            App.Settings["TokenAdmin:MasterKey"] = _masterKey;
        }

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
    }

    [Fact]
    public async Task ProcessKilledWhileRefreshing_NextClickAndApiCallAnswerWithinSeconds_AndNoRefreshTokenIsSpentTwice()
    {
        await CreateApiProfileAsync();
        var id = await CreateConfigAsync(Name);
        Assert.Equal(HttpStatusCode.Redirect, (await AuthorizeAsync(id)).StatusCode);
        var before = (await StateAsync(id))!;
        var refresher = Mint(c => c["roles"] = RefresherRole);
        Idp.ResetCounters();

        // 1. Process A refreshes through the API; the provider holds the request (it has not spent the refresh token).
        Idp.Faults.HangDuration = TimeSpan.FromSeconds(80);
        Idp.Faults.FailNextTokenRequests(TokenEndpointFault.Hang, 1);
        var nodeA = await StartNodeAsync();
        var hanging = RefreshThroughApiAsync(nodeA, refresher);
        var lease = await WaitForAsync(async () => (await StateAsync(id))?.LeaseOwner is { } owner && Idp.Faults.FaultedTokenRequests == 1 ? owner : null,
            TimeSpan.FromSeconds(30), "process A to take the lease and reach the token endpoint");

        // 2. While A lives, a Refresh click elsewhere answers within seconds with who holds the lease, and sends nothing.
        var (busyPage, busyTook) = await ClickRefreshAsync(id);
        Assert.True(busyTook < ClickBound, $"the click next to a live holder took {busyTook}");
        Assert.Matches(
            $@"A refresh of '{Name}' is in progress on node {Regex.Escape(Environment.MachineName)} \(process {nodeA.ProcessId}\), started at \d\d:\d\d:\d\d UTC; try again in \d+ s\.",
            busyPage);
        Assert.Equal(1, Idp.TokenRequestCount);

        // 3. A dies with the lease (SIGKILL by its PID): its request to the provider is cut off unanswered.
        await nodeA.KillAsync();
        Assert.True(nodeA.HasExited);
        var cutOff = await hanging;
        output.WriteLine($"process A ({nodeA.ProcessId}) killed; its API call ended with: {cutOff}");
        Assert.Equal(lease, (await StateAsync(id))!.LeaseOwner); // the lease outlives its holder, for up to 2 minutes

        // 4. A restarted process (a new PID) refreshes through the API at once: it takes over the dead process's lease.
        var nodeB = await StartNodeAsync();
        // A first API call warms the new process up (bearer validation fetches the provider's keys), so that the
        // measured call below shows the lease, not the start-up.
        Assert.StartsWith("200", await CallApiAsync(nodeB, HttpMethod.Get, "api/v1/tokens", Mint()), StringComparison.Ordinal);
        var watch = Stopwatch.StartNew();
        var refreshed = await RefreshThroughApiAsync(nodeB, refresher);
        var apiTook = watch.Elapsed;
        Assert.True(refreshed.StartsWith("200", StringComparison.Ordinal), refreshed);
        Assert.True(apiTook < ClickBound, $"the API refresh after the crash took {apiTook}");
        Assert.Contains($"Took over the refresh lease of process {nodeA.ProcessId}", nodeB.Output, StringComparison.Ordinal);

        // 5. And a Refresh click refreshes again, at once.
        var (page, took) = await ClickRefreshAsync(id);
        Assert.True(took < ClickBound, $"the click after the crash took {took}");
        Assert.Contains($"Token for '{Name}' refreshed", page, StringComparison.Ordinal);

        var after = (await StateAsync(id))!;
        Assert.Null(after.LeaseOwner);
        Assert.True(after.LastRefreshAt > before.LastRefreshAt);
        Assert.NotEqual(Unprotect(before.RefreshTokenProtected!), Unprotect(after.RefreshTokenProtected!));
        Assert.Equal(0, Idp.RefreshTokenReuseCount);
        Assert.Null(after.RefreshTokenRevokedAt);
        output.WriteLine($"live holder answered in {busyTook.TotalMilliseconds:0} ms; after the kill the API answered in {apiTook.TotalMilliseconds:0} ms, "
            + $"the click in {took.TotalMilliseconds:0} ms; {Idp.TokenRequestsByGrantType.GetValueOrDefault("refresh_token")} refresh requests, 0 reuses");
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
        // The provider's hang must outlast the kill, so A's request is still open when A dies.
        settings["TokenAdmin:Providers:Timeout"] = "00:01:30";
        settings["TokenAdmin:TokenStoreUpdater:Enabled"] = "false";
        var process = await TokenAdminProcess.StartAsync(settings: settings);
        _processes.Add(process);
        return process;
    }

    /// <summary>POST /api/v1/token-configs/{name}/refresh; the status and body, or how the call failed (a killed process).</summary>
    private Task<string> RefreshThroughApiAsync(TokenAdminProcess node, string bearer) =>
        CallApiAsync(node, HttpMethod.Post, $"api/v1/token-configs/{Name}/refresh", bearer);

    private async Task<string> CallApiAsync(TokenAdminProcess node, HttpMethod method, string path, string bearer)
    {
        using var request = new HttpRequestMessage(method, new Uri(node.BaseAddress, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        try
        {
            using var response = await _http.SendAsync(request);
            return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return ex.GetType().Name + ": " + ex.Message;
        }
    }

    /// <summary>The Refresh button on the token's page (in-process host), and the page the redirect leads to.</summary>
    private async Task<(string Page, TimeSpan Took)> ClickRefreshAsync(int id)
    {
        var watch = Stopwatch.StartNew();
        // Note: bounded here, as the old lease made a click wait for about 2 minutes.
        var response = await Browser.PostFormAsync($"/tokens/details/{id}?handler=Refresh", [], formPage: $"/tokens/details/{id}")
            .WaitAsync(TimeSpan.FromSeconds(30));
        var took = watch.Elapsed;
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return (WebUtility.HtmlDecode(await Browser.GetStringAsync(response.Headers.Location)), took);
    }

    private static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe, TimeSpan bound, string what)
        where T : class
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < bound)
        {
            if (await probe() is { } found)
            {
                return found;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Waited {bound.TotalSeconds} s for {what}.");
    }
}
