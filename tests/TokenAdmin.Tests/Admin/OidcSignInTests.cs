using Microsoft.EntityFrameworkCore;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Admin;
using TokenAdmin.Settings;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.Tests.Admin;

/// <summary>Admin sign-in through the test identity provider over real HTTP on loopback, step by step.</summary>
public sealed class OidcSignInTests : IAsyncLifetime
{
    private readonly TokenAdminFactory _app = new();
    private TestIdentityProviderServer _idp = null!;
    private HttpClient _atProvider = null!;

    public async Task InitializeAsync()
    {
        _idp = await TestIdentityProviderServer.StartAsync();
        await _idp.AddClientAsync(new TestClient("tokenadmin", "tokenadmin-secret", ["http://localhost/signin-oidc"]));
        _idp.AddUser(new TestUser("alice", "alice-password-1") { Claims = new Dictionary<string, string[]> { ["roles"] = ["helpdesk", "tokenadmin-admins"] } });
        _idp.AddUser(new TestUser("bob", "bob-password-1") { Claims = new Dictionary<string, string[]> { ["roles"] = ["helpdesk"] } });
        _atProvider = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true });

        var result = await _app.Services.GetRequiredService<SettingsStore>().UpdateAsync(new Dictionary<string, string?>
        {
            [AdminOidcSettings.Enabled] = "true",
            [AdminOidcSettings.DisplayName] = "Test IdP",
            [AdminOidcSettings.MetadataAddress] = _idp.MetadataAddress,
            [AdminOidcSettings.ClientId] = "tokenadmin",
            [AdminOidcSettings.ClientSecret] = "tokenadmin-secret",
            [AdminOidcSettings.AdminValues] = "tokenadmin-admins, superusers",
        }, "test", default);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Values));
    }

    public async Task DisposeAsync()
    {
        _atProvider.Dispose();
        await _app.DisposeAsync();
        await _idp.DisposeAsync();
    }

    /// <summary>Starts sign-in at TokenAdmin and returns the provider's authorization URL it redirected to.</summary>
    private static async Task<Uri> StartSignInAsync(HttpClient browser)
    {
        var login = await browser.GetStringAsync("/account/login");
        Assert.Contains("Sign in with Test IdP", login, StringComparison.Ordinal);
        var challenge = await browser.GetAsync("/account/external?returnUrl=%2Faudit");
        Assert.Equal(HttpStatusCode.Redirect, challenge.StatusCode);
        return challenge.Headers.Location!;
    }

    private Task<Uri> SignInAtProviderAsync(Uri authorize, string user, string password) =>
        ProviderLogin.SignInAsync(_atProvider, authorize, user, password);

    [Fact]
    public async Task SignIn_AsAdminAtProvider_ReachesAdminPages()
    {
        var browser = _app.CreateBrowser();
        var authorize = await StartSignInAsync(browser);

        Assert.StartsWith(_idp.AuthorizationEndpoint, authorize.ToString(), StringComparison.Ordinal);
        var query = System.Web.HttpUtility.ParseQueryString(authorize.Query);
        Assert.Equal("code", query["response_type"]);
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.Equal("http://localhost/signin-oidc", query["redirect_uri"]);
        var back = await SignInAtProviderAsync(authorize, "alice", "alice-password-1");
        var callback = await browser.GetAsync(back.PathAndQuery);

        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        Assert.Equal("/audit", callback.Headers.Location!.OriginalString);
        var audit = await browser.GetStringAsync("/audit");
        Assert.Contains("oidc:alice", audit, StringComparison.Ordinal);
        Assert.Contains("OpenID Connect: Test IdP", audit, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OidcAdmin_IsSignedOut_OnceOidcSignInIsSwitchedOff()
    {
        var browser = _app.CreateBrowser();
        var back = await SignInAtProviderAsync(await StartSignInAsync(browser), "alice", "alice-password-1");
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync(back.PathAndQuery)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/audit")).StatusCode);

        await _app.Services.GetRequiredService<SettingsStore>().UpdateAsync(
            new Dictionary<string, string?> { [AdminOidcSettings.Enabled] = "false" }, "test", default);

        // The same browser, with its cookie: the next request finds the OIDC sign-in gone and sends it to the login page.
        var after = await browser.GetAsync("/audit");
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.Contains("/account/login", after.Headers.Location!.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task SignIn_WithoutAdminClaimValue_IsRefused()
    {
        var browser = _app.CreateBrowser();
        var back = await SignInAtProviderAsync(await StartSignInAsync(browser), "bob", "bob-password-1");

        var callback = await browser.GetAsync(back.PathAndQuery);

        Assert.Equal("/account/login?error=oidc-not-admin", callback.Headers.Location!.OriginalString);
        Assert.Contains("is not allowed to administer TokenAdmin", await browser.GetStringAsync(callback.Headers.Location.OriginalString), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/settings")).StatusCode);
    }

    [Fact]
    public async Task SignIn_WhenProviderAnswersWithError_ShowsMessage()
    {
        var browser = _app.CreateBrowser();
        var authorize = await StartSignInAsync(browser);

        // The test provider answers error=access_denied to login_hint=deny, as a user who refuses consent.
        var denied = await _atProvider.GetAsync(authorize + "&login_hint=deny");
        var callback = await browser.GetAsync(denied.Headers.Location!.PathAndQuery);

        Assert.Contains("error=access_denied", denied.Headers.Location!.Query, StringComparison.Ordinal);
        Assert.Equal("/account/login?error=oidc-failed", callback.Headers.Location!.OriginalString);
        Assert.Contains("Sign-in at the identity provider did not complete", await browser.GetStringAsync(callback.Headers.Location.OriginalString), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Callback_FromAnotherBrowser_IsRefused()
    {
        var victim = _app.CreateBrowser();
        var back = await SignInAtProviderAsync(await StartSignInAsync(victim), "alice", "alice-password-1");

        var attacker = _app.CreateBrowser();
        var callback = await attacker.GetAsync(back.PathAndQuery);

        Assert.Equal("/account/login?error=oidc-failed", callback.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.Redirect, (await attacker.GetAsync("/settings")).StatusCode);
    }

    [Fact]
    public async Task External_WhenOidcDisabled_IsNotFound()
    {
        await _app.Services.GetRequiredService<SettingsStore>().UpdateAsync(
            new Dictionary<string, string?> { [AdminOidcSettings.Enabled] = "false" }, "test", default);
        var browser = _app.CreateBrowser();

        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync("/account/external")).StatusCode);
        Assert.DoesNotContain("Sign in with", await browser.GetStringAsync("/account/login"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnusableOidcSettings_DoNotTakeThePagesDown_AndHideTheButton()
    {
        await _app.CreateAdminAsync();
        // As if written by an older version or by hand: plain http to a host that is not this machine.
        await _app.WithDbAsync(db => db.Settings.Where(x => x.Name == AdminOidcSettings.MetadataAddress)
            .ExecuteUpdateAsync(x => x.SetProperty(r => r.Value, "http://idp.example.com/.well-known/openid-configuration")));
        var store = _app.Services.GetRequiredService<SettingsStore>();
        store.Invalidate();
        var browser = _app.CreateBrowser();

        var login = await browser.GetAsync("/account/login");
        var signedIn = await browser.PostFormAsync("/account/login", new() { ["Input.UserName"] = "alice", ["Input.Password"] = TokenAdminFactory.AdminPassword });

        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        Assert.DoesNotContain("Sign in with", await login.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/settings")).StatusCode);
    }
}
