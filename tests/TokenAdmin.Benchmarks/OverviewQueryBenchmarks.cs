using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TokenAdmin.Data;
using TokenAdmin.Tokens;

namespace TokenAdmin.Benchmarks;

/// <summary>The overview query alone (SQLite, 10,000 configs): what one page costs before rendering.</summary>
[MemoryDiagnoser]
public class OverviewQueryBenchmarks
{
    private IHost _host = null!;
    private IServiceScope _scope = null!;
    private TokenAdminDb _db = null!;
    private string _dataDirectory = "";

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _dataDirectory = Path.Combine(Path.GetTempPath(), "tokenadmin-bench-" + Guid.NewGuid().ToString("N"));
        _host = Seeding.BuildHost(_dataDirectory);
        await Seeding.SeedAsync(_host.Services, 10_000);
        _scope = _host.Services.CreateScope();
        _db = _scope.ServiceProvider.GetRequiredService<TokenAdminDb>();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _scope.Dispose();
        _host.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public Task<TokenOverviewPage> FirstPage() => TokenOverview.ReadAsync(_db, null, 1, DateTime.UtcNow, CancellationToken.None);

    [Benchmark]
    public Task<TokenOverviewPage> Page100() => TokenOverview.ReadAsync(_db, null, 100, DateTime.UtcNow, CancellationToken.None);

    [Benchmark]
    public Task<TokenOverviewPage> Search() => TokenOverview.ReadAsync(_db, "mailbox-0999", 1, DateTime.UtcNow, CancellationToken.None);
}
