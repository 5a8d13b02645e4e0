using Microsoft.EntityFrameworkCore;

namespace TokenAdmin.Data;

internal static class DatabaseStartup
{
    /// <summary>Applies pending migrations; on SQLite switches the file to write-ahead logging first.</summary>
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
        }

        await db.Database.MigrateAsync(cancellationToken);
    }
}
