using System.Diagnostics;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Data;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Tokens;

/// <summary>
/// The take-over rules of the row lease, with real processes as holders: a child process that has exited (a dead
/// PID), one that runs (<c>sleep</c>, killed by its PID afterwards), this process under another start time (a reused
/// PID), and a holder on another machine.
/// </summary>
public sealed class TokenRowLeaseTests : TokenTestBase
{
    private static readonly TimeSpan AtOnce = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Take_TakesOverAtOnce_WhenTheHolderProcessOnThisMachineHasExited()
    {
        var id = await RowAsync("dead-holder");
        var dead = await ExitedProcessIdAsync();
        var holder = Holder(dead, "12345");
        await LeaseAsync(id, holder);

        var watch = Stopwatch.StartNew();
        var (take, lease) = await TakeAsync(id);

        Assert.True(watch.Elapsed < AtOnce, $"took {watch.Elapsed}");
        Assert.Equal(TokenRowLease.Outcome.Taken, take.Outcome);
        Assert.True(take.TookOver);
        Assert.Equal(dead, take.Holder!.ProcessId);
        Assert.Equal(lease, (await StateAsync(id))!.LeaseOwner);
    }

    [Fact]
    public async Task Take_TakesOver_WhenTheHoldersPidNowBelongsToAnotherProcess()
    {
        var id = await RowAsync("reused-pid");
        // This very process's PID with another start time: the holder ran under this PID before, and has gone.
        await LeaseAsync(id, Holder(Environment.ProcessId, "1"));

        var (take, _) = await TakeAsync(id);

        Assert.Equal(TokenRowLease.Outcome.Taken, take.Outcome);
        Assert.True(take.TookOver);
    }

