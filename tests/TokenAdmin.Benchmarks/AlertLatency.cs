using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TokenAdmin.Alerts;
using TokenAdmin.Alerts.Channels;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Benchmarks;

/// <summary>
/// The time from a refresh failure to the webhook receiver having the alert, with the default alert settings: a
/// loopback token endpoint refuses a client-credentials token config (invalid_client) and then accepts it again; the
/// dispatcher runs in the same process as the renewal, as on a single node. Target: p95 at most 5 s.
/// </summary>
internal static class AlertLatency
{
    public static async Task<int> RunAsync(int rounds)
    {
        var refuse = false;
        var refusedAt = 0L;
        var arrivals = new ConcurrentQueue<(string Type, long At)>();
        var arrived = new SemaphoreSlim(0);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var endpoint = builder.Build();
        endpoint.MapPost("/token", async context =>
        {
            context.Response.ContentType = "application/json";
            if (Volatile.Read(ref refuse))
            {
                Volatile.Write(ref refusedAt, Stopwatch.GetTimestamp());
                context.Response.StatusCode = 401;
                await context.Response.WriteAsync("""{"error":"invalid_client","error_description":"client secret expired"}""");
                return;
            }

            await context.Response.WriteAsync($$"""{"access_token":"bench-{{Guid.NewGuid():N}}","token_type":"Bearer","expires_in":3600}""");
        });
        endpoint.MapPost("/hook", async context =>
        {
            var alert = await JsonDocument.ParseAsync(context.Request.Body);
            arrivals.Enqueue((alert.RootElement.GetProperty("type").GetString()!, Stopwatch.GetTimestamp()));
            arrived.Release();
            context.Response.StatusCode = 204;
        });
        await endpoint.StartAsync();
        var baseUrl = endpoint.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');

        var dataDirectory = Path.Combine(Path.GetTempPath(), "tokenadmin-bench-" + Guid.NewGuid().ToString("N"));
        using var host = Seeding.BuildHost(dataDirectory);
        await Seeding.SeedAsync(host.Services, 0);
        int id;
        using (var scope = host.Services.CreateScope())
        {
            var document = TokenTemplates.Find(TokenTemplates.Custom)!.NewDocument();
            document.Name = "alerting";
            document.Flow = TokenFlows.ClientCredentials;
            document.ClientId = "bench";
            document.Scope = "api";
            document.Endpoints.Token = baseUrl + "/token";
            var created = await scope.ServiceProvider.GetRequiredService<TokenConfigService>().CreateAsync(document, new TokenConfigSecrets("bench-secret", null), "benchmark", default);
            id = created.Config?.Id ?? throw new InvalidOperationException(string.Join("; ", created.Errors.Values));
            var channel = await scope.ServiceProvider.GetRequiredService<AlertChannelService>().CreateAsync(
                new AlertChannelInput { Name = "bench", Kind = AlertChannelKind.Webhook, Target = baseUrl + "/hook", Secret = "benchmark-signing-secret" }, "benchmark", default);
            if (!channel.Succeeded)
            {
                throw new InvalidOperationException(string.Join("; ", channel.Errors.Values));
            }
        }

        var dispatcher = host.Services.GetRequiredService<AlertDispatcher>();
        await dispatcher.StartAsync(default);
        var latencies = new List<double>();
        try
        {
            for (var round = 0; round < rounds; round++)
            {
                Volatile.Write(ref refuse, false);
                await RenewAsync(host.Services, id);
                if (round > 0)
                {
                    await WaitForAsync(arrivals, arrived, AlertTypes.SourceRecovered, round);
                }

                Volatile.Write(ref refuse, true);
                await RenewAsync(host.Services, id);
                var at = await WaitForAsync(arrivals, arrived, AlertTypes.SourceDead, round + 1);
                latencies.Add(Stopwatch.GetElapsedTime(Volatile.Read(ref refusedAt), at).TotalMilliseconds);
            }
        }
        finally
        {
            await dispatcher.StopAsync(default);
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dataDirectory, recursive: true);
        }

        var sorted = latencies.Order().ToArray();
        double Percentile(double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
        var p95 = Percentile(0.95);
        Console.WriteLine($"Machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; {rounds} rounds, default alert settings.");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Refresh failure → webhook received: p50 {Percentile(0.5):0.0} ms, p95 {p95:0.0} ms, max {sorted[^1]:0.0} ms (target p95 <= 5000 ms): {(p95 <= 5000 ? "met" : "NOT met")}."));
        return p95 <= 5000 ? 0 : 1;
    }

    private static async Task RenewAsync(IServiceProvider services, int id)
    {
        using var scope = services.CreateScope();
        await scope.ServiceProvider.GetRequiredService<TokenEngine>().RenewAsync(TokenSource.Config(id), "benchmark", default);
    }

    /// <summary>Waits (at most 30 s) until the <paramref name="count"/>th alert of <paramref name="type"/> arrived; its arrival time.</summary>
    private static async Task<long> WaitForAsync(ConcurrentQueue<(string Type, long At)> arrivals, SemaphoreSlim arrived, string type, int count)
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var matching = arrivals.Where(a => a.Type == type).ToList();
            if (matching.Count >= count)
            {
                return matching[count - 1].At;
            }

            await arrived.WaitAsync(bound.Token);
        }
    }
}
