using System.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Data;

/// <summary>
/// Lease writes commit without waiting for the disk (synchronous=NORMAL) and nothing else does: the setting is set back
/// when the scope ends and again on every opening of a pooled connection.
/// </summary>
public sealed class SqliteConnectionsTests : IAsyncLifetime
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"tokenadmin-sync-{Guid.NewGuid():N}.db");
    private TokenAdminDb _db = null!;

    public async Task InitializeAsync()
    {
        _db = new TokenAdminDb(new DbContextOptionsBuilder<TokenAdminDb>().UseSqlite($"Data Source={_path}").AddInterceptors(new SqliteBusyTimeout()).Options);
        await DatabaseStartup.MigrateAsync(_db, default);
    }

    public async Task DisposeAsync()
    {
        await _db.DisposeAsync();
        SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(_path)!, Path.GetFileName(_path) + "*"))
        {
            File.Delete(file);
        }
    }

    private long Synchronous()
    {
        using var command = _db.Database.GetDbConnection().CreateCommand();
        command.CommandText = "PRAGMA synchronous;";
        return (long)command.ExecuteScalar()!;
    }

    private const long Normal = 1;
    private const long Full = 2;

    [Fact]
    public async Task RelaxedCommits_AreNormalOnlyInsideTheScope_AndTheWriteIsThere()
    {
        await using (await SqliteConnections.RelaxedCommitsAsync(_db, default))
        {
            Assert.Equal(Normal, Synchronous());
            await _db.Database.ExecuteSqlRawAsync("INSERT INTO Settings (Name, Value, ChangedAt, ChangedBy) VALUES ('lease-test', 'x', '2026-12-03 00:00:00', 'test');");
        }

        Assert.Equal(ConnectionState.Closed, _db.Database.GetDbConnection().State);
        await _db.Database.OpenConnectionAsync();
        Assert.Equal(Full, Synchronous());
        await _db.Database.CloseConnectionAsync();
        await using var other = new SqliteConnection($"Data Source={_path};Pooling=False");
        await other.OpenAsync();
        await using var read = other.CreateCommand();
        read.CommandText = "SELECT Value FROM Settings WHERE Name = 'lease-test';";
        Assert.Equal("x", await read.ExecuteScalarAsync());
    }

    [Fact]
    public async Task APooledHandleLeftNormal_IsFullAgainOnTheNextOpening()
    {
        await _db.Database.OpenConnectionAsync();
        using (var command = _db.Database.GetDbConnection().CreateCommand())
        {
            command.CommandText = "PRAGMA synchronous = NORMAL;"; // as if the scope's own reset had not run
            command.ExecuteNonQuery();
        }

        await _db.Database.CloseConnectionAsync();
        await _db.Database.OpenConnectionAsync();
        Assert.Equal(Full, Synchronous());
        await _db.Database.CloseConnectionAsync();
    }

    [Fact]
    public async Task InsideAHeldConnection_TheRelaxedScopeEndsFull_AndTheConnectionStaysOpen()
    {
        await using (await SqliteConnections.HoldAsync(_db, default))
        {
            await using (await SqliteConnections.RelaxedCommitsAsync(_db, default))
            {
                Assert.Equal(Normal, Synchronous());
            }

            Assert.Equal(ConnectionState.Open, _db.Database.GetDbConnection().State);
            Assert.Equal(Full, Synchronous());
        }

        Assert.Equal(ConnectionState.Closed, _db.Database.GetDbConnection().State);
    }

    [Fact]
    public async Task AHoldDisposedTwice_ClosesOnce_SoAnOuterHoldStaysOpen()
    {
        await using (await SqliteConnections.HoldAsync(_db, default))
        {
            var inner = await SqliteConnections.HoldAsync(_db, default);
            await inner.DisposeAsync();
            await inner.DisposeAsync(); // the engine gives its hold back before the request and again at the end
            Assert.Equal(ConnectionState.Open, _db.Database.GetDbConnection().State);
        }

        Assert.Equal(ConnectionState.Closed, _db.Database.GetDbConnection().State);
    }

    [Fact]
    public async Task InsideATransaction_NothingChanges()
    {
        await using var transaction = await _db.Database.BeginTransactionAsync();
        await using (await SqliteConnections.RelaxedCommitsAsync(_db, default))
        {
            Assert.Equal(Full, Synchronous());
        }
    }

    [Fact]
    public void AnOperationResult_NeverPrintsTheTokensItReceived()
    {
        var result = new TokenOperationResult(true, "Token received.") { Issued = new IssuedTokens("access-secret-value", "id-secret-value") };
        Assert.DoesNotContain("secret-value", result.ToString(), StringComparison.Ordinal);
    }
}
