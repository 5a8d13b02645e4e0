using System.Text.RegularExpressions;
using Microsoft.Playwright;
using TokenAdmin.IntegrationTests.Infrastructure;
using TokenAdmin.TestIdentityProvider;
using static Microsoft.Playwright.Assertions;

namespace TokenAdmin.IntegrationTests.Screens;

/// <summary>
/// One app process, one test IdP and one Chromium for every screen test: the app is filled once, through its own
/// console verbs and forms, with one thing of each kind (token configs, an OIDC profile, a functional account, a mail
/// account, a web service with an invoker), so that every list has rows and every edit and delete page exists.
/// </summary>
public sealed class ScreensFixture : IAsyncLifetime
{
    public const string AdminName = "alice";
    public const string AdminPassword = "screens-admin-password";

    private TestIdentityProviderServer? _idp;
    private TokenAdminProcess? _app;
    private Chromium? _chromium;

    public TestIdentityProviderServer Idp => _idp ?? throw new InvalidOperationException("Not started.");
    public TokenAdminProcess App => _app ?? throw new InvalidOperationException("Not started.");
    public IPage Page { get; private set; } = null!;

    /// <summary>The IDs of the things added, for the URLs of their pages.</summary>
    public int TokenConfigId { get; private set; }
    public int OidcProfileId { get; private set; }
    public int FunctionalAccountId { get; private set; }
    public int MailAccountId { get; private set; }
    public int WebServiceId { get; private set; }
    public int InvokerId { get; private set; }
    public int TokenWithAccessTokenId { get; private set; }
    public int SecondAdminId { get; private set; }

    public string Url(string path) => new Uri(App.BaseAddress, path.TrimStart('/')).ToString();

    public async Task InitializeAsync()
    {
        _idp = await TestIdentityProviderServer.StartAsync();
        await _idp.AddClientAsync(new TestClient("screens-client", "screens-secret", ["http://127.0.0.1/oauth2/callback"]));
        var dataDirectory = TokenAdminProcess.NewDataDirectory();
        var create = await TokenAdminProcess.RunVerbAsync(dataDirectory, AdminPassword, "admin", "create", "--user", AdminName, "--password-stdin");
        Assert.True(create.ExitCode == 0, create.Output);
        var second = await TokenAdminProcess.RunVerbAsync(dataDirectory, "second-admin-password", "admin", "create", "--user", "bob", "--password-stdin");
        Assert.True(second.ExitCode == 0, second.Output);
        var import = await TokenAdminProcess.RunVerbAsync(dataDirectory, null, "tokens", "import", "--file",
            Path.Combine(RepositoryPaths.Root, "tests", "TokenAdmin.Tests", "Tokens", "Fixtures", "znuny-7.1-token-configs.yml"));
        Assert.True(import.ExitCode == 0, import.Output);

        // The public URL matches the address the browser uses, as on a set-up installation (no address warning).
        var port = TokenAdminProcess.FreePort();
        var fqdn = await TokenAdminProcess.RunVerbAsync(dataDirectory, null, "config", "update", "--setting-name", "FQDN", "--value", $"127.0.0.1:{port}");
        Assert.True(fqdn.ExitCode == 0, fqdn.Output);

        _app = await TokenAdminProcess.StartAsync(dataDirectory, port);
        _chromium = await Chromium.LaunchAsync();
        Page = await _chromium.NewPageAsync();
        await SignInAsync();
        await SeedAsync();
    }

    public async Task SignInAsync()
    {
        await Page.GotoAsync(Url("account/login"));
        await Page.GetByLabel("User name").FillAsync(AdminName);
        await Page.GetByLabel("Password").FillAsync(AdminPassword);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(Page.GetByText("Signed in as " + AdminName)).ToBeVisibleAsync();
    }

