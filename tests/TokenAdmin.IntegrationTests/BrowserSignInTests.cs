using System.Text.RegularExpressions;
using Microsoft.Playwright;
using TokenAdmin.IntegrationTests.Infrastructure;
using TokenAdmin.TestIdentityProvider;
using static Microsoft.Playwright.Assertions;

namespace TokenAdmin.IntegrationTests;

/// <summary>An admin's first minutes with TokenAdmin, in a real Chromium against the real app process.</summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserSignInTests
{
    private const string Password = "browser-test-password";

    private static async Task<string> WaitForSetupLinkAsync(TokenAdminProcess app)
    {
        // The link is printed just after start, with the address the app listens on.
        for (var waited = 0; waited < 30_000; waited += 100)
        {
            if (app.SetupLink is { } link)
            {
                return link;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("No setup link was printed within 30 s. Output:\n" + app.Output);
    }

    [Fact]
    public async Task FirstRun_SetupLink_SignIn_SeeMenu_SignOut()
    {
        await using var app = await TokenAdminProcess.StartAsync();
        var link = await WaitForSetupLinkAsync(app);
        await using var chromium = await Chromium.LaunchAsync();
        var page = await chromium.NewPageAsync();

        await page.GotoAsync(link);
        await page.GetByLabel("User name").FillAsync("alice");
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(Password);
        await page.GetByLabel("Repeat password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create admin" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("/account/login$", RegexOptions.IgnoreCase));
        // The setup form took the address the link was opened on as the public URL (and the redirect URI with it).
        var opened = $"http://127.0.0.1:{app.Port}";
        await Expect(page.GetByText($"Admin 'alice' was created, and TokenAdmin's public URL is {opened}. Sign in with it now.")).ToBeVisibleAsync();
        await page.GetByLabel("User name").FillAsync("alice");
        await page.GetByLabel("Password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        var menu = page.GetByRole(AriaRole.Navigation, new() { Name = "Main" });
        await Expect(menu.GetByRole(AriaRole.Link, new() { Name = "Settings" })).ToBeVisibleAsync();
        await Expect(menu.GetByRole(AriaRole.Link, new() { Name = "Audit log" })).ToBeVisibleAsync();
        await Expect(page.GetByText("Signed in as alice")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(RepositoryPaths.Screenshots, "overview.png") });

        await menu.GetByRole(AriaRole.Link, new() { Name = "Settings" }).ClickAsync();
        await Expect(page.GetByLabel("Redirect URI")).ToHaveValueAsync($"{opened}/oauth2/callback");
        await page.ScreenshotAsync(new() { Path = Path.Combine(RepositoryPaths.Screenshots, "settings.png"), FullPage = true });

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page.GetByText("You are signed out.")).ToBeVisibleAsync();
        await page.GotoAsync(new Uri(app.BaseAddress, "settings").ToString());
        await Expect(page).ToHaveURLAsync(new Regex("/account/login\\?ReturnUrl=%2Fsettings$", RegexOptions.IgnoreCase));

        await page.GotoAsync(link);
        await Expect(page.GetByText("Setup is already done")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task OidcSignIn_ThroughTheProvidersLoginPage_OnlyForAdmins()
    {
        await using var idp = await TestIdentityProviderServer.StartAsync();
        var dataDirectory = TokenAdminProcess.NewDataDirectory();
        var port = TokenAdminProcess.FreePort();
        await idp.AddClientAsync(new TestClient("tokenadmin", "tokenadmin-secret", [$"http://127.0.0.1:{port}/signin-oidc"]));
        idp.AddUser(new TestUser("alice", "alice-password-1") { Claims = new Dictionary<string, string[]> { ["roles"] = ["tokenadmin-admins"] } });
        idp.AddUser(new TestUser("bob", "bob-password-1") { Claims = new Dictionary<string, string[]> { ["roles"] = ["helpdesk"] } });

        // Configured the way an admin does it without a browser: console verbs of the built executable.
        foreach (var (name, value) in new[]
        {
            ("AdminOidc.MetadataAddress", idp.MetadataAddress), ("AdminOidc.ClientId", "tokenadmin"),
            ("AdminOidc.DisplayName", "Test IdP"), ("AdminOidc.AdminValues", "tokenadmin-admins"),
        })
        {
            var (exit, output) = await TokenAdminProcess.RunVerbAsync(dataDirectory, null, "config", "update", "--setting-name", name, "--value", value);
            Assert.True(exit == 0, output);
        }

        var secret = await TokenAdminProcess.RunVerbAsync(dataDirectory, "tokenadmin-secret", "config", "update", "--setting-name", "AdminOidc.ClientSecret", "--value-stdin");
        var enable = await TokenAdminProcess.RunVerbAsync(dataDirectory, null, "config", "update", "--setting-name", "AdminOidc.Enabled", "--value", "true");
        Assert.True(secret.ExitCode == 0 && enable.ExitCode == 0, secret.Output + enable.Output);

        await using var app = await TokenAdminProcess.StartAsync(dataDirectory, port);
        await using var chromium = await Chromium.LaunchAsync();
        var page = await chromium.NewPageAsync();

        await SignInAtProviderAsync(page, app, "alice", "alice-password-1");
        await Expect(page.GetByText("Signed in as alice")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = "Settings" })).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await SignInAtProviderAsync(page, app, "bob", "bob-password-1");
        await Expect(page).ToHaveURLAsync(new Regex("/account/login\\?error=oidc-not-admin$"));
        await Expect(page.GetByText("is not allowed to administer TokenAdmin")).ToBeVisibleAsync();
        await page.GotoAsync(new Uri(app.BaseAddress, "settings").ToString());
        await Expect(page).ToHaveURLAsync(new Regex("/account/login\\?ReturnUrl=", RegexOptions.IgnoreCase));
    }

    private static async Task SignInAtProviderAsync(IPage page, TokenAdminProcess app, string user, string password)
    {
        await page.GotoAsync(new Uri(app.BaseAddress, "account/login").ToString());
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in with Test IdP" }).ClickAsync();
        await Expect(page.GetByLabel("User name")).ToBeVisibleAsync();
        Assert.StartsWith("http://127.0.0.1:", page.Url, StringComparison.Ordinal);
        Assert.DoesNotContain($":{app.Port}/", page.Url, StringComparison.Ordinal); // at the provider now
        await page.GetByLabel("User name").FillAsync(user);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }
}

/// <summary>Browser tests run one at a time: two Chromiums on two cores only slow each other down.</summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection
{
    public const string Name = "browser";
}
