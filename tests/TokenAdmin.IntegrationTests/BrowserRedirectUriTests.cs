using System.Text.RegularExpressions;
using Microsoft.Playwright;
using TokenAdmin.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace TokenAdmin.IntegrationTests;

/// <summary>
/// The redirect URI to register is on every form of a source that signs a person in (token config, functional
/// account, OIDC profile), with a copy button that puts it on the clipboard; opened at another address than the public
/// URL, every page warns and links to the setting.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserRedirectUriTests
{
    private const string Password = "redirect-uri-test-password";
    private const string FieldLabel = "Redirect URI to register at the provider";

    [Fact]
    public async Task Forms_ShowTheRedirectUriWithACopyButton_AndAnotherAddressIsWarnedAbout()
    {
        var dataDirectory = TokenAdminProcess.NewDataDirectory();
        var created = await TokenAdminProcess.RunVerbAsync(dataDirectory, Password, "admin", "create", "--user", "alice", "--password-stdin");
        Assert.True(created.ExitCode == 0, created.Output);
        var port = TokenAdminProcess.FreePort();
        var fqdn = await TokenAdminProcess.RunVerbAsync(dataDirectory, null, "config", "update", "--setting-name", "FQDN", "--value", $"127.0.0.1:{port}");
        Assert.True(fqdn.ExitCode == 0, fqdn.Output);
        await using var app = await TokenAdminProcess.StartAsync(dataDirectory, port);
        var expected = $"http://127.0.0.1:{port}/oauth2/callback";

        await using var chromium = await Chromium.LaunchAsync();
        await chromium.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new() { Origin = $"http://127.0.0.1:{port}" });
        var page = await chromium.NewPageAsync();
        await SignInAsync(page, $"http://127.0.0.1:{port}/");

        // Token config: shown for the authorization code flow, hidden for client credentials; the button copies it.
        await page.GotoAsync($"http://127.0.0.1:{port}/tokens/add?template=Custom");
        var field = page.GetByLabel(FieldLabel, new() { Exact = true });
        await Expect(field).ToHaveValueAsync(expected);
        await Expect(field).ToHaveAttributeAsync("readonly", "");
        await page.GetByLabel("Flow", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Value = "ClientCredentials" });
        await Expect(field).ToBeHiddenAsync();
        await page.GetByLabel("Flow", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Value = "AuthorizationCode" });
        await Expect(field).ToBeVisibleAsync();
        await page.EvaluateAsync("() => navigator.clipboard.writeText('something else')");
        await page.GetByRole(AriaRole.Button, new() { Name = "Copy", Exact = true }).ClickAsync();
        await Expect(page.Locator("#redirect-uri-copied")).ToHaveTextAsync("Copied.");
        Assert.Equal(expected, await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));

        // Functional account: in the sign-in part, shown for the authorization code grant only.
        await page.GotoAsync($"http://127.0.0.1:{port}/functionalaccounts/edit");
        field = page.GetByLabel(FieldLabel, new() { Exact = true });
        await page.GetByLabel("Grant type", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Value = "client_credentials" });
        await Expect(field).ToBeHiddenAsync();
        await page.GetByLabel("Grant type", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Value = "authorization_code" });
        await Expect(field).ToHaveValueAsync(expected);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Copy", Exact = true })).ToBeVisibleAsync();

        // OIDC profile: the client registration its authorization-code accounts need.
        await page.GotoAsync($"http://127.0.0.1:{port}/oidcprofiles/edit");
        await Expect(page.GetByLabel(FieldLabel, new() { Exact = true })).ToHaveValueAsync(expected);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Copy", Exact = true })).ToBeVisibleAsync();

        // At the public URL no warning; at another address (localhost) every page warns and links to Settings.
        await Expect(page.GetByText("You opened TokenAdmin at")).ToHaveCountAsync(0);
        await SignInAsync(page, $"http://localhost:{port}/");
        foreach (var path in new[] { "tokens", "functionalaccounts/edit", "settings" })
        {
            await page.GotoAsync($"http://localhost:{port}/{path}");
            await Expect(page.GetByText($"You opened TokenAdmin at http://localhost:{port}, but its public URL is http://127.0.0.1:{port}")).ToBeVisibleAsync();
        }

        await page.GotoAsync($"http://localhost:{port}/tokens");
        await page.GetByRole(AriaRole.Link, new() { Name = "Open settings" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/settings$", RegexOptions.IgnoreCase));
        await Expect(page.Locator("#redirect-uri")).ToHaveValueAsync(expected);
    }

    private static async Task SignInAsync(IPage page, string baseAddress)
    {
        await page.GotoAsync(baseAddress + "account/login");
        await page.GetByLabel("User name").FillAsync("alice");
        await page.GetByLabel("Password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByText("Signed in as alice")).ToBeVisibleAsync();
    }
}
