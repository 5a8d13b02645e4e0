using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;

namespace TokenAdmin.Tokens;

/// <summary>
/// The lease on one <see cref="TokenState"/> row that lets only one process (and one request of one) spend a refresh
/// token: a conditional update that takes the row when its lease is free or expired, waiting (bounded) otherwise.
/// Shared by token configs and functional accounts, which differ only in which row is theirs.
/// </summary>
internal static class TokenRowLease
{
    /// <summary>How long one process may hold a lease: longer than any refresh can take.</summary>
    public static readonly TimeSpan Duration = TimeSpan.FromMinutes(2);

    public enum Outcome { Taken, NoRow, Busy }

    /// <param name="createRow">
    /// When set and the source has no row yet, a row is created with the lease held, so even the first token is got by
    /// one process only; when null, a missing row is <see cref="Outcome.NoRow"/>.
    /// </param>
    public static async Task<Outcome> TakeAsync(
        TokenAdminDb db, DatabaseWriteGate writes, TimeProvider time, Expression<Func<TokenState, bool>> row, string lease,
        Func<string, DateTime, TokenState>? createRow, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + Duration;
        var pause = TimeSpan.FromMilliseconds(20);
        while (true)
        {
            var now = time.GetUtcNow().UtcDateTime;
            var until = now + Duration;
            using (await writes.EnterAsync(cancellationToken))
            {
                var taken = await db.TokenStates.Where(row).Where(s => s.LeaseUntil == null || s.LeaseUntil < now)
                    .ExecuteUpdateAsync(u => u.SetProperty(s => s.LeaseOwner, lease).SetProperty(s => s.LeaseUntil, until), cancellationToken);
                if (taken == 1)
                {
                    return Outcome.Taken;
                }

                if (!await db.TokenStates.AnyAsync(row, cancellationToken))
                {
                    if (createRow is null)
                    {
                        return Outcome.NoRow;
                    }

                    var created = createRow(lease, until);
                    db.TokenStates.Add(created);
                    try
                    {
                        await db.SaveChangesAsync(cancellationToken);
                        db.Entry(created).State = EntityState.Detached;
                        return Outcome.Taken;
                    }
                    catch (DbUpdateException)
                    {
                        // Another process created it first (unique index): take turns on its lease like for any row.
                        db.Entry(created).State = EntityState.Detached;
                    }
                }
            }

            if (time.GetUtcNow() >= deadline)
            {
                return Outcome.Busy;
            }

            await Task.Delay(pause, time, cancellationToken);
            pause = TimeSpan.FromMilliseconds(Math.Min(pause.TotalMilliseconds * 2, 500));
        }
    }

    /// <summary>Gives the lease back when it is still ours (a save that stored new tokens has cleared it already).</summary>
    public static async Task ReleaseAsync(TokenAdminDb db, DatabaseWriteGate writes, Expression<Func<TokenState, bool>> row, string lease)
    {
        using (await writes.EnterAsync(CancellationToken.None))
        {
            await db.TokenStates.Where(row).Where(s => s.LeaseOwner == lease)
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.LeaseOwner, (string?)null).SetProperty(s => s.LeaseUntil, (DateTime?)null), CancellationToken.None);
        }
    }
}
