namespace TokenAdmin.Data;

/// <summary>Where the data lives. Bound from the "TokenAdmin" configuration section.</summary>
public sealed class DatabaseOptions
{
    /// <summary>Folder for the SQLite file and the master key; relative paths are under the content root.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>
    /// Overrides the SQLite connection string; by default the file tokenadmin.db in the data directory.
    /// Kept for installations from before "TokenAdmin:Database"; that section's ConnectionString wins when both are set.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>"TokenAdmin:Database": which engine, and how to reach it.</summary>
    public DatabaseEngineOptions Database { get; set; } = new();

    /// <summary>The engine in use and its connection string (the SQLite file in the data directory by default).</summary>
    public (DatabaseProvider Provider, string ConnectionString) Resolve(string dataDirectory)
    {
        var provider = Database.Provider;
        var connectionString = Database.ConnectionString ?? ConnectionString;
        if (provider == DatabaseProvider.Postgres)
        {
            return string.IsNullOrWhiteSpace(connectionString)
                ? throw new InvalidOperationException(
                    "TokenAdmin:Database:Provider is Postgres, but TokenAdmin:Database:ConnectionString is not set " +
                    "(for example Host=db.example.org;Database=tokenadmin;Username=tokenadmin;Password=...).")
                : (provider, connectionString);
        }

        return (DatabaseProvider.Sqlite, connectionString ?? $"Data Source={Path.Combine(dataDirectory, "tokenadmin.db")};Pooling=True");
    }
}

/// <summary>Bound from "TokenAdmin:Database".</summary>
public sealed class DatabaseEngineOptions
{
    /// <summary>Sqlite (one node, the default) or Postgres (one or several nodes sharing one database).</summary>
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    public string? ConnectionString { get; set; }
}

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}
