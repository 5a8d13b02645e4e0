using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace TokenAdmin.Benchmarks;

/// <summary>
/// The token overview with many configs under a loopback load, measured in the same run as a static file and an
/// anonymous page of the same host. Target: overview p50 at most 3 times the static file's p50.
/// </summary>
internal static partial class OverviewLoad
{
    public static async Task<int> RunAsync(int configs, TimeSpan duration, int concurrency, string configuration)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "tokenadmin-bench-" + Guid.NewGuid().ToString("N"));
        var assembly = Repository.AppAssembly(configuration);
        if (!File.Exists(assembly))
        {
            Console.Error.WriteLine($"{assembly} is missing: run `dotnet build -c {configuration}` first.");
            return 2;
        }

        var seed = Stopwatch.StartNew();
        using (var host = Seeding.BuildHost(dataDirectory))
        {
            await Seeding.SeedAsync(host.Services, configs);
        }

        Console.WriteLine($"Seeded {configs} token configs in {seed.Elapsed.TotalSeconds:0.0} s.");
        var port = FreePort();
        using var app = StartApp(assembly, dataDirectory, port);
        try
        {
            var baseAddress = new Uri($"http://127.0.0.1:{port}/");
            using var client = new HttpClient(new SocketsHttpHandler { UseCookies = true, AllowAutoRedirect = false, MaxConnectionsPerServer = concurrency })
            {
                BaseAddress = baseAddress,
                Timeout = TimeSpan.FromSeconds(10),
            };
            await WaitUntilReadyAsync(client);
            await SignInAsync(client);

            var scenarios = new (string Name, string Path)[]
            {
                ("static page /account/accessdenied", "account/accessdenied"),
                ("static file /css/site.css", "css/site.css"),
                ("anonymous page with form /account/login", "account/login"),
                ($"overview /tokens ({configs} configs)", "tokens"),
                ("overview page 100 /tokens?p=100", "tokens?p=100"),
                ("overview search /tokens?q=mailbox-0999", "tokens?q=mailbox-0999"),
                ($"dashboard / ({configs} configs)", ""),
            };
            foreach (var (_, path) in scenarios)
            {
                await MeasureAsync(client, path, TimeSpan.FromSeconds(2), concurrency); // warm-up: JIT, caches, pools
            }

            var results = new List<(string Name, Stats Stats)>();
            foreach (var (name, path) in scenarios)
            {
                results.Add((name, await MeasureAsync(client, path, duration, concurrency)));
            }

            Console.WriteLine();
            Console.WriteLine($"Machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; {concurrency} concurrent clients, {duration.TotalSeconds:0} s per scenario, {configuration} build.");
            Console.WriteLine();
            Console.WriteLine("| scenario | requests | req/s | p50 ms | p95 ms | p99 ms | errors |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
            foreach (var (name, s) in results)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {s.Count} | {s.PerSecond:0} | {s.P50:0.00} | {s.P95:0.00} | {s.P99:0.00} | {s.Errors} |"));
            }

            var ratio = results[3].Stats.P50 / results[0].Stats.P50;
            var dashboardRatio = results[6].Stats.P50 / results[0].Stats.P50;
            var met = ratio <= 3 && dashboardRatio <= 3 && results.All(r => r.Stats.Errors == 0);
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Overview p50 / static page p50 = {ratio:0.00} (target <= 3): {(ratio <= 3 ? "met" : "NOT met")}."));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Dashboard p50 / static page p50 = {dashboardRatio:0.00} (target <= 3): {(dashboardRatio <= 3 ? "met" : "NOT met")}."));
            return met ? 0 : 1;
        }
        finally
        {
            app.Kill(entireProcessTree: true);
            await app.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private sealed record Stats(int Count, int Errors, double PerSecond, double P50, double P95, double P99);

    private static async Task<Stats> MeasureAsync(HttpClient client, string path, TimeSpan duration, int concurrency)
    {
        var latencies = new List<double>[concurrency];
        var errors = 0;
        var stop = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
        {
            var mine = latencies[worker] = [];
            while (stop.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await client.GetAsync(path, HttpCompletionOption.ResponseContentRead);
                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref errors);
                }

                mine.Add(elapsed);
            }
        }));
        var all = latencies.SelectMany(l => l).Order().ToArray();
        double Percentile(double p) => all[Math.Min(all.Length - 1, (int)Math.Ceiling(p * all.Length) - 1)];
        return new Stats(all.Length, errors, all.Length / stop.Elapsed.TotalSeconds, Percentile(0.50), Percentile(0.95), Percentile(0.99));
    }

    private static Process StartApp(string assembly, string dataDirectory, int port)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = Repository.AppProject, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(assembly);
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add($"http://127.0.0.1:{port}");
        info.Environment["TokenAdmin__DataDirectory"] = dataDirectory;
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine("app: " + e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitUntilReadyAsync(HttpClient client)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            try
            {
                using var response = await client.GetAsync("healthz/ready");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("TokenAdmin did not become ready within 60 s.");
    }

    private static async Task SignInAsync(HttpClient client)
    {
        var page = await client.GetStringAsync("account/login");
        var token = AntiforgeryRegex().Match(page).Groups[1].Value;
        using var response = await client.PostAsync("account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Input.UserName"] = Seeding.AdminUser, ["Input.Password"] = Seeding.AdminPassword, ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token),
        }));
        if (response.StatusCode != HttpStatusCode.Redirect)
        {
            throw new InvalidOperationException($"Sign-in failed: HTTP {(int)response.StatusCode}.");
        }
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryRegex();
}
