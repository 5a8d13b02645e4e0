using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using TokenAdmin.Data;
using TokenAdmin.Hosting;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.Tests.Hosting;

public sealed class HostingTests : IAsyncLifetime
{
    private readonly TokenAdminFactory _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Post_WithoutAntiforgeryToken_IsRejectedWithMessage_AndChangesNothing()
    {
        var browser = await _app.SignedInBrowserAsync();

        var response = await browser.PostAsync("/settings", new FormUrlEncodedContent(new Dictionary<string, string> { ["Values[HttpType]"] = "https" }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("nothing was changed", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await _app.WithDbAsync(db => db.Settings.CountAsync()));
    }

    [Fact]
    public async Task LoginPost_WithoutAntiforgeryToken_IsRejected()
    {
        await _app.CreateAdminAsync();

        var response = await _app.CreateBrowser().PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Input.UserName"] = "alice", ["Input.Password"] = TokenAdminFactory.AdminPassword,
        }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie") && response.Headers.GetValues("Set-Cookie").Any(c => c.StartsWith("tokenadmin.auth", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Pages_CarrySecurityHeaders()
    {
        var response = await _app.CreateBrowser().GetAsync("/account/login");

        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("default-src 'self'", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("same-origin", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
    }

    [Fact]
    public async Task Cookies_AreHttpOnly_AndSecureUnderHttps()
    {
        await _app.CreateAdminAsync();
        var browser = _app.CreateClient(new() { AllowAutoRedirect = false, BaseAddress = new Uri("https://localhost") });

        var response = await browser.PostFormAsync("/account/login", new() { ["Input.UserName"] = "alice", ["Input.Password"] = TokenAdminFactory.AdminPassword });

        var auth = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("tokenadmin.auth", StringComparison.Ordinal));
        Assert.Contains("secure", auth, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", auth, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", auth, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Health_Alive_AndReady_WhenDatabaseAnswers()
    {
        var client = _app.CreateClient();

        var alive = await client.GetAsync("/healthz");
        var ready = await client.GetAsync("/healthz/ready");

        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal("Healthy", await alive.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Healthy", await ready.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ReadyCheck_IsUnhealthy_WhenDatabaseCannotBeOpened()
    {
        var options = new DbContextOptionsBuilder<TokenAdminDb>().UseSqlite("Data Source=/proc/no-such-dir/tokenadmin.db").Options;
        await using var db = new TokenAdminDb(options);

        var result = await new DatabaseHealthCheck(db).CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Equal("The database does not answer.", result.Description);
    }

    [Fact]
    public async Task UnknownPage_ShowsFriendly404()
    {
        var response = await _app.CreateBrowser().GetAsync("/no/such/page");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Page not found", html, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Startup_CreatesDatabaseInWalMode_InTheDataDirectory()
    {
        _ = _app.Server;

        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_app.DatabasePath}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";

        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
        Assert.True(File.Exists(Path.Combine(_app.DataDirectory, "master.key")));
    }

    [Fact]
    public async Task AntiforgeryFailure_IsShownInTheAppLayout()
    {
        var browser = await _app.SignedInBrowserAsync();

        var response = await browser.PostAsync("/settings", new FormUrlEncodedContent(new Dictionary<string, string> { ["Values[HttpType]"] = "https" }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("The form could not be accepted", html, StringComparison.Ordinal);
        Assert.Contains("/css/site.css", html, StringComparison.Ordinal);
        Assert.Contains("<nav aria-label=\"Main\">", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/signin-oidc")]
    [InlineData("/signin-oidc?code=abc&state=xyz")]
    [InlineData("/signout-callback-oidc")]
    public async Task OidcCallback_WhileAdminOidcIsOff_IsAFriendly404_WithoutAnErrorInTheLog(string url)
    {
        var response = await _app.CreateBrowser().GetAsync(url);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("Page not found", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(_app.LogMessages, m => m.Contains("   at ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FirstStart_MigratesWithoutTheNonTransactionalMigrationWarning()
    {
        var response = await _app.CreateBrowser().GetAsync("/healthz/ready");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(_app.LogMessages, m => m.Contains("foreign_keys", StringComparison.OrdinalIgnoreCase)
            || m.Contains("reverted manually", StringComparison.OrdinalIgnoreCase));
    }
}
