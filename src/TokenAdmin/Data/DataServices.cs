using Microsoft.EntityFrameworkCore;

namespace TokenAdmin.Data;

/// <summary>Where TokenAdmin keeps its data: the database engine and the data directory (spool, master key, SQLite file).</summary>
public sealed record DataLocation(DatabaseEngine Engine, string Directory);

public static class DataServices
{
    /// <summary>
    /// The clock, the database (SQLite in the data directory by default, PostgreSQL when configured) as a pooled
    /// <see cref="TokenAdminDb"/> with the version stamp, and the SQLite write gate. Creates the data directory, readable
    /// only by its owner.
    /// </summary>
    public static DataLocation AddData(this IServiceCollection services, IConfiguration configuration, string contentRoot)
    {
        var database = configuration.GetSection("TokenAdmin").Get<DatabaseOptions>() ?? new DatabaseOptions();
        var dataDirectory = Path.GetFullPath(database.DataDirectory, contentRoot);
        if (!System.IO.Directory.Exists(dataDirectory))
        {
            // Only its owner may read the database and the master key.
            if (OperatingSystem.IsWindows())
            {
                System.IO.Directory.CreateDirectory(dataDirectory);
            }
            else
            {
                System.IO.Directory.CreateDirectory(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        var engine = DatabaseEngine.From(database, dataDirectory);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(engine);
        // Note: pooled, because a token refresh creates a scope and a context per source; building a fresh context
        // each time was a large part of the token store updater's CPU time.
        if (engine.Provider == DatabaseProvider.Postgres)
        {
            // Note: services keep asking for TokenAdminDb; the subclass only brings the PostgreSQL migrations along.
            services.AddDbContextPool<TokenAdminDb, PostgresTokenAdminDb>(o => o.UseNpgsql(engine.ConnectionString).AddInterceptors(VersionStamp.Instance));
        }
        else
        {
            var busyTimeout = new SqliteBusyTimeout();
            services.AddDbContextPool<TokenAdminDb>(o => o.UseSqlite(engine.ConnectionString).AddInterceptors(busyTimeout, VersionStamp.Instance));
        }

        services.AddSingleton(_ => new DatabaseWriteGate(serialize: engine.Provider == DatabaseProvider.Sqlite));
        return new DataLocation(engine, dataDirectory);
    }
}
