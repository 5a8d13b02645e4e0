using System.Globalization;
using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;

namespace TokenAdmin.Tokens;

/// <summary>
/// The lease on one <see cref="TokenState"/> row that lets only one process (and one request of one) spend a refresh
/// token: a conditional update that takes the row when its lease is free or expired. A lease whose holder is known
/// dead (see <see cref="ProcessLiveness"/>) is taken over at once; a live holder, or one that cannot be judged from
/// here (another node), is waited for a few seconds at most, then the caller is told who holds it and until when.
/// Shared by token configs and functional accounts, which differ only in which row is theirs.
/// </summary>
/// <remarks>
/// Note: a crashed process used to leave its lease for <see cref="Duration"/> (2 minutes) and every click, API call and
/// updater run waited that long. Now the holder is written into the lease (<see cref="LeaseHolder"/>), so a process on
/// the same machine can see that the holder's PID is gone (or belongs to a newer process) and take over, and anyone
/// else gets an answer at once. Take-over is a conditional update on the exact old owner, so of two processes taking
/// over the same dead lease exactly one wins; a live holder is never taken over before its lease ends.
/// Taking, taking over and giving back a lease commit without waiting for the disk on SQLite
/// (<see cref="SqliteConnections.RelaxedCommitsAsync"/>): a lease only matters between live processes, and the save that
/// stores the spent refresh token's successor waits for the disk as before.
/// </remarks>
internal static partial class TokenRowLease
{
    /// <summary>How long one process may hold a lease: longer than any refresh can take.</summary>
    public static readonly TimeSpan Duration = TimeSpan.FromMinutes(2);

    /// <summary>How long <see cref="TakeAsync"/> waits for a live holder by default: a refresh under way usually ends by then.</summary>
    public static readonly TimeSpan BusyWait = TimeSpan.FromSeconds(5);

    public enum Outcome { Taken, NoRow, Busy }

    /// <summary>
    /// What <see cref="TakeAsync"/> got. For <see cref="Outcome.Busy"/>: the holder (null when its owner is of an unknown
    /// format, such as an older version's) and when its lease ends; for a take-over: the dead holder it replaced.
    /// </summary>
    public sealed record Take(Outcome Outcome, LeaseHolder? Holder = null, DateTime? HolderUntil = null, HolderLiveness? Liveness = null, bool TookOver = false)
    {
        public bool Taken => Outcome == Outcome.Taken;
    }

    /// <summary>A new, unique LeaseOwner value naming this process; one per refresh (or batch of refreshes).</summary>
    public static string NewOwner(TimeProvider time) => LeaseHolder.ForThisProcess(time.GetUtcNow().UtcDateTime).Format();

    /// <param name="lease">This attempt's owner value, from <see cref="NewOwner"/>.</param>
    /// <param name="createRow">
    /// When set and the source has no row yet, a row is created with the lease held, so even the first token is got by
    /// one process only; when null, a missing row is <see cref="Outcome.NoRow"/>.
    /// </param>
    /// <param name="wait">How long to wait for a live holder before answering busy (<see cref="BusyWait"/> when null; zero answers at once).</param>
    /// <param name="ownerExists">
    /// Asked before a missing row is created: false (the source is gone) answers <see cref="Outcome.NoRow"/>. Asked only
    /// then, so the usual take (the row exists) costs one statement.
    /// </param>
    public static async Task<Take> TakeAsync(
        TokenAdminDb db, DatabaseWriteGate writes, TimeProvider time, Expression<Func<TokenState, bool>> row, string lease,
        Func<string, DateTime, TokenState>? createRow, CancellationToken cancellationToken, TimeSpan? wait = null, ILogger? logger = null,
        Func<CancellationToken, Task<bool>>? ownerExists = null)
    {
        var deadline = time.GetUtcNow() + (wait ?? BusyWait);
        var pause = TimeSpan.FromMilliseconds(20);
        while (true)
        {
            var now = time.GetUtcNow().UtcDateTime;
            var until = now + Duration;
            Take busy;
            using (await writes.EnterAsync(cancellationToken))
            {
                int taken;
                await using (await SqliteConnections.RelaxedCommitsAsync(db, cancellationToken))
                {
                    taken = await db.TokenStates.Where(row).Where(s => s.LeaseUntil == null || s.LeaseUntil < now)
                        .ExecuteUpdateAsync(u => u.SetProperty(s => s.LeaseOwner, lease).SetProperty(s => s.LeaseUntil, until), cancellationToken);
                }

                if (taken == 1)
                {
                    return new Take(Outcome.Taken);
                }

                var current = await db.TokenStates.Where(row).Select(s => new { s.LeaseOwner, s.LeaseUntil }).SingleOrDefaultAsync(cancellationToken);
                if (current is null)
                {
                    if (createRow is null || (ownerExists is not null && !await ownerExists(cancellationToken)))
                    {
                        return new Take(Outcome.NoRow);
                    }

                    var created = createRow(lease, until);
                    db.TokenStates.Add(created);
                    try
                    {
                        await db.SaveChangesAsync(cancellationToken);
                        db.Entry(created).State = EntityState.Detached;
                        return new Take(Outcome.Taken);
                    }
                    catch (DbUpdateException)
                    {
                        // Another process created it first (unique index): take turns on its lease like for any row.
                        db.Entry(created).State = EntityState.Detached;
                    }

                    busy = new Take(Outcome.Busy);
                }
                else if (current.LeaseOwner is null || current.LeaseUntil is null || current.LeaseUntil < now)
                {
                    busy = new Take(Outcome.Busy); // given back between the two statements: the next round takes it
                    pause = TimeSpan.Zero;
                }
                else
                {
                    var holder = LeaseHolder.Parse(current.LeaseOwner);
                    var liveness = holder is null ? HolderLiveness.Unknown : ProcessLiveness.Check(holder);
                    if (liveness == HolderLiveness.Dead)
                    {
                        // Note: only on the exact owner read just now: of two processes taking over, the second finds another owner.
                        var old = current.LeaseOwner;
                        int takenOver;
                        await using (await SqliteConnections.RelaxedCommitsAsync(db, cancellationToken))
                        {
                            takenOver = await db.TokenStates.Where(row).Where(s => s.LeaseOwner == old)
                                .ExecuteUpdateAsync(u => u.SetProperty(s => s.LeaseOwner, lease).SetProperty(s => s.LeaseUntil, until), cancellationToken);
                        }

                        if (takenOver == 1)
                        {
                            if (logger is not null)
                            {
                                LogTakenOver(logger, holder!.Node, holder.ProcessId, holder.TakenAt, current.LeaseUntil.Value);
                            }

                            return new Take(Outcome.Taken, holder, current.LeaseUntil, liveness, TookOver: true);
                        }

                        pause = TimeSpan.Zero; // someone else took it over: look again who holds it now
                    }

                    busy = new Take(Outcome.Busy, holder, current.LeaseUntil, liveness);
                }
            }

            if (time.GetUtcNow() >= deadline)
            {
                return busy;
            }

            await Task.Delay(pause, time, cancellationToken);
            pause = TimeSpan.FromMilliseconds(Math.Clamp(pause.TotalMilliseconds * 2, 20, 500));
        }
    }

