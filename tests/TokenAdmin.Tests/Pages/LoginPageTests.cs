using System.Net;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.Tests.Pages;

public sealed class LoginPageTests : IAsyncLifetime
{
    private readonly TokenAdminFactory _app = new();

    public Task InitializeAsync() => _app.CreateAdminAsync("alice");

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static Dictionary<string, string> Credentials(string password, string user = "alice") =>
        new() { ["Input.UserName"] = user, ["Input.Password"] = password };

    [Fact]
    public async Task Login_WithRightPassword_SignsIn_AndShowsMenu()
    {
        var browser = _app.CreateBrowser();

        var response = await browser.PostFormAsync("/account/login?returnUrl=%2Fsettings", Credentials(TokenAdminFactory.AdminPassword));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/settings", response.Headers.Location!.OriginalString);
        var home = await browser.GetStringAsync("/");
        Assert.Contains("Signed in as <strong>alice</strong>", home, StringComparison.Ordinal);
        Assert.Contains(">Settings</a>", home, StringComparison.Ordinal);
        Assert.Contains(">Audit log</a>", home, StringComparison.Ordinal);
        Assert.Contains("Sign out", home, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_UserNameIsCaseInsensitive()
    {
        var response = await _app.CreateBrowser().PostFormAsync("/account/login", Credentials(TokenAdminFactory.AdminPassword, "ALICE"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
    }

    [Theory]
    [InlineData("alice", "wrong-password")]
    [InlineData("nobody", TokenAdminFactory.AdminPassword)]
    [InlineData("", "")]
    public async Task Login_WithWrongCredentials_SaysSo_AndDoesNotSignIn(string user, string password)
    {
        var browser = _app.CreateBrowser();

        var response = await browser.PostFormAsync("/account/login", Credentials(password, user));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Wrong user name or password.", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var home = await browser.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, home.StatusCode);
    }

    [Fact]
    public async Task Login_ToExternalReturnUrl_GoesHomeInstead()
    {
        var response = await _app.CreateBrowser().PostFormAsync(
            "/account/login?returnUrl=https%3A%2F%2Fevil.example%2F", Credentials(TokenAdminFactory.AdminPassword));

        Assert.Equal("/", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Login_AfterFiveFailures_EvenTheRightPasswordWaits_WithTheSameAnswer()
    {
        var browser = _app.CreateBrowser();
        for (var i = 0; i < 5; i++)
        {
            var failed = await browser.PostFormAsync("/account/login", Credentials("wrong-password"));
            Assert.Contains("Wrong user name or password.", await failed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var right = await browser.PostFormAsync("/account/login", Credentials(TokenAdminFactory.AdminPassword));

        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Contains("Wrong user name or password.", await right.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains(await _app.WithDbAsync(db => db.AuditEntries.Select(e => e.Action).ToListAsync()), a => a == "admin.sign-in-slowed");
    }

    [Fact]
    public async Task Logout_EndsTheSession()
    {
        var browser = _app.CreateBrowser();
        await browser.PostFormAsync("/account/login", Credentials(TokenAdminFactory.AdminPassword));

        var response = await browser.PostFormAsync("/account/logout", [], formPage: "/");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("You are signed out.", await browser.GetStringAsync(response.Headers.Location!.OriginalString), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/settings")).StatusCode);
    }

    [Fact]
    public async Task Cookie_StopsWorking_WhenTheAdminIsRemoved()
    {
        var browser = _app.CreateBrowser();
        await browser.PostFormAsync("/account/login", Credentials(TokenAdminFactory.AdminPassword));

        // The first request with a new cookie checks the admin; later ones at most once a minute.
        await _app.WithDbAsync(db => db.AdminUsers.ExecuteDeleteAsync());
        var response = await browser.GetAsync("/settings");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("http://localhost/account/login", response.Headers.Location!.ToString(), StringComparison.OrdinalIgnoreCase);
    }
}

public sealed class SignInDelayTests : IAsyncLifetime
{
    private readonly TokenAdminFactory _app = new();

    public Task InitializeAsync()
    {
        _app.Settings["TokenAdmin:SignIn:FirstDelay"] = "00:00:00.200";
        return _app.CreateAdminAsync();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Login_AfterTheWait_SignsInAgain()
    {
        var browser = _app.CreateBrowser();
        for (var i = 0; i < 6; i++)
        {
            await browser.PostFormAsync("/account/login", new() { ["Input.UserName"] = "alice", ["Input.Password"] = "wrong-password" });
        }

        // Six failures: the next try waits 2 x 200 ms.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var right = await browser.PostFormAsync("/account/login", new() { ["Input.UserName"] = "alice", ["Input.Password"] = TokenAdminFactory.AdminPassword });

        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
    }
}

public sealed class SignInRateLimitTests : IAsyncLifetime
{
    private readonly TokenAdminFactory _app = new();

    public Task InitializeAsync()
    {
        _app.Settings["TokenAdmin:SignIn:PostsPerMinute"] = "3";
        return _app.CreateAdminAsync();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Login_PostsBeyondTheLimit_Get429WithMessage_WhilePageStillLoads()
    {
        var browser = _app.CreateBrowser();
        for (var i = 0; i < 3; i++)
        {
            var allowed = await browser.PostFormAsync("/account/login", new() { ["Input.UserName"] = "alice", ["Input.Password"] = "wrong-password" });
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        var limited = await browser.PostFormAsync("/account/login", new() { ["Input.UserName"] = "alice", ["Input.Password"] = TokenAdminFactory.AdminPassword });

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Contains("Too many attempts", await limited.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("60", limited.Headers.RetryAfter!.ToString());
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/account/login")).StatusCode);
    }
}
