using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TokenAdmin.Data;
using TokenAdmin.Refresh;
using TokenAdmin.Settings;
using TokenAdmin.Tokens;

namespace TokenAdmin.Benchmarks;

/// <summary>
/// The token store updater over many due tokens against a loopback token endpoint that answers after a fixed latency
/// and rotates every refresh token. Two runs of the real updater over the same tokens: one by one (Parallelism 1), then
/// with the given parallelism. Target: the parallel run at least 20 times faster.
/// </summary>
internal static class UpdaterThroughput
{
    /// <summary>A warm-up copy that compiles fewer methods than this ends the warm-up (counted with <c>JitInfo</c>).</summary>
    private const int SteadyJitMethods = 100;

    /// <summary>The warm-up ends here even if the JIT has not settled (the warm-up lines show it).</summary>
    private const int MaxWarmUps = 8;

    /// <param name="accounts">Functional accounts instead of token configs: the same engine, the other kind of source.</param>
    public static async Task<int> RunAsync(int tokens, TimeSpan latency, int parallelism, int sequentialSample, bool accounts = false)
    {
        var requests = 0;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var endpoint = builder.Build();
        endpoint.MapPost("/token", async context =>
        {
            var form = await context.Request.ReadFormAsync();
            if (form["grant_type"] != "refresh_token" || !form["refresh_token"].ToString().StartsWith("rt-", StringComparison.Ordinal))
            {
                context.Response.StatusCode = 400;
                await context.Response.WriteAsync("""{"error":"invalid_grant"}""");
                return;
            }

            Interlocked.Increment(ref requests);
            await Task.Delay(latency);
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync($$"""{"access_token":"at-{{Guid.NewGuid():N}}","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-{{Guid.NewGuid():N}}"}""");
        });
        var issuer = "";
        ProviderDiscovery.Map(endpoint, () => issuer);
        await endpoint.StartAsync();
        issuer = endpoint.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        var tokenUrl = issuer + "/token";

        var dataDirectory = Path.Combine(Path.GetTempPath(), "tokenadmin-bench-" + Guid.NewGuid().ToString("N"));
        using var host = Seeding.BuildHost(dataDirectory);
        if (accounts)
        {
            await Seeding.SeedDueAccountsAsync(host.Services, tokens, issuer);
        }
        else
        {
            await Seeding.SeedDueAsync(host.Services, tokens, tokenUrl);
        }

        async Task<UpdaterRunSummary> RunUpdaterAsync(int withParallelism)
        {
            using var scope = host.Services.CreateScope();
            var settings = scope.ServiceProvider.GetRequiredService<SettingsStore>();
            var update = await settings.UpdateAsync(
                new Dictionary<string, string?> { [RefreshSettings.Parallelism] = withParallelism.ToString(CultureInfo.InvariantCulture) },
                "benchmark", CancellationToken.None);
            if (update.Errors.Count > 0)
            {
                throw new InvalidOperationException(string.Join("; ", update.Errors.Values));
            }

            await ExpireAllAsync();
            return await scope.ServiceProvider.GetRequiredService<TokenStoreUpdater>().RunAsync("benchmark", CancellationToken.None);
        }

        async Task ExpireAllAsync()
        {
            using var scope = host.Services.CreateScope();
            await scope.ServiceProvider.GetRequiredService<TokenAdminDb>().TokenStates
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.AccessTokenExpiresAt, DateTime.UtcNow.AddMinutes(-1)));
        }

        // Warm-up on copies of the work (EF Core's query cache, the HTTP connections, the JIT) until a copy compiles fewer
        // than SteadyJitMethods methods. Note: one copy was not enough: tiered compilation and dynamic PGO were still
        // recompiling the refresh path on a background thread during the timed parallel run, which took CPU from it
        // (the one-by-one run mostly waits on the provider and hardly noticed).
        for (var warmUp = 1; ; warmUp++)
        {
            var compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
            await RunUpdaterAsync(parallelism);
            compiled = System.Runtime.JitInfo.GetCompiledMethodCount() - compiled;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Warm-up {warmUp}: {compiled} methods compiled."));
            if (compiled < SteadyJitMethods || warmUp == MaxWarmUps)
            {
                break;
            }
        }

        // One by one: the same updater with Parallelism 1. Over all tokens when the sample is 0; otherwise over that many
        // (the rest set to invalid, so they are skipped) and scaled up, because 10,000 × the latency takes minutes.
        var sample = sequentialSample > 0 && sequentialSample < tokens ? sequentialSample : tokens;
        await SetValidAsync(host.Services, sample, accounts);
        requests = 0;
        var hostCpu = HostCpu.Now();
        var clock = Stopwatch.StartNew();
        var sequential = await RunUpdaterAsync(1);
        var sequentialTime = clock.Elapsed;
        var hostSequential = HostCpu.Now().Since(hostCpu);
        var sequentialRequests = requests;
        var sequentialPerToken = sequentialTime / Math.Max(1, sequential.Refreshed.Count);
        var sequentialAll = sequentialPerToken * tokens;

        await SetValidAsync(host.Services, tokens, accounts);
        requests = 0;
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var allocatedBefore = GC.GetTotalAllocatedBytes();
        var gcBefore = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        var cacheMissesBefore = EfQueryCacheMisses.Count;
        var tally = AllocationTally.StartIfAsked();
        hostCpu = HostCpu.Now();
        var jitBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
        clock.Restart();
        var parallel = await RunUpdaterAsync(parallelism);
        var hostParallel = HostCpu.Now().Since(hostCpu);
        var jitParallel = System.Runtime.JitInfo.GetCompiledMethodCount() - jitBefore;
        tally?.StopAndPrint(parallel.Refreshed.Count);
        var parallelTime = clock.Elapsed;
        var parallelCpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var allocated = GC.GetTotalAllocatedBytes() - allocatedBefore;
        var cacheMisses = EfQueryCacheMisses.Count - cacheMissesBefore;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Parallel run: {allocated / 1024.0 / Math.Max(1, parallel.Refreshed.Count):0} KiB allocated per token, GCs gen0/1/2 {GC.CollectionCount(0) - gcBefore.Item1}/{GC.CollectionCount(1) - gcBefore.Item2}/{GC.CollectionCount(2) - gcBefore.Item3}, EF query cache misses {cacheMisses}, server GC {System.Runtime.GCSettings.IsServerGC}."));
        var parallelRequests = requests;

        var speedup = sequentialAll / parallelTime;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"One by one: {sequential.Refreshed.Count} refreshed, {sequential.Failed.Count} failed, {sequentialRequests} requests in {sequentialTime.TotalSeconds:0.0} s = {sequentialPerToken.TotalMilliseconds:0.0} ms per token{(sample < tokens ? $", {sequentialAll.TotalSeconds:0} s for {tokens:N0} (scaled from {sample:N0})" : "")}; {hostSequential}."));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Parallelism {parallelism}: {parallel.Refreshed.Count} refreshed, {parallel.Failed.Count} failed, {parallelRequests} requests in {parallelTime.TotalSeconds:0.0} s = {parallel.Refreshed.Count / parallelTime.TotalSeconds:0} tokens/s, {parallelCpu.TotalMilliseconds / Math.Max(1, parallel.Refreshed.Count):0.00} ms CPU per token (app and token endpoint together); {hostParallel}; {jitParallel} methods compiled."));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Speed-up: {speedup:0.0}x (target >= 20x); provider latency {latency.TotalMilliseconds:0} ms, {tokens:N0} due {(accounts ? "functional accounts" : "token configs")}."));
        Console.WriteLine($"Machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}.");

        var allRefreshed = parallel.Refreshed.Count == tokens && parallel.Failed.Count == 0 && parallelRequests == tokens
            && sequential.Refreshed.Count == sample && sequential.Failed.Count == 0;
        if (!allRefreshed)
        {
            Console.WriteLine("Not every due token was refreshed exactly once: " + string.Join("; ", parallel.Failed.Take(5).Select(f => $"{f.Name}: {f.Message}")));
        }

        await endpoint.StopAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(dataDirectory, recursive: true);
        return allRefreshed && speedup >= 20 ? 0 : 1;
    }

    /// <summary>Counts EF Core's compiled-query cache misses (a miss compiles the query again: milliseconds of CPU).</summary>
    private static class EfQueryCacheMisses
    {
        private static long _count;
        private static readonly System.Diagnostics.Metrics.MeterListener Listener = Start();

        public static long Count
        {
            get
            {
                Listener.RecordObservableInstruments();
                return Interlocked.Read(ref _count);
            }
        }

        private static System.Diagnostics.Metrics.MeterListener Start()
        {
            var listener = new System.Diagnostics.Metrics.MeterListener
            {
                InstrumentPublished = (instrument, l) =>
                {
                    if (instrument.Meter.Name == "Microsoft.EntityFrameworkCore" && instrument.Name.Contains("compiled_query_cache_misses", StringComparison.Ordinal))
                    {
                        l.EnableMeasurementEvents(instrument);
                    }
                },
            };
            // An observable counter reports its running total, a plain counter each increment.
            listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            {
                if (instrument.IsObservable)
                {
                    Interlocked.Exchange(ref _count, value);
                }
                else
                {
                    Interlocked.Add(ref _count, value);
                }
            });
            listener.Start();
            return listener;
        }
    }

    /// <summary>Makes the first <paramref name="count"/> sources (by name) valid and the others invalid.</summary>
    private static async Task SetValidAsync(IServiceProvider services, int count, bool accounts)
    {
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenAdminDb>();
        var last = Seeding.DueName(count - 1);
        if (accounts)
        {
            await db.FunctionalAccounts.ExecuteUpdateAsync(u => u.SetProperty(a => a.Valid, a => string.Compare(a.Name, last) <= 0));
        }
        else
        {
            await db.TokenConfigs.ExecuteUpdateAsync(u => u.SetProperty(c => c.Valid, c => string.Compare(c.Name, last) <= 0));
        }
    }
}
