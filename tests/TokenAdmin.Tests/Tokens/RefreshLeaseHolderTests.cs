using System.Diagnostics;
using System.Net;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tests.Oidc;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Tokens;

/// <summary>
/// The Refresh button of a token config, and the renewal of a functional account, whose row lease is held by another
/// process: one that has died (a child process that has exited), and one that still runs (<c>sleep</c>, killed by its
/// PID afterwards).
/// </summary>
public sealed class RefreshLeaseHolderTests : AccountTestBase
{
    [Fact]
    public async Task AccountRenew_AfterTheHolderDied_RenewsAtOnce()
    {
        var account = await CreateAccountAsync((await CreateProfileAsync()).Id);
        Assert.True((await RenewAsync(account.Id)).Succeeded);
        var before = await AccountStateAsync(account.Id);
        await LeaseRows.LeaseAccountAsync(App, account.Id, LeaseRows.Holder(await LeaseRows.ExitedProcessIdAsync(), "12345"));

        var watch = Stopwatch.StartNew();
        var renewed = await RenewAsync(account.Id).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(renewed.Succeeded, renewed.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"the renewal took {watch.Elapsed}");
        var after = await AccountStateAsync(account.Id);
        Assert.True(after!.LastRefreshAt > before!.LastRefreshAt);
        Assert.Null(after.LeaseOwner);
    }

    [Fact]
    public async Task AccountRenew_WhileALiveProcessHoldsTheLease_SaysWhoAndWhen_AsAProviderUnavailableFailure()
    {
        var account = await CreateAccountAsync((await CreateProfileAsync()).Id);
        Assert.True((await RenewAsync(account.Id)).Succeeded);
        using var sleeper = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        try
        {
            var holder = LeaseRows.Holder(sleeper.Id, ProcessLiveness.StartOf(sleeper.Id)!);
            await LeaseRows.LeaseAccountAsync(App, account.Id, holder);
            Idp.ResetCounters();

            var renewed = await RenewAsync(account.Id).WaitAsync(TimeSpan.FromSeconds(30));

            Assert.False(renewed.Succeeded);
            Assert.StartsWith($"A refresh of '{account.Name}' is in progress on node {holder.Node} (process {sleeper.Id}), started at ", renewed.Message, StringComparison.Ordinal);
            Assert.Equal(TokenFailureKind.Unavailable, renewed.Failure!.Kind);
            Assert.InRange(renewed.Failure.RetryAfter!.Value, TimeSpan.FromSeconds(100), TimeSpan.FromSeconds(120));
            Assert.Equal(0, Idp.TokenRequestCount);
        }
        finally
        {
            sleeper.Kill();
            await sleeper.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task RefreshClick_AfterTheHolderDied_RefreshesAtOnce_WithoutSpendingARefreshTokenTwice()
    {
        var id = await CreateConfigAsync("click-after-crash");
        Assert.Equal(HttpStatusCode.Redirect, (await AuthorizeAsync(id)).StatusCode);
        var before = await StateAsync(id);
        await LeaseRows.LeaseAsync(App, id, LeaseRows.Holder(await LeaseRows.ExitedProcessIdAsync(), "12345"));
        Idp.ResetCounters();

        var watch = Stopwatch.StartNew();
        // Note: bounded, as the old lease made the click wait for about 2 minutes.
        var response = await Browser.PostFormAsync($"/tokens/details/{id}?handler=Refresh", [], formPage: $"/tokens/details/{id}").WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"the click took {watch.Elapsed}");
        var after = await StateAsync(id);
        Assert.True(after!.LastRefreshAt > before!.LastRefreshAt);
        Assert.Null(after.LeaseOwner);
        Assert.Equal(1, Idp.TokenRequestsByGrantType["refresh_token"]);
        Assert.Equal(0, Idp.RefreshTokenReuseCount);
    }

    [Fact]
    public async Task RefreshClick_WhileALiveProcessHoldsTheLease_SaysWhoAndWhen_AndLeavesTheProviderAlone()
    {
        var id = await CreateConfigAsync("click-while-busy");
        Assert.Equal(HttpStatusCode.Redirect, (await AuthorizeAsync(id)).StatusCode);
        using var sleeper = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        try
        {
            var holder = LeaseRows.Holder(sleeper.Id, ProcessLiveness.StartOf(sleeper.Id)!);
            await LeaseRows.LeaseAsync(App, id, holder);
            Idp.ResetCounters();

            var watch = Stopwatch.StartNew();
            var response = await Browser.PostFormAsync($"/tokens/details/{id}?handler=Refresh", [], formPage: $"/tokens/details/{id}").WaitAsync(TimeSpan.FromSeconds(30));
            var page = await Browser.GetStringAsync(response.Headers.Location);

            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"the click took {watch.Elapsed}");
            Assert.Contains($"in progress on node {holder.Node} (process {sleeper.Id})", WebUtility.HtmlDecode(page), StringComparison.Ordinal);
            Assert.Equal(0, Idp.TokenRequestCount);
            Assert.Equal(holder.Format(), (await StateAsync(id))!.LeaseOwner);
        }
        finally
        {
            sleeper.Kill();
            await sleeper.WaitForExitAsync();
        }
    }
}

/// <summary>Lease holders made of real processes, written into a token's row.</summary>
internal static class LeaseRows
{
    public static LeaseHolder Holder(int processId, string processStart) =>
        new(ProcessLiveness.NodeName, ProcessLiveness.MachineKey, processId, processStart, DateTime.UtcNow.AddSeconds(-3), "0123456789ab");

    /// <summary>The PID of a child process that has run and exited (and been reaped).</summary>
    public static async Task<int> ExitedProcessIdAsync()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await process.WaitForExitAsync(timeout.Token);
        Assert.Null(ProcessLiveness.StartOf(process.Id));
        return process.Id;
    }

    /// <summary>Gives token config <paramref name="id"/> an (empty) token row, for the lease alone.</summary>
    public static async Task<int> RowAsync(TokenAdminFactory app, int id)
    {
        await app.WithDbAsync(async db =>
        {
            db.TokenStates.Add(new TokenState { TokenConfigId = id });
            return await db.SaveChangesAsync();
        });
        return id;
    }

    public static async Task LeaseAccountAsync(TokenAdminFactory app, int accountId, LeaseHolder holder) =>
        await app.WithDbAsync(db => db.TokenStates.Where(s => s.FunctionalAccountId == accountId)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.LeaseOwner, holder.Format()).SetProperty(s => s.LeaseUntil, DateTime.UtcNow.AddMinutes(2))));

    public static async Task<DateTime> LeaseAsync(TokenAdminFactory app, int id, LeaseHolder holder)
    {
        var until = DateTime.UtcNow.AddMinutes(2);
        await app.WithDbAsync(db => db.TokenStates.Where(s => s.TokenConfigId == id)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.LeaseOwner, holder.Format()).SetProperty(s => s.LeaseUntil, until)));
        return until;
    }
}
