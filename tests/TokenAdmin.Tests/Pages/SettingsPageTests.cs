using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Admin;
using TokenAdmin.Settings;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.Tests.Pages;

public sealed class SettingsPageTests : IAsyncLifetime
{
    private readonly TokenAdminFactory _app = new();
    private HttpClient _browser = null!;

    public async Task InitializeAsync() => _browser = await _app.SignedInBrowserAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private Task<SettingsSnapshot> CurrentAsync() => _app.Services.GetRequiredService<SettingsStore>().GetAsync().AsTask();

    private static Dictionary<string, string> PublicUrl(string httpType, string fqdn, string pathBase = "") => new()
    {
        ["Values[HttpType]"] = httpType, ["Values[FQDN]"] = fqdn, ["Values[PathBase]"] = pathBase,
    };

    [Fact]
    public async Task SettingsPage_ShowsRedirectUri_BuiltFromDefaults()
    {
        var html = await _browser.GetStringAsync("/settings");

        Assert.Contains("value=\"http://localhost:5080/oauth2/callback\"", html, StringComparison.Ordinal);
        Assert.Contains("<label for=\"Values_FQDN_\">Fully qualified domain name</label>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Save_ChangesPublicUrl_AndRedirectUriFollows()
    {
        var response = await _browser.PostFormAsync("/settings", PublicUrl("https", "tokens.example.com", "/tokenadmin"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var html = await _browser.GetStringAsync("/settings");
        Assert.Contains("Saved: HttpType, FQDN, PathBase.", html, StringComparison.Ordinal);
        Assert.Contains("value=\"https://tokens.example.com/tokenadmin/oauth2/callback\"", html, StringComparison.Ordinal);
        Assert.Equal("https://tokens.example.com/tokenadmin/oauth2/callback", (await CurrentAsync()).RedirectUri);
        var audit = await _app.WithDbAsync(db => db.AuditEntries.Where(e => e.Action == "setting.updated").Select(e => e.Target + " " + e.Details).ToListAsync());
        Assert.Contains("HttpType 'http' → 'https'", audit);
    }

    [Theory]
    [InlineData("ftp", "tokens.example.com", "", "HTTP type must be one of: http, https.")]
    [InlineData("https", "tokens.example.com/path", "", "Fully qualified domain name is a host name with an optional :port, without scheme or path")]
    [InlineData("https", "https://tokens.example.com", "", "Fully qualified domain name is a host name with an optional :port, without scheme or path")]
    [InlineData("https", "tokens.example.com:99999", "", "Fully qualified domain name: the port must be a number from 1 to 65535.")]
    [InlineData("https", "bad_host!", "", "is not a valid host name")]
    [InlineData("https", "", "", "Fully qualified domain name is required.")]
    [InlineData("https", "tokens.example.com", "tokenadmin", "Path base must be empty or start with /")]
    [InlineData("https", "tokens.example.com", "/tokenadmin/", "Path base must be empty or start with /")]
    public async Task Save_WithInvalidValue_ShowsMessageNextToField_AndChangesNothing(string httpType, string fqdn, string pathBase, string message)
    {
        var response = await _browser.PostFormAsync("/settings", PublicUrl(httpType, fqdn, pathBase));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Contains("Nothing was saved.", html, StringComparison.Ordinal);
        Assert.Contains(message, html, StringComparison.Ordinal);
        Assert.Equal("http://localhost:5080", (await CurrentAsync()).PublicBaseUrl);
        Assert.Equal(0, await _app.WithDbAsync(db => db.Settings.CountAsync()));
    }

    [Fact]
    public async Task SecretSetting_IsNeverRenderedBack_AndEmptyKeepsIt()
    {
        const string secret = "oidc-client-secret-value-42";
        await _browser.PostFormAsync("/settings", new() { ["Values[AdminOidc.ClientSecret]"] = secret });

        var html = await _browser.GetStringAsync("/settings");
        await _browser.PostFormAsync("/settings", new() { ["Values[AdminOidc.ClientSecret]"] = "", ["Values[FQDN]"] = "localhost:5081" });

        Assert.DoesNotContain(secret, html, StringComparison.Ordinal);
        Assert.Contains("stored - leave empty to keep", html, StringComparison.Ordinal);
        Assert.Equal(secret, (await CurrentAsync()).GetSecret(AdminOidcSettings.ClientSecret));
        var audit = await _app.WithDbAsync(db => db.AuditEntries.Select(e => e.Details).ToListAsync());
        Assert.DoesNotContain(audit, d => d.Contains(secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task SecretSetting_CanBeRemoved()
    {
        await _browser.PostFormAsync("/settings", new() { ["Values[AdminOidc.ClientSecret]"] = "to-be-removed-secret" });

        var cleared = await _browser.PostFormAsync("/settings", new() { ["ClearSecrets"] = AdminOidcSettings.ClientSecret });
        Assert.True(cleared.StatusCode == HttpStatusCode.Redirect, await cleared.Content.ReadAsStringAsync());

        Assert.Null((await CurrentAsync()).GetSecret(AdminOidcSettings.ClientSecret));
    }

    [Fact]
    public async Task EnablingOidcSignIn_WithoutItsSettings_IsRefusedWithReasons()
    {
        var response = await _browser.PostFormAsync("/settings", new() { ["Values[AdminOidc.Enabled]"] = "true" });

        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("OIDC sign-in needs the metadata address.", html, StringComparison.Ordinal);
        Assert.Contains("OIDC sign-in needs the client ID.", html, StringComparison.Ordinal);
        Assert.Contains("OIDC sign-in needs the client secret.", html, StringComparison.Ordinal);
        Assert.False((await CurrentAsync()).GetBool(AdminOidcSettings.Enabled));
    }

    [Theory]
    [InlineData("http", "tokens.example.com", true)]
    [InlineData("https", "tokens.example.com", false)]
    [InlineData("http", "localhost:5080", false)]
    [InlineData("http", "127.0.0.1:5080", false)]
    [InlineData("http", "[::1]:5080", false)]
    public async Task HttpBanner_ShowsOnlyForPlainHttpOnAPublicHost(string httpType, string fqdn, bool expected)
    {
        await _browser.PostFormAsync("/settings", PublicUrl(httpType, fqdn));

        var html = await _browser.GetStringAsync("/");

        Assert.Equal(expected, html.Contains("Production systems must use https", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PathBase_ServesPagesBelowIt_AndLinksUseIt()
    {
        await _browser.PostFormAsync("/settings", PublicUrl("https", "tokens.example.com", "/tokenadmin"));

        var response = await _browser.GetAsync("/tokenadmin/audit");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("href=\"/tokenadmin/settings\"", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("http://login.example.com/.well-known/openid-configuration", "Metadata address must use https")]
    [InlineData("ftp://login.example.com/x", "Metadata address must be an absolute http(s) URL")]
    public async Task OidcMetadataAddress_MustBeHttpsUnlessLoopback(string value, string message)
    {
        var response = await _browser.PostFormAsync("/settings", new() { ["Values[AdminOidc.MetadataAddress]"] = value });

        Assert.Contains(message, WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        Assert.Equal("", (await CurrentAsync()).Get(AdminOidcSettings.MetadataAddress));
    }
}
