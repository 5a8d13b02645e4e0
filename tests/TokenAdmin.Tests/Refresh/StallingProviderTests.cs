using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Refresh;

/// <summary>
/// One provider that stalls after sending its headers holds up no other token: the updater run ends within the
/// deadline with that source failed, and the sources on a healthy provider are refreshed in the same run.
/// </summary>
public sealed class StallingProviderTests : UpdaterTestBase
{
    protected override bool SchedulerEnabled => false;

    private const string Tokens = """{"access_token":"first-access","token_type":"Bearer","expires_in":3600,"refresh_token":"first-refresh"}""";

    public override async Task InitializeAsync()
    {
        // Each attempt may take longer than the whole exchange: the deadline is what ends a stalled answer.
        App.Settings["TokenAdmin:Providers:Timeout"] = "00:00:10";
        // Note: short, yet long enough for the test provider on a busy machine: it must answer within it too.
        App.Settings["TokenAdmin:Providers:Deadline"] = "00:00:04";
        App.Settings["TokenAdmin:Providers:Retries"] = "0";
        App.Settings["TokenAdmin:TokenStoreUpdater:SourceDeadline"] = "00:00:08";
        await base.InitializeAsync();
    }

    [Theory]
    [InlineData("silent")]
    [InlineData("trickle")]
    public async Task Run_OneProviderStallsAfterTheHeaders_FailsThoseSourcesAtTheDeadline_AndRefreshesTheOthers(string stall)
    {
        // Arrange: on the stalling provider a config with a refresh token (batch path) and a client-credentials config
        // (one by one, through the token provider); the same two kinds on the healthy test provider.
        await using var stalling = await MisbehavingServer.StartAsync();
        stalling.On("/token", MisbehavingServer.Json(Tokens));
        var stuckCode = await CreateConfigAsync("stuck-code", change: d => { d.Endpoints.Token = stalling.Url("/token"); d.Scope = "mail"; });
        await Browser.GetAsync(await SignInAtProviderAsync(await StartAuthorizationAsync(stuckCode)));
        var stuckClient = await CreateConfigAsync("stuck-client", TokenFlows.ClientCredentials, d => d.Endpoints.Token = stalling.Url("/token"));
        Assert.True((await RequestAsync(stuckClient)).Succeeded);
        var healthyCode = await AuthorizedConfigAsync("healthy-code");
        var healthyClient = await ClientCredentialsConfigWithTokenAsync("healthy-client");
        foreach (var id in new[] { stuckCode, stuckClient, healthyCode, healthyClient })
        {
            await ChangeStateAsync(id, s => s.AccessTokenExpiresAt = Now.AddMinutes(-1));
        }

        stalling.On("/token", stall == "silent" ? MisbehavingServer.SilentAfterHeaders() : MisbehavingServer.TrickleAfterHeaders(TimeSpan.FromSeconds(0.5)));
        var clock = Stopwatch.StartNew();

        // Act
        var summary = await RunUpdaterAsync().WaitAsync(Bounded);

        // Assert
        clock.Stop();
        // The batches wait for the provider's deadline (4 s), then the one-by-one path for the source's (8 s at most):
        // far below "for ever", with room for a busy machine.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the run took {clock.Elapsed}");
        Assert.Equal(["healthy-client", "healthy-code"], summary.Refreshed.Select(r => r.Name));
        Assert.Equal(["stuck-client", "stuck-code"], summary.Failed.Select(f => f.Name));
        Assert.All(summary.Failed, f => Assert.Contains("did not answer within 4 seconds", f.Message, StringComparison.Ordinal));
        Assert.Equal("timeout", (await StateAsync(stuckCode))!.LastErrorCode);
        Assert.Equal("timeout", (await StateAsync(stuckClient))!.LastErrorCode);
        Assert.True((await StateAsync(healthyCode))!.AccessTokenExpiresAt > Now.AddMinutes(30));
        Assert.True((await StateAsync(healthyClient))!.AccessTokenExpiresAt > Now.AddMinutes(30));
    }

    [Fact]
    public async Task Run_ASourceStuckLongerThanItsDeadline_IsReportedAsTimedOut_AndTheRunGoesOn()
    {
        // Arrange: another process holds the lease of one refresh token's row far beyond the source deadline.
        var leased = await AuthorizedConfigAsync("leased");
        var other = await ClientCredentialsConfigWithTokenAsync("other");
        await ChangeStateAsync(leased, s => (s.AccessTokenExpiresAt, s.LeaseOwner, s.LeaseUntil) = (Now.AddMinutes(-1), "another-node", Now.AddMinutes(1)));
        await ChangeStateAsync(other, s => s.AccessTokenExpiresAt = Now.AddMinutes(-1));
        var clock = Stopwatch.StartNew();

        // Act
        var summary = await RunUpdaterAsync().WaitAsync(Bounded);

        // Assert
        clock.Stop();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the run took {clock.Elapsed}");
        Assert.Equal(["other"], summary.Refreshed.Select(r => r.Name));
        Assert.Equal("leased", Assert.Single(summary.Failed).Name);
    }

    private async Task<TokenOperationResult> RequestAsync(int id)
    {
        using var scope = App.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<TokenEngine>().RequestAsync(TokenAdmin.Tokens.TokenSource.Config(id), "test", default);
    }
}
