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
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Benchmarks;

/// <summary>
/// 10,000 concurrent callers ask for one expired token; a loopback token endpoint answers after a fixed latency.
/// Target: exactly one token request, and every caller served within the provider's latency + 10 ms.
/// </summary>
internal static class ProviderHerd
{
    public static async Task<int> RunAsync(int callers, TimeSpan latency)
    {
        var requests = 0;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var endpoint = builder.Build();
        endpoint.MapPost("/token", async context =>
        {
            Interlocked.Increment(ref requests);
            await Task.Delay(latency);
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync($$"""{"access_token":"herd-{{Guid.NewGuid():N}}","token_type":"Bearer","expires_in":3600,"refresh_token":"rotated-{{Guid.NewGuid():N}}"}""");
        });
        await endpoint.StartAsync();
        var tokenUrl = endpoint.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/token";

        var dataDirectory = Path.Combine(Path.GetTempPath(), "tokenadmin-bench-" + Guid.NewGuid().ToString("N"));
        using var host = Seeding.BuildHost(dataDirectory);
        await Seeding.SeedAsync(host.Services, 4); // configs 0 and 2 have tokens
        var sources = new List<TokenSource>();
        using (var scope = host.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TokenAdminDb>();
            foreach (var config in await db.TokenConfigs.Include(c => c.State).Where(c => c.State != null).Take(2).ToListAsync())
            {
                var document = TokenConfigYaml.Parse(config.Yaml);
                document.Endpoints.Token = tokenUrl;
                document.Tenant = null;
                config.Yaml = TokenConfigYaml.Write(document);
                config.Valid = true;
                config.State!.AccessTokenExpiresAt = DateTime.UtcNow.AddMinutes(-1);
                config.State.RefreshTokenExpiresAt = DateTime.UtcNow.AddDays(30);
                config.State.LastErrorCode = null;
                sources.Add(TokenSource.Config(config.Id));
            }

            await db.SaveChangesAsync();
        }

        var provider = host.Services.GetRequiredService<ITokenProvider>();
        // Warm-up on the first config: JIT, EF Core's query cache, the HTTP connection. Measured: the second.
        await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => provider.GetTokenAsync(sources[0], CancellationToken.None).AsTask()));
        requests = 0;
        var source = sources[1];
        var calls = new Task<BearerToken>[callers];
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < callers; i++)
        {
            calls[i] = provider.GetTokenAsync(source, CancellationToken.None).AsTask();
        }

        var tokens = await Task.WhenAll(calls);
        var elapsed = clock.Elapsed;

        var distinct = tokens.Select(t => t.Value).Distinct().Count();
        var limit = latency + TimeSpan.FromMilliseconds(10);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{callers} concurrent callers, provider latency {latency.TotalMilliseconds:0} ms: {requests} token request(s), {distinct} distinct token(s), all served in {elapsed.TotalMilliseconds:0.0} ms (target: 1 request, <= {limit.TotalMilliseconds:0} ms)."));
        Console.WriteLine($"Machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}.");
        await endpoint.StopAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(dataDirectory, recursive: true);
        return requests == 1 && distinct == 1 && elapsed <= limit ? 0 : 1;
    }
}
