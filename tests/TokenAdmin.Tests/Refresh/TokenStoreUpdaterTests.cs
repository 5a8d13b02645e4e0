using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Refresh;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Refresh;

/// <summary>Runs of the updater in-process, with the scheduler off so that only the test's runs happen.</summary>
public sealed class TokenStoreUpdaterTests : UpdaterTestBase
{
    protected override bool SchedulerEnabled => false;

    private static void Microsoft90Days(TokenConfigDocument d)
    {
        d.RefreshToken.LifetimeDays = 90;
        d.RefreshToken.Sliding = true;
    }

    [Fact]
    public async Task Run_RefreshesExactlyTheDueConfigs_AndSkipsTheRest()
    {
        // Arrange: the default schedule runs hourly, so the next run is at most an hour (plus a 5 minute margin) away.
        var dueAccess = await AuthorizedConfigAsync("due-access");
        var fresh = await AuthorizedConfigAsync("fresh");
        var idle = await AuthorizedConfigAsync("idle", Microsoft90Days);
        var idleOk = await AuthorizedConfigAsync("idle-ok", Microsoft90Days);
        var revoked = await AuthorizedConfigAsync("revoked");
        var refreshExpired = await AuthorizedConfigAsync("rt-expired");
        var disabled = await AuthorizedConfigAsync("disabled");
        var never = await CreateConfigAsync("never");
        var ccDue = await ClientCredentialsConfigWithTokenAsync("cc-due");
        var ccNever = await CreateConfigAsync("cc-never", TokenFlows.ClientCredentials);

        await ChangeStateAsync(dueAccess, s => s.AccessTokenExpiresAt = Now.AddMinutes(2));
        await ChangeStateAsync(fresh, s => s.AccessTokenExpiresAt = Now.AddDays(1));
        await ChangeStateAsync(idle, s =>
        {
            s.AccessTokenExpiresAt = Now.AddDays(2);
            s.ObtainedAt = s.LastRefreshAt = Now.AddDays(-85);
            s.RefreshTokenExpiresAt = Now.AddDays(5);
            s.RefreshTokenExpiryEstimated = true;
        });
        await ChangeStateAsync(idleOk, s =>
        {
            s.AccessTokenExpiresAt = Now.AddDays(2);
            s.ObtainedAt = s.LastRefreshAt = Now.AddDays(-10);
            s.RefreshTokenExpiresAt = Now.AddDays(80);
            s.RefreshTokenExpiryEstimated = true;
        });
        await ChangeStateAsync(revoked, s => (s.AccessTokenExpiresAt, s.RefreshTokenRevokedAt, s.LastErrorCode) = (Now.AddMinutes(-1), Now.AddHours(-1), "invalid_grant"));
        await ChangeStateAsync(refreshExpired, s => (s.AccessTokenExpiresAt, s.RefreshTokenExpiresAt) = (Now.AddMinutes(-1), Now.AddMinutes(-30)));
        await ChangeStateAsync(disabled, s => s.AccessTokenExpiresAt = Now.AddMinutes(-1));
        await App.WithDbAsync(db => db.TokenConfigs.Where(c => c.Id == disabled).ExecuteUpdateAsync(c => c.SetProperty(x => x.Valid, false)));
        await ChangeStateAsync(ccDue, s => s.AccessTokenExpiresAt = Now.AddMinutes(1));
        var before = await App.WithDbAsync(db => db.TokenStates.AsNoTracking().Where(s => s.TokenConfigId != null).ToDictionaryAsync(s => s.TokenConfigId!.Value, s => s.LastRefreshAt));
        Idp.ResetCounters();

        // Act
        var summary = await RunUpdaterAsync();

        // Assert
        Assert.Equal(["cc-due", "due-access", "idle"], summary.Refreshed.Select(r => r.Name));
        Assert.Empty(summary.Failed);
        Assert.Equal(["cc-never", "disabled", "fresh", "idle-ok", "never", "revoked", "rt-expired"], summary.Skipped.Select(s => s.Name));
        Assert.Equal(2, Idp.TokenRequestsByGrantType["refresh_token"]);
        Assert.Equal(1, Idp.TokenRequestsByGrantType["client_credentials"]);
        Assert.Equal(3, Idp.TokenRequestCount);

        var after = await App.WithDbAsync(db => db.TokenStates.AsNoTracking().Where(s => s.TokenConfigId != null).ToDictionaryAsync(s => s.TokenConfigId!.Value));
        foreach (var id in new[] { dueAccess, idle, ccDue })
        {
            Assert.True(after[id].LastRefreshAt > before[id], $"config {id} was not refreshed");
            Assert.True(after[id].AccessTokenExpiresAt > Now.AddMinutes(30));
        }

        foreach (var id in new[] { fresh, idleOk, revoked, refreshExpired, disabled })
        {
            Assert.Equal(before[id], after[id].LastRefreshAt);
        }

        Assert.False(after.ContainsKey(never) || after.ContainsKey(ccNever));
        Assert.True(after[idle].RefreshTokenExpiresAt > Now.AddDays(89), "using the idle refresh token starts its 90 days again");
        Assert.Contains("unused since", summary.Refreshed.Single(r => r.Name == "idle").Why, StringComparison.Ordinal);
        Assert.Contains("refused by the provider", summary.Skipped.Single(s => s.Name == "revoked").Reason, StringComparison.Ordinal);
        Assert.Contains("expired", summary.Skipped.Single(s => s.Name == "rt-expired").Reason, StringComparison.Ordinal);
        Assert.Equal("set to invalid", summary.Skipped.Single(s => s.Name == "disabled").Reason);
        Assert.StartsWith("not due", summary.Skipped.Single(s => s.Name == "fresh").Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_RecordsFailuresWithReasons_WhenProviderAnswers500_AndShowsThemOnTheSchedulerPage()
    {
        var alpha = await AuthorizedConfigAsync("alpha");
        var beta = await AuthorizedConfigAsync("beta");
        await ChangeStateAsync(alpha, s => s.AccessTokenExpiresAt = Now.AddMinutes(-1));
        await ChangeStateAsync(beta, s => s.AccessTokenExpiresAt = Now.AddMinutes(-1));
        Idp.Faults.TokenEndpoint = TokenEndpointFault.ServerError500;

        var summary = await RunUpdaterAsync();

        Assert.Empty(summary.Refreshed);
        Assert.Equal(["alpha", "beta"], summary.Failed.Select(f => f.Name));
        Assert.All(summary.Failed, f => Assert.Equal("ProviderUnavailable", f.Reason));
        Assert.All(summary.Failed, f => Assert.Contains("the stored tokens were kept", f.Message, StringComparison.Ordinal));
        var state = await StateAsync(alpha);
        Assert.NotNull(state!.LastErrorCode);
        Assert.Null(state.RefreshTokenRevokedAt);

        var stored = Assert.Single(await App.Services.GetRequiredService<UpdaterRunLog>().RecentAsync(default));
        Assert.Equal(summary.Failed, stored.Failed);
        Assert.Equal("test", stored.TriggeredBy);
        var page = WebUtility.HtmlDecode(await Browser.GetStringAsync("/scheduler"));
        Assert.Contains("alpha: ProviderUnavailable: The provider could not be reached or failed", page, StringComparison.Ordinal);
        Assert.Contains("beta: ProviderUnavailable:", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_InvalidGrant_RecordsRefreshTokenRevoked_AndTheNextRunSkipsIt()
    {
        var id = await AuthorizedConfigAsync("mailbox");
        await ChangeStateAsync(id, s => s.AccessTokenExpiresAt = Now.AddMinutes(-1));
        Idp.Faults.TokenEndpoint = TokenEndpointFault.InvalidGrant;

        var first = await RunUpdaterAsync();
        Idp.Faults.Reset();
        Idp.ResetCounters();
        var second = await RunUpdaterAsync();

        var failure = Assert.Single(first.Failed);
        Assert.Equal("RefreshTokenRevoked", failure.Reason);
        Assert.Contains("invalid_grant", failure.Message, StringComparison.Ordinal);
        Assert.NotNull((await StateAsync(id))!.RefreshTokenRevokedAt);
        Assert.Empty(second.Failed);
        Assert.Contains("refused by the provider", Assert.Single(second.Skipped).Reason, StringComparison.Ordinal);
        Assert.Equal(0, Idp.TokenRequestCount);
    }

    [Fact]
    public async Task Run_CountsRunsAndRefreshes_OnTheTokenAdminMeter()
    {
        var ok = await AuthorizedConfigAsync("ok");
        await ChangeStateAsync(ok, s => s.AccessTokenExpiresAt = Now.AddMinutes(-1));
        var meters = App.Services.GetRequiredService<IMeterFactory>();
        var measured = new List<(string Name, long Value, string Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == UpdaterMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, meters)
                && instrument.Name.StartsWith("tokenadmin.updater.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            lock (measured)
            {
                measured.Add((instrument.Name, value, string.Join(",", tags.ToArray().Select(t => $"{t.Key}={t.Value}"))));
            }
        });
        listener.Start();

        await RunUpdaterAsync();
        Idp.Faults.TokenEndpoint = TokenEndpointFault.InvalidGrant;
        await ChangeStateAsync(ok, s => s.AccessTokenExpiresAt = Now.AddMinutes(-1));
        await RunUpdaterAsync();

        Assert.Equal(
            [
                ("tokenadmin.updater.refreshes", 1L, "result=refreshed"),
                ("tokenadmin.updater.runs", 1L, "result=succeeded"),
                ("tokenadmin.updater.refreshes", 1L, "result=failed,reason=RefreshTokenRevoked"),
                ("tokenadmin.updater.runs", 1L, "result=failed"),
            ],
            measured.OrderBy(m => m.Tags.StartsWith("result=failed", StringComparison.Ordinal)).ThenBy(m => m.Name));
    }

    [Fact]
    public async Task Run_Cancelled_StopsWithoutWaitingForTheProvider_AndRecordsWhatItDid()
    {
        var id = await AuthorizedConfigAsync("slow");
        await ChangeStateAsync(id, s => s.AccessTokenExpiresAt = Now.AddMinutes(-1));
        Idp.Faults.HangDuration = TimeSpan.FromSeconds(20);
        Idp.Faults.TokenEndpoint = TokenEndpointFault.Hang;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var started = DateTime.UtcNow;

        using var scope = App.Services.CreateScope();
        var run = scope.ServiceProvider.GetRequiredService<TokenStoreUpdater>().RunAsync("test", stop.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), "the run waited for the provider");
        var recorded = Assert.Single(await App.Services.GetRequiredService<UpdaterRunLog>().RecentAsync(default));
        Assert.True(recorded.Cancelled);
        Assert.Empty(recorded.Refreshed);
        Assert.Contains("(stopped)", await Browser.GetStringAsync("/scheduler"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunLog_KeepsTheLast20Runs()
    {
        var log = App.Services.GetRequiredService<UpdaterRunLog>();
        for (var i = 1; i <= UpdaterRunLog.Kept + 5; i++)
        {
            await log.RecordAsync(new UpdaterRunSummary(Now, TimeSpan.FromMilliseconds(i), $"run {i}", [], [], []), default);
        }

        var recent = await log.RecentAsync(default);

        Assert.Equal(UpdaterRunLog.Kept, recent.Count);
        Assert.Equal("run 25", recent[0].TriggeredBy);
        Assert.Equal("run 6", recent[^1].TriggeredBy);
        Assert.Equal(UpdaterRunLog.Kept, await App.WithDbAsync(db => db.UpdaterRuns.CountAsync()));
    }

    [Fact]
    public async Task RunNow_WhenTheSchedulerIsNotStarted_SaysSo_AndRunsNothing()
    {
        var response = await Browser.PostFormAsync("/scheduler?handler=RunNow", [], formPage: "/scheduler");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var page = WebUtility.HtmlDecode(await Browser.GetStringAsync(response.Headers.Location!.OriginalString));
        Assert.Contains("The scheduler is not running in this process (TokenAdmin:TokenStoreUpdater:Enabled is false)", page, StringComparison.Ordinal);
        Assert.Contains("not started: TokenAdmin:TokenStoreUpdater:Enabled is false", page, StringComparison.Ordinal);
        Assert.Empty(await App.Services.GetRequiredService<UpdaterRunLog>().RecentAsync(default));
    }

    private async Task<List<int>> DueConfigsAsync(string prefix, int count)
    {
        var ids = new List<int>();
        for (var i = 0; i < count; i++)
        {
            var id = await AuthorizedConfigAsync($"{prefix}-{i}");
            await ChangeStateAsync(id, s => s.AccessTokenExpiresAt = Now.AddMinutes(-1));
            ids.Add(id);
        }

        return ids;
    }

    private Task<Dictionary<int, TokenState>> StatesAsync(IEnumerable<int> ids)
    {
        var wanted = ids.ToList();
        return App.WithDbAsync(db => db.TokenStates.AsNoTracking().Where(s => wanted.Contains(s.TokenConfigId!.Value)).ToDictionaryAsync(s => s.TokenConfigId!.Value));
    }

    [Fact]
    public async Task Run_RefreshesInBatches_StoresEveryRotatedRefreshToken_AndLeavesNoLease()
    {
        var ids = await DueConfigsAsync("batch", 7);
        var protector = App.Services.GetRequiredService<TokenAdmin.Secrets.ISecretProtector>();
        var before = (await StatesAsync(ids)).ToDictionary(p => p.Key, p => protector.Unprotect(p.Value.RefreshTokenProtected!));
        Idp.ResetCounters();

        var first = await RunUpdaterAsync();

        Assert.Equal(ids.Count, first.Refreshed.Count);
        Assert.Empty(first.Failed);
        Assert.Equal(ids.Count, Idp.TokenRequestsByGrantType["refresh_token"]);
        var after = await StatesAsync(ids);
        Assert.All(after.Values, s => Assert.Null(s.LeaseOwner));
        Assert.All(after.Values, s => Assert.True(s.AccessTokenExpiresAt > Now.AddMinutes(30)));
        Assert.All(ids, id => Assert.NotEqual(before[id], protector.Unprotect(after[id].RefreshTokenProtected!)));

        // A second round spends the refresh tokens the first one stored: the provider (which revokes a whole family when a
        // rotated refresh token comes back) accepts every one.
        foreach (var id in ids)
        {
            await ChangeStateAsync(id, s => s.AccessTokenExpiresAt = Now.AddMinutes(-1));
        }

        var second = await RunUpdaterAsync();

        Assert.Equal(ids.Count, second.Refreshed.Count);
        Assert.Empty(second.Failed);
        Assert.Equal(0, Idp.RefreshTokenReuseCount);
    }

    [Fact]
    public async Task Run_OneRefusalInABatch_MarksOnlyThatConfig_AndStoresTheOthersNewTokens()
    {
        var ids = await DueConfigsAsync("mixed", 4);
        var before = await StatesAsync(ids);
        Idp.Faults.FailNextTokenRequests(TokenEndpointFault.InvalidGrant, 1);

        var summary = await RunUpdaterAsync();

        var failure = Assert.Single(summary.Failed);
        Assert.Equal("RefreshTokenRevoked", failure.Reason);
        Assert.Contains("invalid_grant", failure.Message, StringComparison.Ordinal);
        Assert.Equal(3, summary.Refreshed.Count);
        var after = await StatesAsync(ids);
        var revoked = Assert.Single(after.Values, s => s.RefreshTokenRevokedAt is not null);
        Assert.Equal(before[revoked.TokenConfigId!.Value].RefreshTokenProtected, revoked.RefreshTokenProtected);
        Assert.Equal(1, revoked.ConsecutiveFailures);
        Assert.All(after.Values.Where(s => s != revoked), s => Assert.True(s.LastRefreshAt > before[s.TokenConfigId!.Value].LastRefreshAt));
        Assert.All(after.Values, s => Assert.Null(s.LeaseOwner));
    }

    [Fact]
    public async Task Run_ARowLeasedByAnotherProcess_IsLeftToTheOneByOnePath_WhichWaitsForTheLease()
    {
        var ids = await DueConfigsAsync("leased", 3);
        var leased = ids[1];
        await ChangeStateAsync(leased, s => (s.LeaseOwner, s.LeaseUntil) = ("another-node", Now.AddSeconds(2)));
        Idp.ResetCounters();

        var summary = await RunUpdaterAsync();

        Assert.Equal(3, summary.Refreshed.Count);
        Assert.Empty(summary.Failed);
        Assert.Equal(3, Idp.TokenRequestsByGrantType["refresh_token"]);
        var after = await StatesAsync(ids);
        Assert.All(after.Values, s => Assert.Null(s.LeaseOwner));
        Assert.True(after[leased].AccessTokenExpiresAt > Now.AddMinutes(30));
    }

    [Fact]
    public async Task Run_DoesNotRefreshAgain_WhatAnotherProcessRefreshedAfterTheRunStarted()
    {
        var ids = await DueConfigsAsync("elsewhere", 2);
        // The row says: refreshed after this run's start (another node got there first), yet still due by its expiry.
        await ChangeStateAsync(ids[0], s => s.LastRefreshAt = Now.AddMinutes(1));
        Idp.ResetCounters();

        var summary = await RunUpdaterAsync();

        Assert.Equal(2, summary.Refreshed.Count);
        Assert.Equal(1, Idp.TokenRequestsByGrantType["refresh_token"]);
        Assert.Null((await StateAsync(ids[0]))!.LeaseOwner);
    }
}