    private async Task SeedAsync()
    {
        var page = Page;

        await page.GotoAsync(Url("tokens"));
        var firstToken = page.Locator("table tbody a").First;
        TokenConfigId = IdFrom(await firstToken.GetAttributeAsync("href"));

        await page.GotoAsync(Url("oidcprofiles/edit"));
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Test IdP");
        await page.GetByLabel("Discovery URL", new() { Exact = true }).FillAsync(Idp.MetadataAddress);
        await page.GetByLabel("Client ID", new() { Exact = true }).FillAsync("screens-client");
        await page.GetByLabel("Client secret", new() { Exact = true }).FillAsync("screens-secret");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/oidcprofiles/edit/\\d+$", RegexOptions.IgnoreCase));
        OidcProfileId = IdFrom(page.Url);

        await page.GotoAsync(Url("functionalaccounts/edit"));
        await page.GetByLabel("Account name", new() { Exact = true }).FillAsync("reporting-robot");
        await page.GetByLabel("OIDC profile", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Label = "Test IdP" });
        await page.GetByLabel("Scope", new() { Exact = true }).FillAsync("api");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/functionalaccounts$", RegexOptions.IgnoreCase));
        FunctionalAccountId = IdFrom(await page.GetByRole(AriaRole.Link, new() { Name = "reporting-robot" }).GetAttributeAsync("href"));

        await page.GotoAsync(Url("mailaccounts/add"));
        await page.GetByLabel("Login", new() { Exact = true }).FillAsync("support@example.test");
        await page.GetByLabel("Host", new() { Exact = true }).FillAsync("127.0.0.1");
        await page.GetByLabel("Authentication", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Label = "Password" });
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync("mailbox-password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/mailaccounts/edit/\\d+$", RegexOptions.IgnoreCase));
        MailAccountId = IdFrom(page.Url);

        await page.GotoAsync(Url("webservices/add"));
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("ticket-system");
        await page.GetByLabel("Base URL", new() { Exact = true }).FillAsync("https://tickets.example.test/api/");
        // The web service uses the functional account, so the account's delete page has a blocker to show.
        await page.GetByLabel("Authentication", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Value = "FunctionalAccount" });
        await page.GetByLabel("Token source", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Value = $"FunctionalAccount:{FunctionalAccountId}" });
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/webservices/edit/\\d+$", RegexOptions.IgnoreCase));
        WebServiceId = IdFrom(page.Url);

        await page.GotoAsync(Url($"webservices/{WebServiceId}/invokers"));
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("create-ticket");
        await page.GetByLabel("Path", new() { Exact = true }).FillAsync("tickets");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"/webservices/edit/{WebServiceId}$", RegexOptions.IgnoreCase));
        InvokerId = IdFrom(await page.GetByRole(AriaRole.Link, new() { Name = "create-ticket" }).GetAttributeAsync("href"));

        // A client-credentials token config that holds a token from the test IdP, for the Diagnose page.
        await page.GotoAsync(Url("tokens/add?template=Custom"));
        await page.Locator("#Input_Name").FillAsync("screens-app");
        await page.Locator("#Input_Flow").SelectOptionAsync(new SelectOptionValue { Value = "ClientCredentials" });
        await page.Locator("#Input_ClientId").FillAsync("screens-client");
        await page.Locator("#Input_ClientSecret").FillAsync("screens-secret");
        await page.Locator("#Input_Scope").FillAsync("api");
        await page.Locator("#Input_TokenEndpoint").FillAsync(Idp.TokenEndpoint);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/tokens/details/\\d+$", RegexOptions.IgnoreCase));
        TokenWithAccessTokenId = IdFrom(page.Url);
        await page.GetByRole(AriaRole.Button, new() { Name = "Request token", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Diagnose", Exact = true })).ToBeVisibleAsync();

        await page.GotoAsync(Url("admins"));
        SecondAdminId = IdFrom(await page.Locator("a[href*='/admins/delete/' i]").Filter(new() { HasText = "bob" }).GetAttributeAsync("href"));
    }

    private static int IdFrom(string? url) =>
        Regex.Match(url ?? "", @"/(\d+)(?:\?.*)?$") is { Success: true } m
            ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"No ID at the end of '{url}'.");

    public async Task DisposeAsync()
    {
        if (_chromium is not null)
        {
            await _chromium.DisposeAsync();
        }

        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        if (_idp is not null)
        {
            await _idp.DisposeAsync();
        }
    }
}
