namespace TokenAdmin.Data;

/// <summary>The engine this process uses and how to reach it, resolved once from the configuration.</summary>
public sealed class DatabaseEngine(DatabaseProvider provider, string connectionString)
{
    public DatabaseProvider Provider { get; } = provider;

    /// <summary>May hold a password: never logged or shown.</summary>
    public string ConnectionString { get; } = connectionString;

    public bool IsPostgres => Provider == DatabaseProvider.Postgres;

    public static DatabaseEngine From(DatabaseOptions options, string dataDirectory)
    {
        var (provider, connectionString) = options.Resolve(dataDirectory);
        return new DatabaseEngine(provider, connectionString);
    }
}
