using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Refresh;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.Tests.Refresh;

/// <summary>`jobs run token-store-updater` against the app's data directory and the test provider.</summary>
public sealed class JobVerbTests : UpdaterTestBase
{
    protected override bool SchedulerEnabled => false;

    private Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) => ConsoleVerbs.RunAsync(App.DataDirectory, "", args);

    [Fact]
    public async Task JobsRun_RefreshesTheDueConfigs_PrintsTheSummary_AndRecordsTheRun()
    {
        var due = await AuthorizedConfigAsync("mailbox");
        var fresh = await AuthorizedConfigAsync("fresh");
        await ChangeStateAsync(due, s => s.AccessTokenExpiresAt = Now.AddMinutes(1));
        await ChangeStateAsync(fresh, s => s.AccessTokenExpiresAt = Now.AddDays(1));
        Idp.ResetCounters();

        var (exit, output, error) = await RunAsync("jobs", "run", "token-store-updater");

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.Matches(@"^Token store updater: refreshed 1, failed 0, skipped 1 in [0-9.]+ s\.\n", output);
        Assert.Contains("  refreshed  mailbox: access token expires", output, StringComparison.Ordinal);
        Assert.Contains("  skipped    fresh: not due: access token valid until", output, StringComparison.Ordinal);
        Assert.Equal(1, Idp.TokenRequestsByGrantType["refresh_token"]);
        Assert.True((await StateAsync(due))!.AccessTokenExpiresAt > Now.AddMinutes(30));
        var run = Assert.Single(await App.Services.GetRequiredService<UpdaterRunLog>().RecentAsync(default));
        Assert.Equal("console", run.TriggeredBy);
    }

    [Fact]
    public async Task JobsRun_ExitsOne_WhenATokenConfigCouldNotBeRefreshed()
    {
        var due = await AuthorizedConfigAsync("mailbox");
        await ChangeStateAsync(due, s => s.AccessTokenExpiresAt = Now.AddMinutes(-1));
        Idp.Faults.TokenEndpoint = TokenEndpointFault.InvalidGrant;

        var (exit, output, error) = await RunAsync("jobs", "run", "token-store-updater");

        Assert.Equal(1, exit);
        Assert.Contains("refreshed 0, failed 1, skipped 0", output, StringComparison.Ordinal);
        Assert.Contains("  failed     mailbox (RefreshTokenRevoked): ", error, StringComparison.Ordinal);
        Assert.Contains("invalid_grant", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JobsRun_Help_AndUnknownJob()
    {
        var help = await RunAsync("jobs", "run", "token-store-updater", "--help");
        var unknown = await RunAsync("jobs", "run", "mail-fetcher");
        var group = await RunAsync("jobs");

        Assert.Equal(0, help.Exit);
        Assert.Contains("Usage:\n  TokenAdmin jobs run token-store-updater", help.Out, StringComparison.Ordinal);
        Assert.Equal(2, unknown.Exit);
        Assert.Contains("Unrecognized command or argument 'mail-fetcher'", unknown.Err, StringComparison.Ordinal);
        Assert.Equal(2, group.Exit);
        Assert.Contains("Usage:\n  TokenAdmin jobs [command] [options]", group.Out, StringComparison.Ordinal);
        Assert.Contains("run", group.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigUpdate_RejectsABadSchedule_WithTheFieldNamed()
    {
        var bad = await RunAsync("config", "update", "--setting-name", "TokenStoreUpdater.Schedule", "--value", "0 0 * * 8");
        var good = await RunAsync("config", "update", "--setting-name", "TokenStoreUpdater.Schedule", "--value", "*/15 * * * *");

        Assert.Equal(1, bad.Exit);
        Assert.Contains("the day-of-week field (5th) '8' has 8, which is out of range", bad.Err, StringComparison.Ordinal);
        Assert.Equal(0, good.Exit);
    }
}
