using Microsoft.Playwright;
using TokenAdmin.IntegrationTests.Infrastructure;
using TokenAdmin.TestIdentityProvider;
using static Microsoft.Playwright.Assertions;

namespace TokenAdmin.IntegrationTests;

/// <summary>
/// An admin adds a token config with the device code flow, starts its device sign-in, copies the code, a person enters
/// it at the provider in another tab, and the sign-in page turns to "Signed in" by itself.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserDeviceSignInTests
{
    [Fact]
    public async Task DeviceSignIn_CodeShownAndCopied_PersonApprovesElsewhere_PageShowsSignedIn()
    {
        await using var idp = await TestIdentityProviderServer.StartAsync();
        var dataDirectory = TokenAdminProcess.NewDataDirectory();
        var port = TokenAdminProcess.FreePort();
        await idp.AddClientAsync(new TestClient("tv-client", "tv-secret", [])
        {
            AllowedGrantTypes = ["refresh_token", TestIdentityProviderServer.DeviceCodeGrantType],
        });
        idp.AddUser(new TestUser("helpdesk@example.test", "mailbox-password-1"));
        var create = await TokenAdminProcess.RunVerbAsync(dataDirectory, "token-admin-password", "admin", "create", "--user", "alice", "--password-stdin");
        Assert.True(create.ExitCode == 0, create.Output);
        await using var app = await TokenAdminProcess.StartAsync(dataDirectory, port);
        await using var chromium = await Chromium.LaunchAsync();
        await chromium.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new() { Origin = app.BaseAddress.GetLeftPart(UriPartial.Authority) });
        var page = await chromium.NewPageAsync();
        await page.GotoAsync(new Uri(app.BaseAddress, "account/login").ToString());
        await page.GetByLabel("User name").FillAsync("alice");
        await page.GetByLabel("Password").FillAsync("token-admin-password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await page.GotoAsync(new Uri(app.BaseAddress, "tokens/add").ToString());
        await page.GetByRole(AriaRole.Link, new() { Name = "Use Custom" }).ClickAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("tv-mailbox");
        await page.GetByLabel("Flow", new() { Exact = true }).SelectOptionAsync("DeviceCode");
        await page.GetByLabel("Client ID", new() { Exact = true }).FillAsync("tv-client");
        await page.GetByLabel("Client secret", new() { Exact = true }).FillAsync("tv-secret");
        await page.GetByLabel("Scope", new() { Exact = true }).FillAsync("openid offline_access mail");
        await page.GetByLabel("Token endpoint", new() { Exact = true }).FillAsync(idp.TokenEndpoint);
        await page.GetByLabel("Device authorization endpoint", new() { Exact = true }).FillAsync(idp.DeviceAuthorizationEndpoint);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.GetByText("Token config 'tv-mailbox' was added.")).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Device sign-in" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Start device sign-in" }).ClickAsync();
        var code = page.Locator("#user-code");
        await Expect(code).ToBeVisibleAsync();
        var userCode = (await code.TextContentAsync())!.Trim();
        Assert.NotEmpty(userCode);
        await Expect(page.Locator("#device-sign-in p.status")).ToContainTextAsync("Waiting");
        await Expect(page.GetByText("Valid until")).ToBeVisibleAsync();

        // The script shows the copy buttons; the code lands on the clipboard.
        await page.Locator("button[data-copy='user-code']").ClickAsync();
        await Expect(page.Locator(".copy-status")).ToHaveTextAsync("Copied: " + userCode);
        Assert.Equal(userCode, await page.EvaluateAsync<string>("navigator.clipboard.readText()"));

        // The person opens the verification address in another tab and approves.
        var verification = await page.Locator("#verification-uri").GetAttributeAsync("href");
        Assert.StartsWith(idp.VerificationEndpoint, verification, StringComparison.Ordinal);
        var provider = await chromium.Context.NewPageAsync();
        await provider.GotoAsync(verification!);
        await provider.GetByLabel("Code").FillAsync(userCode);
        await provider.GetByLabel("User name").FillAsync("helpdesk@example.test");
        await provider.GetByLabel("Password").FillAsync("mailbox-password-1");
        await provider.GetByRole(AriaRole.Button, new() { Name = "Allow" }).ClickAsync();
        await Expect(provider.GetByText("Device signed in")).ToBeVisibleAsync();

        // The sign-in page reloads itself until the tokens are stored (polls every 5 s, reloads every 5 s).
        await Expect(page.Locator("#device-sign-in p.status")).ToContainTextAsync("Signed in", new() { Timeout = 45_000 });
        await Expect(page.Locator("#device-sign-in p.status")).ToContainTextAsync("Token for 'tv-mailbox' received");
        await page.GetByRole(AriaRole.Link, new() { Name = "Back to token config" }).ClickAsync();
        await Expect(page.Locator("p.status")).ToContainTextAsync("Valid until");
        Assert.True(idp.TokenRequestsByGrantType.GetValueOrDefault(TestIdentityProviderServer.DeviceCodeGrantType) >= 1);
    }
}