    [Fact]
    public async Task Take_AnswersWithinTheBoundedWait_WithTheHolder_WhenTheHolderProcessStillRuns()
    {
        var id = await RowAsync("live-holder");
        using var sleeper = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        try
        {
            var start = ProcessLiveness.StartOf(sleeper.Id);
            Assert.NotNull(start);
            var holder = Holder(sleeper.Id, start!);
            var until = await LeaseAsync(id, holder);

            var watch = Stopwatch.StartNew();
            var (take, _) = await TakeAsync(id, wait: null);
            var waited = watch.Elapsed;

            Assert.Equal(TokenRowLease.Outcome.Busy, take.Outcome);
            Assert.True(waited >= TokenRowLease.BusyWait - TimeSpan.FromMilliseconds(100) && waited < TokenRowLease.BusyWait + AtOnce, $"waited {waited}");
            Assert.Equal(HolderLiveness.Alive, take.Liveness);
            Assert.Equal(holder.Format(), (await StateAsync(id))!.LeaseOwner); // never taken from a live holder
            var message = TokenRowLease.BusyMessage("live-holder", take, DateTime.UtcNow);
            Assert.Contains($"A refresh of 'live-holder' is in progress on node {holder.Node} (process {sleeper.Id}), started at {holder.TakenAt:HH:mm:ss} UTC; try again in", message, StringComparison.Ordinal);
            var seconds = int.Parse(message.Split("try again in ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(seconds, (int)(until - DateTime.UtcNow).TotalSeconds - 2, (int)(until - DateTime.UtcNow).TotalSeconds + 2);
        }
        finally
        {
            sleeper.Kill();
            await sleeper.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Take_AnswersAtOnce_WhenTheHolderRunsOnAnotherMachine_AndWaitIsZero()
    {
        var id = await RowAsync("remote-holder");
        await LeaseAsync(id, Holder(1, "1") with { MachineKey = "0123456789ab", Node = "web-2" });

        var watch = Stopwatch.StartNew();
        var (take, _) = await TakeAsync(id, TimeSpan.Zero);

        Assert.True(watch.Elapsed < AtOnce, $"took {watch.Elapsed}");
        Assert.Equal(TokenRowLease.Outcome.Busy, take.Outcome);
        Assert.Equal(HolderLiveness.Unknown, take.Liveness);
        Assert.StartsWith("A refresh of 'remote-holder' is in progress on node web-2 (process 1), started at ", TokenRowLease.BusyMessage("remote-holder", take, DateTime.UtcNow), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Take_AnOwnerOfAnOlderVersion_IsAnUnknownHolder_AndNeverTakenOver()
    {
        var id = await RowAsync("old-owner");
        await App.WithDbAsync(db => db.TokenStates.Where(s => s.TokenConfigId == id)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.LeaseOwner, Guid.NewGuid().ToString("N")).SetProperty(s => s.LeaseUntil, DateTime.UtcNow.AddMinutes(2))));

        var (take, _) = await TakeAsync(id, TimeSpan.Zero);

        Assert.Equal(TokenRowLease.Outcome.Busy, take.Outcome);
        Assert.Null(take.Holder);
        Assert.Contains("is in progress in another process; try again in", TokenRowLease.BusyMessage("old-owner", take, DateTime.UtcNow), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Take_ConcurrentTakeOversOfOneDeadLease_ExactlyOneWins()
    {
        var id = await RowAsync("race");
        var dead = await ExitedProcessIdAsync();
        for (var round = 0; round < 5; round++)
        {
            await LeaseAsync(id, Holder(dead, "12345"));

            // Each contender has its own DbContext and its own write gate, as separate processes have.
            var takes = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => TakeAsync(id, TimeSpan.Zero, new DatabaseWriteGate(serialize: false)))));

            var winner = Assert.Single(takes, t => t.Take.Outcome == TokenRowLease.Outcome.Taken);
            Assert.True(winner.Take.TookOver);
            Assert.Equal(winner.Lease, (await StateAsync(id))!.LeaseOwner);
            // The losers saw the dead holder (their update found another owner) or the winner, alive in this process.
            Assert.All(takes.Where(t => t != winner), t => Assert.Equal(TokenRowLease.Outcome.Busy, t.Take.Outcome));
        }
    }

    [Fact]
    public async Task RefreshClick_AfterTheHolderDied_RefreshesAtOnce_WithoutSpendingARefreshTokenTwice()
    {
        var id = await CreateConfigAsync("click-after-crash");
        Assert.Equal(HttpStatusCode.Redirect, (await AuthorizeAsync(id)).StatusCode);
        var before = await StateAsync(id);
        await LeaseAsync(id, Holder(await ExitedProcessIdAsync(), "12345"));
        Idp.ResetCounters();

        var watch = Stopwatch.StartNew();
        var response = await Browser.PostFormAsync($"/tokens/details/{id}?handler=Refresh", [], formPage: $"/tokens/details/{id}");

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
            var holder = Holder(sleeper.Id, ProcessLiveness.StartOf(sleeper.Id)!);
            await LeaseAsync(id, holder);
            Idp.ResetCounters();

            var watch = Stopwatch.StartNew();
            var response = await Browser.PostFormAsync($"/tokens/details/{id}?handler=Refresh", [], formPage: $"/tokens/details/{id}");
            var page = await Browser.GetStringAsync(response.Headers.Location);

            Assert.True(watch.Elapsed < TokenRowLease.BusyWait + AtOnce, $"the click took {watch.Elapsed}");
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

    private static LeaseHolder Holder(int processId, string processStart) =>
        new(ProcessLiveness.NodeName, ProcessLiveness.MachineKey, processId, processStart, DateTime.UtcNow.AddSeconds(-3), "0123456789ab");

    /// <summary>The PID of a child process that has run and exited (and been reaped).</summary>
    private static async Task<int> ExitedProcessIdAsync()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await process.WaitForExitAsync(timeout.Token);
        Assert.Null(ProcessLiveness.StartOf(process.Id));
        return process.Id;
    }

    /// <summary>A token config with an (empty) token row, for the lease alone.</summary>
    private async Task<int> RowAsync(string name)
    {
        var id = await CreateConfigAsync(name);
        await App.WithDbAsync(async db =>
        {
            db.TokenStates.Add(new TokenState { TokenConfigId = id });
            return await db.SaveChangesAsync();
        });
        return id;
    }

    private async Task<DateTime> LeaseAsync(int id, LeaseHolder holder)
    {
        var until = DateTime.UtcNow.AddMinutes(2);
        await App.WithDbAsync(db => db.TokenStates.Where(s => s.TokenConfigId == id)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.LeaseOwner, holder.Format()).SetProperty(s => s.LeaseUntil, until)));
        return until;
    }

    private async Task<(TokenRowLease.Take Take, string Lease)> TakeAsync(int id, TimeSpan? wait = null, DatabaseWriteGate? gate = null)
    {
        using var scope = App.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenAdminDb>();
        var lease = TokenRowLease.NewOwner(TimeProvider.System);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var take = await TokenRowLease.TakeAsync(db, gate ?? App.Services.GetRequiredService<DatabaseWriteGate>(), TimeProvider.System,
            s => s.TokenConfigId == id, lease, createRow: null, timeout.Token, wait);
        return (take, lease);
    }
}
