using System.Collections.Concurrent;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TokenAdmin.Admin;
using TokenAdmin.Data;

namespace TokenAdmin.Tests.Infrastructure;

/// <summary>
/// The real host in-process, on its own SQLite file in a temporary data directory (deleted afterwards), or on its own
/// PostgreSQL database when the tests run on PostgreSQL (<see cref="TestDatabase"/>).
/// Captures log messages so tests can read what an operator would see, such as the setup link.
/// </summary>
public partial class TokenAdminFactory : WebApplicationFactory<Program>
{
    public const string AdminPassword = "correct-horse-battery";

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "tokenadmin-tests", Guid.NewGuid().ToString("N"));
    public ConcurrentQueue<string> LogMessages { get; } = new();
    public Dictionary<string, string?> Settings { get; } = new()
    {
        ["TokenAdmin:SignIn:PostsPerMinute"] = "1000",
        // Tests make calls faster than any client should; the API limits have their own tests (Security/DebuggerFloodTests).
        ["TokenAdmin:Api:RateLimit:PerClientPerMinute"] = "100000",
        ["TokenAdmin:Api:RateLimit:TotalPerMinute"] = "100000",
        // A scheduled updater run at the top of the hour would refresh tokens under a running test; tests run it themselves.
        ["TokenAdmin:TokenStoreUpdater:Enabled"] = "false",
    };

    public string DatabasePath => Path.Combine(DataDirectory, "tokenadmin.db");

    private string? _databaseDirectory;
    private bool _ownsDatabase;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("TokenAdmin:DataDirectory", DataDirectory);
        // A test that points a second host at another host's data directory gets that host's database as well.
        _databaseDirectory = Settings.GetValueOrDefault("TokenAdmin:DataDirectory") ?? DataDirectory;
        _ownsDatabase = TestDatabase.Create(_databaseDirectory);
        foreach (var (key, value) in TestDatabase.Settings(_databaseDirectory))
        {
            builder.UseSetting(key, value);
        }

        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging => logging.AddProvider(new CapturingLoggerProvider(LogMessages)));
    }

    /// <summary>A client that keeps cookies and does not follow redirects, so tests see each step.</summary>
    public HttpClient CreateBrowser() => CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    public async Task CreateAdminAsync(string userName = "alice", string password = AdminPassword)
    {
        using var scope = Services.CreateScope();
        var accounts = scope.ServiceProvider.GetRequiredService<AdminAccounts>();
        accounts.Add(userName, password, "test");
        await scope.ServiceProvider.GetRequiredService<TokenAdminDb>().SaveChangesAsync();
    }

    /// <summary>Creates an admin and returns a browser signed in as that admin.</summary>
    public async Task<HttpClient> SignedInBrowserAsync(string userName = "alice")
    {
        await CreateAdminAsync(userName);
        var browser = CreateBrowser();
        var response = await browser.PostFormAsync("/account/login", new() { ["Input.UserName"] = userName, ["Input.Password"] = AdminPassword });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return browser;
    }

    public T WithScope<T>(Func<IServiceProvider, T> use)
    {
        using var scope = Services.CreateScope();
        return use(scope.ServiceProvider);
    }

    public async Task<T> WithDbAsync<T>(Func<TokenAdminDb, Task<T>> use)
    {
        using var scope = Services.CreateScope();
        return await use(scope.ServiceProvider.GetRequiredService<TokenAdminDb>());
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
        SqliteConnection.ClearAllPools();
        if (_ownsDatabase)
        {
            TestDatabase.Drop(_databaseDirectory!);
        }

        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still open by a finishing background task; the temp folder is cleaned by the OS.
        }
    }

    private sealed class CapturingLoggerProvider(ConcurrentQueue<string> messages) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new CapturingLogger(messages);

        public void Dispose()
        {
        }
    }

    private sealed class CapturingLogger(ConcurrentQueue<string> messages) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            messages.Enqueue(formatter(state, exception) + (exception is null ? "" : " " + exception));
    }
}

public static partial class HttpClientForms
{
    /// <summary>GETs the page holding the form, then POSTs the fields with the page's antiforgery token, as a browser does.</summary>
    public static async Task<HttpResponseMessage> PostFormAsync(this HttpClient client, string url, Dictionary<string, string> fields, string? formPage = null)
    {
        var page = await client.GetStringAsync(formPage ?? url);
        var content = new Dictionary<string, string>(fields) { ["__RequestVerificationToken"] = AntiforgeryToken(page) };
        return await client.PostAsync(url, new FormUrlEncodedContent(content));
    }

    public static string AntiforgeryToken(string html)
    {
        var match = AntiforgeryRegex().Match(html);
        Assert.True(match.Success, "The page has no antiforgery token:\n" + html);
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryRegex();
}
