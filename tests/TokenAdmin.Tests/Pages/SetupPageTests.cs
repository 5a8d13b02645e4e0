using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Settings;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.Tests.Pages;

public sealed partial class SetupPageTests : IAsyncLifetime
{
    private readonly TokenAdminFactory _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<string> LoggedSetupLinkAsync()
    {
        _ = _app.Server; // starts the host; the link is logged once it has started
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            var line = _app.LogMessages.FirstOrDefault(m => m.Contains("/setup?token=", StringComparison.Ordinal));
            if (line is not null)
            {
                return new Uri(SetupLinkRegex().Match(line).Value).PathAndQuery;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("The app did not log a setup link within 10 s. Log:\n" + string.Join('\n', _app.LogMessages));
    }

    [Fact]
    public async Task Setup_WithLoggedLink_CreatesFirstAdmin_ThenLinkIsSpent()
    {
        var link = await LoggedSetupLinkAsync();
        var browser = _app.CreateBrowser();

        var response = await browser.PostFormAsync(link, new()
        {
            ["Input.UserName"] = "alice",
            ["Input.Password"] = "a-long-enough-password",
            ["Input.ConfirmPassword"] = "a-long-enough-password",
        });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/account/login", response.Headers.Location!.OriginalString, ignoreCase: true);
        Assert.Equal(1, await _app.WithDbAsync(db => db.AdminUsers.CountAsync()));
        var again = await browser.GetStringAsync(link);
        Assert.Contains("Setup is already done", again, StringComparison.Ordinal);
        Assert.DoesNotContain("Create admin</button>", again, StringComparison.Ordinal);
        var signIn = await browser.PostFormAsync("/account/login", new() { ["Input.UserName"] = "alice", ["Input.Password"] = "a-long-enough-password" });
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
    }

    [Fact]
    public async Task Setup_ReusedLinkPostedAgain_CreatesNoSecondAdmin()
    {
        var link = await LoggedSetupLinkAsync();
        var browser = _app.CreateBrowser();
        var page = await browser.GetStringAsync(link);
        var token = HttpClientForms.AntiforgeryToken(page);
        FormUrlEncodedContent Form(string user) => new(new Dictionary<string, string>
        {
            ["Input.UserName"] = user, ["Input.Password"] = "a-long-enough-password",
            ["Input.ConfirmPassword"] = "a-long-enough-password", ["__RequestVerificationToken"] = token,
        });

        var first = await browser.PostAsync(link, Form("alice"));
        var second = await browser.PostAsync(link, Form("mallory"));

        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Contains("Setup is already done", await second.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(["alice"], await _app.WithDbAsync(db => db.AdminUsers.Select(u => u.UserName).ToListAsync()));
    }

    [Fact]
    public async Task Setup_WithExpiredLink_SaysExpired_AndCreatesNothing()
    {
        var link = await LoggedSetupLinkAsync();
        await _app.WithDbAsync(db => db.SetupTokens.ExecuteUpdateAsync(s => s.SetProperty(t => t.ExpiresAt, DateTime.UtcNow.AddMinutes(-1))));
        var browser = _app.CreateBrowser();

        var page = await browser.GetStringAsync(link);

        Assert.Contains("This setup link has expired", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Create admin</button>", page, StringComparison.Ordinal);
        Assert.Equal(0, await _app.WithDbAsync(db => db.AdminUsers.CountAsync()));
    }

    [Theory]
    [InlineData("/setup?token=forged-value")]
    [InlineData("/setup")]
    public async Task Setup_WithUnknownLink_SaysNotValid(string link)
    {
        await LoggedSetupLinkAsync();

        var page = await _app.CreateBrowser().GetStringAsync(link);

        Assert.Contains("This setup link is not valid", page, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("alice", "short", "Password must be at least 12 characters.")]
    [InlineData("bad name", "a-long-enough-password", "User name must be 1 to 100 characters without spaces.")]
    [InlineData("alice", "alice-is-my-password", "Password must not contain the user name.")]
    public async Task Setup_WithBadInput_ShowsFieldError_AndKeepsLinkValid(string user, string password, string message)
    {
        var link = await LoggedSetupLinkAsync();
        var browser = _app.CreateBrowser();

        var response = await browser.PostFormAsync(link, new()
        {
            ["Input.UserName"] = user, ["Input.Password"] = password, ["Input.ConfirmPassword"] = password,
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Contains(message, html, StringComparison.Ordinal);
        Assert.DoesNotContain(password == "short" ? "value=\"short\"" : "value=\"" + password, html, StringComparison.Ordinal);
        Assert.Equal(0, await _app.WithDbAsync(db => db.AdminUsers.CountAsync()));
        Assert.Contains("Create admin</button>", await browser.GetStringAsync(link), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Setup_WithDifferentPasswords_ShowsError()
    {
        var link = await LoggedSetupLinkAsync();

        var response = await _app.CreateBrowser().PostFormAsync(link, new()
        {
            ["Input.UserName"] = "alice", ["Input.Password"] = "a-long-enough-password", ["Input.ConfirmPassword"] = "another-long-password",
        });

        Assert.Contains("Repeat password must be the same as Password.", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await _app.WithDbAsync(db => db.AdminUsers.CountAsync()));
    }

    [Fact]
    public async Task Setup_WithThreeMistakes_ShowsAllAtOnce_InTheFormsSummary_AndKeepsTheUserName()
    {
        var link = await LoggedSetupLinkAsync();

        var response = await _app.CreateBrowser().PostFormAsync(link, new()
        {
            ["Input.UserName"] = "bad name", ["Input.Password"] = "short", ["Input.ConfirmPassword"] = "other",
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Contains("3 things to correct:", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"#Input_UserName\">User name must be 1 to 100 characters without spaces.</a>", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"#Input_Password\">Password must be at least 12 characters.</a>", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"#Input_ConfirmPassword\">Repeat password must be the same as Password.</a>", html, StringComparison.Ordinal);
        Assert.Contains("value=\"bad name\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("value=\"short\"", html, StringComparison.Ordinal);
        Assert.Equal(0, await _app.WithDbAsync(db => db.AdminUsers.CountAsync()));
    }

    private HttpClient BrowserAt(string address) =>
        _app.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri(address), AllowAutoRedirect = false, HandleCookies = true });

    private async Task<SettingsSnapshot> SettingsAsync()
    {
        var store = _app.Services.GetRequiredService<SettingsStore>();
        store.Invalidate();
        return await store.GetAsync();
    }

    [Fact]
    public async Task Setup_OpenedOnAnotherAddress_OffersThatAddressAsThePublicUrl_AndSavesItWithTheAdmin()
    {
        var link = await LoggedSetupLinkAsync();
        var browser = BrowserAt("https://tokens.example.test:8443/");

        var page = WebUtility.HtmlDecode(await browser.GetStringAsync(link));

        Assert.Matches("<option value=\"https\" selected=\"selected\">https</option>", page);
        Assert.Contains("value=\"tokens.example.test:8443\"", page, StringComparison.Ordinal);
        var response = await browser.PostFormAsync(link, new()
        {
            ["Input.UserName"] = "alice", ["Input.Password"] = "a-long-enough-password", ["Input.ConfirmPassword"] = "a-long-enough-password",
            ["Input.HttpType"] = "https", ["Input.Fqdn"] = "tokens.example.test:8443", ["Input.PathBase"] = "/tokenadmin",
        });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var settings = await SettingsAsync();
        Assert.Equal("https://tokens.example.test:8443/tokenadmin", settings.PublicBaseUrl);
        Assert.Equal("https://tokens.example.test:8443/tokenadmin/oauth2/callback", settings.RedirectUri);
        Assert.Equal(["alice"], await _app.WithDbAsync(db => db.AuditEntries.Where(a => a.Action == "setting.updated").Select(a => a.Actor).Distinct().ToListAsync()));
    }

    [Fact]
    public async Task Setup_WithABadPublicUrlAndABadPassword_ShowsBothAtOnce_KeepsTheUrlAsTyped_AndChangesNothing()
    {
        var link = await LoggedSetupLinkAsync();

        var response = await _app.CreateBrowser().PostFormAsync(link, new()
        {
            ["Input.UserName"] = "alice", ["Input.Password"] = "short", ["Input.ConfirmPassword"] = "short",
            ["Input.HttpType"] = "https", ["Input.Fqdn"] = "https://tokens.example.test/x", ["Input.PathBase"] = "",
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Contains("2 things to correct:", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"#Input_Fqdn\">FQDN is a host name with an optional :port", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"#Input_Password\">Password must be at least 12 characters.</a>", html, StringComparison.Ordinal);
        Assert.Contains("value=\"https://tokens.example.test/x\"", html, StringComparison.Ordinal);
        Assert.Equal(0, await _app.WithDbAsync(db => db.AdminUsers.CountAsync()));
        Assert.False((await SettingsAsync()).IsStored(PublicUrlSettings.Fqdn));
    }

    [Fact]
    public async Task Setup_AfterThePublicUrlWasSetByConsole_ShowsIt_AndLeavesItAlone()
    {
        var link = await LoggedSetupLinkAsync();
        var browser = BrowserAt("http://127.0.0.1:5280/");
        // The page was open before the console wrote the setting (the app's settings snapshot is loaded and cached).
        Assert.Contains("name=\"Input.Fqdn\"", await browser.GetStringAsync(link), StringComparison.Ordinal);
        // `config update` runs in another process: it writes the rows, and this process is not told.
        await _app.WithDbAsync(async db =>
        {
            db.Settings.Add(new Setting { Name = PublicUrlSettings.HttpType, Value = "https", ChangedAt = DateTime.UtcNow, ChangedBy = "console" });
            db.Settings.Add(new Setting { Name = PublicUrlSettings.Fqdn, Value = "tokens.example.com", ChangedAt = DateTime.UtcNow, ChangedBy = "console" });
            return await db.SaveChangesAsync();
        });

        var page = WebUtility.HtmlDecode(await browser.GetStringAsync(link));

        Assert.Contains("TokenAdmin's public URL was set before setup: <code>https://tokens.example.com</code>", page, StringComparison.Ordinal);
        Assert.DoesNotContain("name=\"Input.Fqdn\"", page, StringComparison.Ordinal);
        var response = await browser.PostFormAsync(link, new()
        {
            ["Input.UserName"] = "alice", ["Input.Password"] = "a-long-enough-password", ["Input.ConfirmPassword"] = "a-long-enough-password",
            ["Input.HttpType"] = "http", ["Input.Fqdn"] = "127.0.0.1:5280",
        });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("https://tokens.example.com", (await SettingsAsync()).PublicBaseUrl);
        Assert.Equal(["console"], await _app.WithDbAsync(db => db.Settings.Select(s => s.ChangedBy).Distinct().ToListAsync()));
    }

    [Fact]
    public async Task Setup_ConsoleWritesThePublicUrlWhileTheFormIsOpen_TheAdminIsCreated_AndTheConsolesValueIsKept()
    {
        var link = await LoggedSetupLinkAsync();
        var browser = BrowserAt("http://127.0.0.1:5280/");
        var form = await browser.GetStringAsync(link);
        Assert.Contains("name=\"Input.Fqdn\"", form, StringComparison.Ordinal);
        var token = HttpClientForms.AntiforgeryToken(form);
        await _app.WithDbAsync(async db =>
        {
            db.Settings.Add(new Setting { Name = PublicUrlSettings.Fqdn, Value = "tokens.example.com", ChangedAt = DateTime.UtcNow, ChangedBy = "console" });
            return await db.SaveChangesAsync();
        });

        // Posted as the open form would (the page model saw no public URL when it rendered the fields).
        var response = await browser.PostAsync(link, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Input.UserName"] = "alice", ["Input.Password"] = "a-long-enough-password", ["Input.ConfirmPassword"] = "a-long-enough-password",
            ["Input.HttpType"] = "http", ["Input.Fqdn"] = "127.0.0.1:5280", ["Input.PathBase"] = "", ["__RequestVerificationToken"] = token,
        }));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(1, await _app.WithDbAsync(db => db.AdminUsers.CountAsync()));
        Assert.Equal("http://tokens.example.com", (await SettingsAsync()).PublicBaseUrl);
    }

    [Theory]
    [InlineData("/setup?token=forged-value")]
    [InlineData("/setup")]
    public async Task Setup_PostedWithAPublicUrlButNoValidLink_StoresNoSetting(string link)
    {
        var real = await LoggedSetupLinkAsync();
        var browser = BrowserAt("https://evil.example.test/");
        // A valid antiforgery pair, taken from the real link's form: only the setup token is missing or wrong.
        var token = HttpClientForms.AntiforgeryToken(await browser.GetStringAsync(real));

        var response = await browser.PostAsync(link, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Input.UserName"] = "mallory", ["Input.Password"] = "a-long-enough-password", ["Input.ConfirmPassword"] = "a-long-enough-password",
            ["Input.HttpType"] = "https", ["Input.Fqdn"] = "evil.example.test", ["Input.PathBase"] = "", ["__RequestVerificationToken"] = token,
        }));

        Assert.Contains("This setup link is not valid", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await _app.WithDbAsync(db => db.Settings.CountAsync()));
        Assert.Equal(0, await _app.WithDbAsync(db => db.AdminUsers.CountAsync()));
    }

    [GeneratedRegex(@"http://\S+/setup\?token=[A-Za-z0-9_\-]+")]
    private static partial Regex SetupLinkRegex();
}
