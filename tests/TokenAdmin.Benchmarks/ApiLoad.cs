using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TokenAdmin.Hosting;
using TokenAdmin.Oidc;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.WebServices.Api;

namespace TokenAdmin.Benchmarks;

/// <summary>
/// Requests per second of GET /api/v1/tokens with a valid bearer token against the same handler mapped without
/// authorization under /api/bench-open (same pipeline: the /api branch with its debugger recording), in one run, on a
/// loopback load. The app runs in this process on Kestrel; the token is minted with the in-process test IdP's key and
/// checked against its JWKS like any other. Target: authorized ≥ 0.5 × open.
/// </summary>
internal static class ApiLoad
{
    private static readonly string[] ReaderRole = ["reader"];

    /// <summary>Distinct tokens of the fresh-token scenario: more than the validator's cache holds.</summary>
    private const int FreshTokens = IncomingTokenValidator.CacheCapacity * 2;

    public static async Task<int> RunAsync(int configs, TimeSpan duration, int concurrency, int rounds)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "tokenadmin-bench-" + Guid.NewGuid().ToString("N"));
        await using var idp = await TestIdentityProviderServer.StartAsync();
        await idp.AddClientAsync(new TestClient("tokenadmin", "bench-secret", ["http://127.0.0.1:5080/oauth2/callback"]));
        using (var host = Seeding.BuildHost(dataDirectory))
        {
            await Seeding.SeedAsync(host.Services, configs);
        }

        var port = OverviewLoad.FreePort();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = Repository.AppProject, EnvironmentName = "Production" });
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Configuration["TokenAdmin:DataDirectory"] = dataDirectory;
        builder.Configuration["TokenAdmin:TokenStoreUpdater:Enabled"] = "false";
        // Note: the load measures the handlers, not the /api rate limits (which would answer 429 after 300 calls a minute).
        builder.Configuration["TokenAdmin:Api:RateLimit:PerClientPerMinute"] = "1000000000";
        builder.Configuration["TokenAdmin:Api:RateLimit:TotalPerMinute"] = "1000000000";
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole();
        builder.Configuration["Logging:LogLevel:Default"] = "Error";
        builder.AddTokenAdmin();
        await using var app = builder.Build();
        await app.PrepareTokenAdminAsync();
        app.UseTokenAdmin();
        // Note: the same handler, without RequireAuthorization, on a path the /api branch (recording) also covers.
        ApiEndpoints.MapTokenList(app.MapGroup("/api/bench-open"));
        await app.StartAsync();
        try
        {
            using (var scope = app.Services.CreateScope())
            {
                var result = await scope.ServiceProvider.GetRequiredService<OidcProfileService>().CreateAsync(new OidcProfileInput
                {
                    Name = "bench-idp", DiscoveryUrl = idp.MetadataAddress, ClientId = "tokenadmin", ClientSecret = "bench-secret",
                    AcceptIncomingTokens = true, CreateApiUsers = true, RestrictAudience = "tokenadmin-api",
                    RoleMapYaml = "roles:\n  reader: tokens.read",
                }, "benchmark", default);
                if (!result.Succeeded)
                {
                    Console.Error.WriteLine("Profile: " + string.Join("; ", result.Errors.Values));
                    return 2;
                }
            }

            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var token = idp.MintToken(new Dictionary<string, object>
            {
                ["iss"] = idp.Issuer.AbsoluteUri, ["aud"] = "tokenadmin-api", ["sub"] = "bench-robot", ["iat"] = now, ["nbf"] = now,
                ["exp"] = now + 3600, ["roles"] = ReaderRole,
            });
            using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, UseCookies = false })
            {
                BaseAddress = new Uri($"http://127.0.0.1:{port}/"),
                Timeout = TimeSpan.FromSeconds(10),
            };
            // Note: more distinct tokens than the accepted-token cache holds, used in turn, so nearly every call of this
            // scenario misses the cache and pays for the signature check (the realistic worst case).
            var fresh = Enumerable.Range(0, FreshTokens).Select(i => idp.MintToken(new Dictionary<string, object>
            {
                ["iss"] = idp.Issuer.AbsoluteUri, ["aud"] = "tokenadmin-api", ["sub"] = "bench-robot", ["iat"] = now, ["nbf"] = now,
                ["exp"] = now + 3600, ["roles"] = ReaderRole, ["jti"] = "bench-" + i.ToString(CultureInfo.InvariantCulture),
            })).ToArray();
            var scenarios = new (string Name, string Path, string[]? Token)[]
            {
                ("open (authorization off) /api/bench-open/tokens", "api/bench-open/tokens", null),
                ("bearer token /api/v1/tokens (one token: cache hits)", "api/v1/tokens", [token]),
                ($"fresh bearer tokens /api/v1/tokens ({FreshTokens} in turn: signature checked)", "api/v1/tokens", fresh),
            };
            foreach (var (_, path, bearer) in scenarios)
            {
                var warm = await MeasureAsync(client, path, bearer, TimeSpan.FromSeconds(3), concurrency); // JIT, pools, JWKS, API user
                if (warm.Errors > 0)
                {
                    Console.Error.WriteLine($"{path}: {warm.Errors} errors in the warm-up ({warm.FirstError}).");
                    return 2;
                }
            }

            // Interleaved rounds, so a burst of other work on the machine hits both alike.
            var results = scenarios.Select(_ => new List<Stats>()).ToList();
            for (var round = 0; round < rounds; round++)
            {
                for (var i = 0; i < scenarios.Length; i++)
                {
                    results[i].Add(await MeasureAsync(client, scenarios[i].Path, scenarios[i].Token, duration, concurrency));
                }
            }

            Console.WriteLine();
            Console.WriteLine($"Machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; load average {LoadAverage()}; " +
                $"{concurrency} concurrent clients, {rounds} interleaved rounds of {duration.TotalSeconds:0} s, {configs} token configs.");
            Console.WriteLine();
            Console.WriteLine("| scenario | round req/s | median req/s | p50 ms | p95 ms | errors |");
            Console.WriteLine("|---|---|---:|---:|---:|---:|");
            var medians = new List<double>();
            for (var i = 0; i < scenarios.Length; i++)
            {
                var perSecond = results[i].Select(s => s.PerSecond).Order().ToList();
                var median = perSecond[perSecond.Count / 2];
                medians.Add(median);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {scenarios[i].Name} | {string.Join(" / ", results[i].Select(s => s.PerSecond.ToString("0", CultureInfo.InvariantCulture)))} | {median:0} | {results[i].Average(s => s.P50):0.00} | {results[i].Average(s => s.P95):0.00} | {results[i].Sum(s => s.Errors)} |"));
            }

            var ratio = medians[1] / medians[0];
            var met = ratio >= 0.5 && results.All(r => r.All(s => s.Errors == 0));
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Bearer / open = {ratio:0.00} (target >= 0.5): {(met ? "met" : "NOT met")}."));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Fresh tokens / open = {medians[2] / medians[0]:0.00} (signature checked on nearly every call; for information)."));
            return met ? 0 : 1;
        }
        finally
        {
            await app.StopAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: the temp folder.
            }
        }
    }

    private sealed record Stats(int Count, double PerSecond, double P50, double P95, int Errors, string? FirstError);

    private static async Task<Stats> MeasureAsync(HttpClient client, string path, string[]? tokens, TimeSpan duration, int concurrency)
    {
        var next = -1;
        var latencies = new List<double>[concurrency];
        var errors = 0;
        string? firstError = null;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(async w =>
        {
            var mine = latencies[w] = [];
            while (clock.Elapsed < duration)
            {
                var started = clock.Elapsed;
                using var request = new HttpRequestMessage(HttpMethod.Get, path);
                if (tokens is not null)
                {
                    var token = tokens[(int)((uint)Interlocked.Increment(ref next) % (uint)tokens.Length)];
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                }

                try
                {
                    using var response = await client.SendAsync(request);
                    var body = await response.Content.ReadAsStringAsync();
                    if (!response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref errors);
                        firstError ??= $"HTTP {(int)response.StatusCode} {body[..Math.Min(body.Length, 300)]}";
                        continue;
                    }
                }
                catch (HttpRequestException ex)
                {
                    Interlocked.Increment(ref errors);
                    firstError ??= ex.Message;
                    continue;
                }

                mine.Add((clock.Elapsed - started).TotalMilliseconds);
            }
        }).ToList();
        await Task.WhenAll(workers);
        var elapsed = clock.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToList();
        double At(double q) => all.Count == 0 ? 0 : all[Math.Min(all.Count - 1, (int)(q * all.Count))];
        return new Stats(all.Count, all.Count / elapsed, At(0.5), At(0.95), errors, firstError);
    }

    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0..3].Aggregate((a, b) => a + " " + b);
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
