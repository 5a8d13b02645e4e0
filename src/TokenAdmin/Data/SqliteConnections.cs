using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace TokenAdmin.Data;

/// <summary>
/// Two ways a piece of work on SQLite avoids costs that buy it nothing. On PostgreSQL both do nothing.
/// </summary>
public static class SqliteConnections
{
    /// <summary>
    /// Keeps the context's SQLite connection open until the result is disposed, so the statements of one piece of work
    /// (a token refresh: read, lease, read under the lease, save) share one opening instead of one each (each opening
    /// registers EF Core's functions on the handle and sets the busy timeout). An open SQLite connection outside a
    /// transaction holds no lock. On PostgreSQL the connection is not held: a pooled server connection is not kept
    /// while a provider answers.
    /// </summary>
    public static async ValueTask<Opened> HoldAsync(TokenAdminDb db, CancellationToken cancellationToken)
    {
        var database = db.Database;
        if (!database.IsSqlite())
        {
            return default;
        }

        await database.OpenConnectionAsync(cancellationToken);
        return new Opened(database, relaxed: false);
    }

    /// <summary>
    /// Commits what runs until the result is disposed without waiting for the disk, for writes whose loss in a power
    /// failure harms nothing: a refresh lease (after the machine loses power, no process holds anything). On SQLite in
    /// WAL mode the commit (synchronous=NORMAL) stays atomic, is seen by every process at once and survives a crash of
    /// the process; the next durable commit (the stored token) takes it to the disk along with its own. Every other
    /// commit stays synchronous=FULL: it is set back here, and again on each opening of a connection
    /// (<see cref="SqliteBusyTimeout"/>). Inside a transaction nothing changes (its commit decides).
    /// </summary>
    public static async ValueTask<Opened> RelaxedCommitsAsync(TokenAdminDb db, CancellationToken cancellationToken)
    {
        var database = db.Database;
        if (!database.IsSqlite() || database.CurrentTransaction is not null)
        {
            return default;
        }

        await database.OpenConnectionAsync(cancellationToken);
        try
        {
            Synchronous(database, "NORMAL");
        }
        catch
        {
            await database.CloseConnectionAsync();
            throw;
        }

        return new Opened(database, relaxed: true);
    }

    private static void Synchronous(DatabaseFacade database, string level)
    {
        using var command = database.GetDbConnection().CreateCommand();
        command.CommandText = "PRAGMA synchronous = " + level + ";";
        command.ExecuteNonQuery();
    }

    /// <summary>Closes what <see cref="HoldAsync"/> or <see cref="RelaxedCommitsAsync"/> opened (the connection closes when the last one ends).</summary>
    public readonly struct Opened(DatabaseFacade? database, bool relaxed) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (database is null)
            {
                return;
            }

            try
            {
                if (relaxed)
                {
                    Synchronous(database, "FULL");
                }
            }
            finally
            {
                await database.CloseConnectionAsync();
            }
        }
    }
}
