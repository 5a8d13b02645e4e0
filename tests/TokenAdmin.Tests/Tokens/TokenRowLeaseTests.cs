using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Data;
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
        var id = await LeaseRows.RowAsync(App, await CreateConfigAsync("dead-holder"));
        var dead = await LeaseRows.ExitedProcessIdAsync();
        var holder = LeaseRows.Holder(dead, "12345");
        await LeaseRows.LeaseAsync(App, id, holder);

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
        var id = await LeaseRows.RowAsync(App, await CreateConfigAsync("reused-pid"));
        // This very process's PID with another start time: the holder ran under this PID before, and has gone.
        await LeaseRows.LeaseAsync(App, id, LeaseRows.Holder(Environment.ProcessId, "1"));

        var (take, _) = await TakeAsync(id);

        Assert.Equal(TokenRowLease.Outcome.Taken, take.Outcome);
        Assert.True(take.TookOver);
    }

    [Fact]
    public async Task Take_AnswersWithinTheBoundedWait_WithTheHolder_WhenTheHolderProcessStillRuns()
    {
        var id = await LeaseRows.RowAsync(App, await CreateConfigAsync("live-holder"));
        using var sleeper = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        try
        {
            var start = ProcessLiveness.StartOf(sleeper.Id);
            Assert.NotNull(start);
            var holder = LeaseRows.Holder(sleeper.Id, start!);
            var until = await LeaseRows.LeaseAsync(App, id, holder);

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
        var id = await LeaseRows.RowAsync(App, await CreateConfigAsync("remote-holder"));
        await LeaseRows.LeaseAsync(App, id, LeaseRows.Holder(1, "1") with { MachineKey = "0123456789ab", Node = "web-2" });

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
        var id = await LeaseRows.RowAsync(App, await CreateConfigAsync("old-owner"));
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
        var id = await LeaseRows.RowAsync(App, await CreateConfigAsync("race"));
        var dead = await LeaseRows.ExitedProcessIdAsync();
        for (var round = 0; round < 5; round++)
        {
            await LeaseRows.LeaseAsync(App, id, LeaseRows.Holder(dead, "12345"));

            // Each contender has its own DbContext and its own write gate, as separate processes have.
            var takes = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => TakeAsync(id, TimeSpan.Zero, new DatabaseWriteGate(serialize: false)))));

            var winner = Assert.Single(takes, t => t.Take.Outcome == TokenRowLease.Outcome.Taken);
            Assert.True(winner.Take.TookOver);
            Assert.Equal(winner.Lease, (await StateAsync(id))!.LeaseOwner);
            // The losers saw the dead holder (their update found another owner) or the winner, alive in this process.
            Assert.All(takes.Where(t => t != winner), t => Assert.Equal(TokenRowLease.Outcome.Busy, t.Take.Outcome));
        }
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
