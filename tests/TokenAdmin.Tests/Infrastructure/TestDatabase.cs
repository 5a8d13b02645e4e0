using System.Collections.Concurrent;
using Npgsql;

namespace TokenAdmin.Tests.Infrastructure;

/// <summary>
/// Which engine the tests run on. By default every host gets its own SQLite file; when the environment variable
/// TOKENADMIN_TEST_POSTGRES holds a connection string to a PostgreSQL server (a superuser, as tests/run.sh provides),
/// every host gets a database of its own on that server instead, created empty and dropped afterwards.
/// </summary>
public static class TestDatabase
{
    public const string Variable = "TOKENADMIN_TEST_POSTGRES";

    private static readonly ConcurrentDictionary<string, string> ByDataDirectory = new();

    public static string? ServerConnectionString => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? value : null;

    public static bool IsPostgres => ServerConnectionString is not null;

    private static readonly ConcurrentDictionary<string, string> MasterKeys = new();

    /// <summary>
    /// Creates the database of the hosts using <paramref name="dataDirectory"/>: true when it made one (its caller drops
    /// it); false on SQLite or when another host on the same data directory made it already (they share it, as two
    /// processes on one SQLite file do).
    /// </summary>
    public static bool Create(string dataDirectory)
    {
        if (ServerConnectionString is not { } server || ByDataDirectory.ContainsKey(dataDirectory))
        {
            return false;
        }

        var name = "tokenadmin_test_" + Guid.NewGuid().ToString("N");
        using (var connection = new NpgsqlConnection(server))
        {
            connection.Open();
            using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            command.ExecuteNonQuery();
        }

        var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
        // On PostgreSQL TokenAdmin never makes up a master key; hosts sharing the database share this one.
        MasterKeys[dataDirectory] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        ByDataDirectory[dataDirectory] = connectionString;
        return true;
    }

    /// <summary>The configuration a host (or a console verb) on <paramref name="dataDirectory"/> needs to find its database.</summary>
    public static Dictionary<string, string?> Settings(string dataDirectory) =>
        ByDataDirectory.TryGetValue(dataDirectory, out var connectionString)
            ? new()
            {
                ["TokenAdmin:Database:Provider"] = "Postgres",
                ["TokenAdmin:Database:ConnectionString"] = connectionString,
                ["TokenAdmin:MasterKey"] = MasterKeys[dataDirectory],
            }
            : [];

    public static string? ConnectionString(string dataDirectory) => ByDataDirectory.GetValueOrDefault(dataDirectory);

    public static void Drop(string dataDirectory)
    {
        if (!ByDataDirectory.TryRemove(dataDirectory, out var connectionString) || ServerConnectionString is not { } server)
        {
            return;
        }

        MasterKeys.TryRemove(dataDirectory, out _);
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        using var connection = new NpgsqlConnection(server);
        connection.Open();
        using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Every value stored in the database of <paramref name="dataDirectory"/> as text (each row of each table), to look
    /// for plaintext secrets the way the SQLite tests read the raw file.
    /// </summary>
    public static async Task<string> RawTextAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        var text = new System.Text.StringBuilder();
        foreach (var table in tables)
        {
            await using var rows = new NpgsqlCommand($"SELECT t::text FROM \"{table}\" t", connection);
            await using var reader = await rows.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                text.AppendLine(reader.GetString(0));
            }
        }

        return text.ToString();
    }
}
