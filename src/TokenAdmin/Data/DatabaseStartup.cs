using Microsoft.EntityFrameworkCore;

namespace TokenAdmin.Data;

internal static class DatabaseStartup
{
    /// <summary>Key of the PostgreSQL advisory lock held while one node migrates ("TokenAdm" in ASCII).</summary>
    internal const long MigrationLockKey = 0x546F6B656E41646D;

    /// <summary>How long a starting node waits for another node's migration before giving up (and not starting).</summary>
    internal static readonly TimeSpan MigrationLockWait = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Applies pending migrations; on SQLite switches the file to write-ahead logging first; on PostgreSQL holds an
    /// advisory lock meanwhile, so that nodes started at the same time (or during an upgrade) migrate one after another:
    /// the first applies the migrations, the others find nothing left to do.
    /// </summary>
    public static async Task MigrateAsync(TokenAdminDb db, CancellationToken cancellationToken)
    {
        if (db.Database.IsSqlite())
        {
            // Note: WAL lets the pages read while a job writes. The mode is stored in the file, so once is enough,
            // but repeating it is cheap and keeps a restored backup in the same mode.
            await db.Database.OpenConnectionAsync(cancellationToken);
            try
            {
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }

            await db.Database.MigrateAsync(cancellationToken);
            return;
        }

        if (!db.Database.IsNpgsql())
        {
            await db.Database.MigrateAsync(cancellationToken);
            return;
        }

        // Note: a session-level lock on the connection the context keeps open until CloseConnectionAsync, so the
        // migrations run on the very session that holds it. A node that dies while holding it loses its session,
        // and with it the lock.
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            var deadline = DateTime.UtcNow + MigrationLockWait;
            var pause = TimeSpan.FromMilliseconds(100);
            while (!await TryLockAsync(db, cancellationToken))
            {
                if (DateTime.UtcNow >= deadline)
                {
                    throw new InvalidOperationException(
                        $"Another TokenAdmin node has been migrating the database for more than {MigrationLockWait.TotalMinutes:0} minutes; not starting.");
                }

                await Task.Delay(pause, cancellationToken);
                pause = TimeSpan.FromMilliseconds(Math.Min(pause.TotalMilliseconds * 2, 2000));
            }

            try
            {
                await db.Database.MigrateAsync(cancellationToken);
            }
            finally
            {
                await db.Database.SqlQuery<bool>($"SELECT pg_advisory_unlock({MigrationLockKey}) AS \"Value\"").SingleAsync(CancellationToken.None);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static Task<bool> TryLockAsync(TokenAdminDb db, CancellationToken cancellationToken) =>
        db.Database.SqlQuery<bool>($"SELECT pg_try_advisory_lock({MigrationLockKey}) AS \"Value\"").SingleAsync(cancellationToken);
}