    /// <summary>
    /// What to tell an admin or API caller when <see cref="TakeAsync"/> answered busy: who refreshes <paramref name="source"/>
    /// (node, process, since when) and when to try again, for example "A refresh of 'mailbox' is in progress on node web-2
    /// (process 4711), started at 12:03:07 UTC; try again in 95 s."
    /// </summary>
    public static string BusyMessage(string source, Take busy, DateTime now)
    {
        var retry = busy.HolderUntil is { } until ? Math.Max(1, (int)Math.Ceiling((until - now).TotalSeconds)) : 5;
        var holder = busy.Holder;
        var where = holder is null
            ? "in another process"
            : ProcessLiveness.IsThisProcess(holder)
                ? $"in this process on node {holder.Node} (process {holder.ProcessId.ToString(CultureInfo.InvariantCulture)})"
                : $"on node {holder.Node} (process {holder.ProcessId.ToString(CultureInfo.InvariantCulture)})";
        var started = holder is null ? "" : $", started at {holder.TakenAt.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} UTC";
        var suffix = busy.Liveness == HolderLiveness.Unknown && holder is not null
            ? " If that node has stopped, its lease ends then."
            : "";
        return $"A refresh of '{source}' is in progress {where}{started}; try again in {retry.ToString(CultureInfo.InvariantCulture)} s.{suffix}";
    }

    /// <summary>
    /// The busy answer as a failure for callers that type their failures: "provider unavailable" for now, with a
    /// Retry-After of the holder's remaining lease (the API answers 503 with that header). Never recorded on the row.
    /// </summary>
    public static TokenFailure BusyFailure(string source, Take busy, DateTime now) =>
        new(TokenFailureKind.Unavailable, "refresh_in_progress", BusyMessage(source, busy, now),
            busy.HolderUntil is { } until && until > now ? until - now : BusyWait);

    /// <summary>Gives the lease back when it is still ours (a save that stored new tokens has cleared it already).</summary>
    public static async Task ReleaseAsync(TokenAdminDb db, DatabaseWriteGate writes, Expression<Func<TokenState, bool>> row, string lease)
    {
        using (await writes.EnterAsync(CancellationToken.None))
        await using (await SqliteConnections.RelaxedCommitsAsync(db, CancellationToken.None))
        {
            await db.TokenStates.Where(row).Where(s => s.LeaseOwner == lease)
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.LeaseOwner, (string?)null).SetProperty(s => s.LeaseUntil, (DateTime?)null), CancellationToken.None);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Took over the refresh lease of process {ProcessId} on node {Node} (taken at {TakenAt:u}, would have ended at {Until:u}): that process no longer runs.")]
    private static partial void LogTakenOver(ILogger logger, string node, int processId, DateTime takenAt, DateTime until);
}
