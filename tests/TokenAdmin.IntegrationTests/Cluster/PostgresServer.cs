using System.Diagnostics;
using Npgsql;
using TokenAdmin.IntegrationTests.Infrastructure;

namespace TokenAdmin.IntegrationTests.Cluster;

/// <summary>
/// A throw-away PostgreSQL server on loopback, started and stopped with tests/postgres-temp.sh (Debian's `postgresql`
/// package, a temporary data directory, trust for the local test user). Stopped by the PID in its postmaster.pid.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(90);

    private PostgresServer(string directory, int port)
    {
        Directory = directory;
        Port = port;
    }

    public string Directory { get; }
    public int Port { get; }
    public string ServerConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres";

    public static async Task<PostgresServer> StartAsync()
    {
        var output = await RunScriptAsync("start");
        var parts = output.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2 || !int.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var port))
        {
            throw new InvalidOperationException("postgres-temp.sh start printed an unexpected line: " + output);
        }

        return new PostgresServer(parts[0], port);
    }

    /// <summary>Creates an empty database and returns the connection string to it.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        await using (var connection = new NpgsqlConnection(ServerConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name }.ConnectionString;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await RunScriptAsync("stop", Directory);
    }

    private static async Task<string> RunScriptAsync(params string[] args)
    {
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(RepositoryPaths.Root, "tests", "postgres-temp.sh"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(ScriptTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"postgres-temp.sh {string.Join(' ', args)} did not finish within {ScriptTimeout.TotalSeconds} s.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"postgres-temp.sh {string.Join(' ', args)} failed ({process.ExitCode}): {await stderr}");
        }

        return await stdout;
    }
}
