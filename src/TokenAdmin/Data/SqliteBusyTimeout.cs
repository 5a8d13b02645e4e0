using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace TokenAdmin.Data;

/// <summary>
/// Lets SQLite itself wait for a busy database (another writer in this process, a job, another process) on every
/// connection TokenAdmin opens. Without it, Microsoft.Data.Sqlite answers SQLITE_BUSY by sleeping 150 ms and trying
/// again, so concurrent writers (the token store updater refreshing 32 tokens at once, a herd of callers) spent most
/// of their time asleep; SQLite's own busy handler retries within a millisecond or two. It also makes every commit
/// durable again (synchronous=FULL) on each opening.
/// </summary>
internal sealed class SqliteBusyTimeout : DbConnectionInterceptor
{
    /// <summary>As long as a command may take (the ADO.NET default command timeout).</summary>
    public const int Milliseconds = 30_000;

    /// <remarks>
    /// Note: synchronous=FULL is SQLite's default, set again here because a pooled handle may come back from
    /// <see cref="SqliteConnections.RelaxedCommitsAsync"/>: every commit waits for the disk unless it asks otherwise.
    /// </remarks>
    private const string Pragma = "PRAGMA busy_timeout = 30000; PRAGMA synchronous = FULL;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Pragma;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = Pragma;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
