using System.Text.RegularExpressions;
using Microsoft.Playwright;
using TokenAdmin.IntegrationTests.Infrastructure;
using TokenAdmin.TestIdentityProvider;
using static Microsoft.Playwright.Assertions;

namespace TokenAdmin.IntegrationTests;

/// <summary>An admin adds a token config, requests its token through the provider's login page, refreshes it and sees it die.</summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserTokenFlowTests
{
    [Fact]
    public async Task AddRequestRefresh_AndBannerWhenRefreshTokenDies()
    {
        await using var idp = await TestIdentityProviderServer.StartAsync();
        var dataDirectory = TokenAdminProcess.NewDataDirectory();
        var port = TokenAdminProcess.FreePort();
        await idp.AddClientAsync(new TestClient("mailbox-client", "mailbox-secret", [$"http://127.0.0.1:{port}/oauth2/callback"]));
        idp.AddUser(new TestUser("helpdesk@example.test", "mailbox-password-1"));
        foreach (var args in new[]
        {
            new[] { "config", "update", "--setting-name", "FQDN", "--value", $"127.0.0.1:{port}" },
        })
        {
            var (exit, output) = await TokenAdminProcess.RunVerbAsync(dataDirectory, null, args);
            Assert.True(exit == 0, output);
        }

        var create = await TokenAdminProcess.RunVerbAsync(dataDirectory, "token-admin-password", "admin", "create", "--user", "alice", "--password-stdin");
        Assert.True(create.ExitCode == 0, create.Output);
        await using var app = await TokenAdminProcess.StartAsync(dataDirectory, port);
        await using var chromium = await Chromium.LaunchAsync();
        var page = await chromium.NewPageAsync();
        await page.GotoAsync(new Uri(app.BaseAddress, "account/login").ToString());
        await page.GetByLabel("User name").FillAsync("alice");
        await page.GetByLabel("Password").FillAsync("token-admin-password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        // Add a token config from the Custom template.
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = "Tokens" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Add token config" }).ClickAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(RepositoryPaths.Screenshots, "tokens-templates.png"), FullPage = true });
        await page.GetByRole(AriaRole.Link, new() { Name = "Use Custom" }).ClickAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("helpdesk-mailbox");
        await page.GetByLabel("Client ID", new() { Exact = true }).FillAsync("mailbox-client");
        await page.GetByLabel("Client secret", new() { Exact = true }).FillAsync("mailbox-secret");
        await page.GetByLabel("Scope", new() { Exact = true }).FillAsync("openid offline_access mail");
        await page.GetByLabel("Authorization endpoint", new() { Exact = true }).FillAsync(idp.AuthorizationEndpoint);
        await page.GetByLabel("Token endpoint", new() { Exact = true }).FillAsync(idp.TokenEndpoint);
        await page.GetByLabel("Issuer", new() { Exact = true }).FillAsync(idp.Issuer.ToString());
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.GetByText("Token config 'helpdesk-mailbox' was added.")).ToBeVisibleAsync();
        await Expect(page.GetByText("Not requested yet")).ToBeVisibleAsync();

        // Request the token: off to the provider's login page and back.
        await page.GetByRole(AriaRole.Button, new() { Name = "Request token" }).ClickAsync();
        await Expect(page.GetByLabel("User name")).ToBeVisibleAsync();
        Assert.StartsWith(idp.AuthorizationEndpoint, page.Url, StringComparison.Ordinal);
        await page.GetByLabel("User name").FillAsync("helpdesk@example.test");
        await page.GetByLabel("Password").FillAsync("mailbox-password-1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByText("Token for 'helpdesk-mailbox' received")).ToBeVisibleAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/tokens/details/\\d+$", RegexOptions.IgnoreCase));
        await Expect(page.Locator("p.status")).ToContainTextAsync("Valid until");
        await page.ScreenshotAsync(new() { Path = Path.Combine(RepositoryPaths.Screenshots, "token-details.png"), FullPage = true });

        await page.GetByRole(AriaRole.Button, new() { Name = "Refresh" }).ClickAsync();
        await Expect(page.GetByText("Token for 'helpdesk-mailbox' refreshed")).ToBeVisibleAsync();
        Assert.Equal(1, idp.TokenRequestsByGrantType["refresh_token"]);

        // The provider refuses the refresh token: the banner says so and leads back to the token.
        idp.Faults.TokenEndpoint = TokenEndpointFault.InvalidGrant;
        await page.GetByRole(AriaRole.Button, new() { Name = "Refresh" }).ClickAsync();
        var banner = page.Locator(".notifications").GetByText("OAuth2 refresh token helpdesk-mailbox has expired");
        await Expect(banner).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = "Tokens" }).ClickAsync();
        await Expect(page.GetByText("Refresh token revoked or refused")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(RepositoryPaths.Screenshots, "tokens-overview.png"), FullPage = true });
        await page.Locator(".notifications").GetByRole(AriaRole.Link, new() { Name = "Request new token" }).ClickAsync();

        idp.Faults.Reset();
        await page.GetByRole(AriaRole.Button, new() { Name = "Request new token" }).ClickAsync();
        await page.GetByLabel("User name").FillAsync("helpdesk@example.test");
        await page.GetByLabel("Password").FillAsync("mailbox-password-1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByText("Token for 'helpdesk-mailbox' received")).ToBeVisibleAsync();
        await Expect(page.Locator(".notifications")).ToHaveCountAsync(0);
    }
}
