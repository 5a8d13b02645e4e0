using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace TokenAdmin.Data;

/// <summary>
/// Two ways a piece of work on SQLite avoids costs that buy it nothing. On PostgreSQL both do nothing.
/// </summary>
public static class SqliteConnections
{
    /// <summary>
    /// Keeps the context's SQLite connection open until the result is disposed, so a few statements in a row (a token
    /// refresh's lease and the read under it) share one opening instead of one each (each opening registers EF Core's
    /// functions on the handle and sets the busy timeout). An open SQLite connection outside a transaction holds no
    /// lock, but it is a handle with its own page cache: a one-by-one refresh gives it back before the provider answers
    /// (any number may be in flight), an updater batch keeps it to its save (two batches run at a time). On PostgreSQL
    /// nothing is held.
    /// </summary>
    public static async ValueTask<Opened> HoldAsync(TokenAdminDb db, CancellationToken cancellationToken)
    {
        var database = db.Database;
        if (!database.IsSqlite())
        {
            return Opened.Nothing;
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
            return Opened.Nothing;
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

    /// <summary>
    /// Closes what <see cref="HoldAsync"/> or <see cref="RelaxedCommitsAsync"/> opened (the connection closes when the
    /// last one ends); disposing twice closes once.
    /// </summary>
    public sealed class Opened : IAsyncDisposable
    {
        public static readonly Opened Nothing = new(null, relaxed: false);

        private readonly DatabaseFacade? _database;
        private readonly bool _relaxed;
        private int _disposed;

        internal Opened(DatabaseFacade? database, bool relaxed)
        {
            _database = database;
            _relaxed = relaxed;
        }

        public async ValueTask DisposeAsync()
        {
            if (_database is null || Interlocked.Exchange(ref _disposed, 1) == 1)
            {
                return;
            }

            if (_relaxed)
            {
                try
                {
                    Synchronous(_database, "FULL");
                }
                catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException)
                {
                    // Note: the write before it is done (a lease taken must be known as taken). A handle whose commits
                    // could stay NORMAL is closed under whoever still holds it: EF Core opens it again for the next
                    // statement, and every opening sets FULL.
                    await _database.GetDbConnection().CloseAsync();
                }
            }

            await _database.CloseConnectionAsync();
        }
    }
}
