using System.Text;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using TokenAdmin.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace TokenAdmin.IntegrationTests.Screens;

/// <summary>
/// Every screen, on a laptop (1366×900) and a phone (390×844): axe-core finds no serious or critical violation, and
/// no screen is wider than its viewport (nothing scrolls sideways). Forms are also checked with their errors shown.
/// The screenshots in README.md and docs/ are taken here, from the same app, so they cannot go stale.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ScreenTests(ScreensFixture app) : IClassFixture<ScreensFixture>
{
    private static readonly (int Width, int Height)[] Viewports = [(1366, 900), (390, 844)];

    /// <summary>The screens of a signed-in admin; each entry opens one screen, in the state named.</summary>
    private IEnumerable<(string Name, Func<IPage, Task> Open)> SignedInScreens()
    {
        (string, Func<IPage, Task>) Get(string path) => (path, page => GotoAsync(page, path));
        (string, Func<IPage, Task>) SubmittedEmpty(string path, string button = "Save") => (path + " (submitted empty)", async page =>
        {
            await GotoAsync(page, path);
            await page.EvaluateAsync("""
                () => document.querySelectorAll('main form input:not([type=hidden]):not([type=checkbox]):not([type=radio]), main form textarea')
                    .forEach(e => { if (!e.readOnly) e.value = ''; })
                """);
            await page.GetByRole(AriaRole.Button, new() { Name = button, Exact = true }).ClickAsync();
            await page.WaitForLoadStateAsync(LoadState.DOMContentLoaded);
        });

        yield return Get("/");
        yield return Get("/tokens");
        yield return Get("/tokens/add");
        yield return Get("/tokens/add?template=custom");
        yield return SubmittedEmpty("/tokens/add?template=Custom");
        yield return Get("/tokens/add?template=MicrosoftExchangeOnline");
        yield return Get($"/tokens/details/{app.TokenConfigId}");
        yield return Get($"/tokens/edit/{app.TokenConfigId}");
        yield return Get($"/tokens/delete/{app.TokenConfigId}");
        yield return Get("/tokens/import");
        yield return SubmittedEmpty("/tokens/import", "Import");
        yield return Get("/tokens/export");
        yield return Get($"/tokens/diagnose/TokenConfig/{app.TokenWithAccessTokenId}");
        yield return Get("/oidcprofiles");
        yield return Get("/oidcprofiles/edit");
        yield return Get($"/oidcprofiles/edit/{app.OidcProfileId}");
        yield return Get($"/oidcprofiles/delete/{app.OidcProfileId}");
        yield return SubmittedEmpty("/oidcprofiles/edit");
        yield return Get("/functionalaccounts");
        yield return Get("/functionalaccounts/edit");
        yield return SubmittedEmpty("/functionalaccounts/edit");
        yield return Get($"/functionalaccounts/edit/{app.FunctionalAccountId}");
        yield return Get($"/functionalaccounts/delete/{app.FunctionalAccountId}");
        yield return Get("/mailaccounts");
        yield return Get("/mailaccounts/add");
        yield return SubmittedEmpty("/mailaccounts/add");
        yield return Get($"/mailaccounts/edit/{app.MailAccountId}");
        yield return Get($"/mailaccounts/delete/{app.MailAccountId}");
        yield return Get($"/mailaccounts/messages/{app.MailAccountId}");
        yield return Get("/mailaccounts/smtp");
        yield return Get("/webservices");
        yield return Get("/webservices/add");
        yield return SubmittedEmpty("/webservices/add");
        yield return Get($"/webservices/edit/{app.WebServiceId}");
        yield return Get($"/webservices/delete/{app.WebServiceId}");
        yield return Get($"/webservices/{app.WebServiceId}/invokers");
        yield return Get($"/webservices/{app.WebServiceId}/invokers/{app.InvokerId}");
        yield return Get($"/webservices/invokers/{app.InvokerId}/test");
        yield return Get("/webservices/debugger");
        yield return Get("/scheduler");
        yield return Get("/settings");
        yield return Get("/admins");
        yield return Get("/admins/add");
        yield return SubmittedEmpty("/admins/add", "Add admin");
        yield return Get("/admins/password");
        yield return Get($"/admins/delete/{app.SecondAdminId}");
        yield return Get("/alerts/channels");
        yield return Get("/alerts/channel");
        yield return SubmittedEmpty("/alerts/channel");
        yield return Get("/alerts/history");
        yield return Get("/audit");
    }

    private static readonly string[] AnonymousScreens = ["/account/login", "/setup", "/account/accessdenied"];

    [Fact]
    public async Task EveryScreen_HasNoSeriousOrCriticalViolation_AndFitsItsViewport()
    {
        var page = app.Page;

        // The check itself finds a violation where there is one: an image without a text alternative is critical.
        await page.SetContentAsync("<!DOCTYPE html><html lang=en><head><title>t</title></head><body><main><img src=\"data:,\"></main></body></html>");
        Assert.Contains((await page.RunAxe()).Violations, v => v.Id == "image-alt" && v.Impact == "critical");

        var failures = new StringBuilder();
        var checkedScreens = 0;
        try
        {
            foreach (var (width, height) in Viewports)
            {
                await page.SetViewportSizeAsync(width, height);
                foreach (var (name, open) in SignedInScreens())
                {
                    await open(page);
                    await CheckAsync(page, $"{name} at {width}x{height}", failures);
                    checkedScreens++;
                }
            }

            await page.Context.ClearCookiesAsync();
            foreach (var (width, height) in Viewports)
            {
                await page.SetViewportSizeAsync(width, height);
                foreach (var path in AnonymousScreens)
                {
                    await GotoAsync(page, path);
                    await CheckAsync(page, $"{path} (signed out) at {width}x{height}", failures);
                    checkedScreens++;
                }
            }
        }
        finally
        {
            await page.SetViewportSizeAsync(1280, 800);
            await page.Context.ClearCookiesAsync();
            await app.SignInAsync();
        }

        Assert.True(checkedScreens > 80, $"Only {checkedScreens} screens were checked.");
        Assert.True(failures.Length == 0, failures.ToString());
    }

    [Fact]
    public async Task TokenList_OffersRequestNotRefresh_ForTokensNeverRequested_WithTheStateAsABadge()
    {
        var page = app.Page;
        await GotoAsync(page, "/tokens");

        var row = page.Locator("table tbody tr").Filter(new() { Has = page.Locator($"a[href$='/details/{app.TokenConfigId}' i]") });
        await Microsoft.Playwright.Assertions.Expect(row.Locator(".badge.badge-muted")).ToHaveTextAsync("Not requested yet");
        await Microsoft.Playwright.Assertions.Expect(row.GetByRole(AriaRole.Link, new() { Name = "Request token" })).ToBeVisibleAsync();
        Assert.Equal(0, await row.GetByRole(AriaRole.Button, new() { Name = "Refresh" }).CountAsync());
    }

    [Fact]
    public async Task TokenConfigForm_SubmittedWithEveryFieldWrong_ShowsAllErrorsAtOnce_WithInputKept_AndFieldsPerFlow()
    {
        var page = app.Page;
        await GotoAsync(page, "/tokens/add?template=GoogleMail");
        await Expect(page.GetByLabel("Tenant", new() { Exact = true })).ToHaveCountAsync(0);
        await Expect(page.GetByLabel("Discovery URL", new() { Exact = true })).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Show the fields of this flow" })).ToBeHiddenAsync();

        // The flow's fields change as the flow does: no password fields for the authorization code.
        var flow = page.GetByLabel("Flow", new() { Exact = true });
        await Expect(page.GetByLabel("User name", new() { Exact = true })).ToBeHiddenAsync();
        await Expect(page.GetByLabel("Prompt", new() { Exact = true })).ToBeVisibleAsync();
        await flow.SelectOptionAsync(new SelectOptionValue { Label = "Password (a user's name and password, legacy)" });
        await Expect(page.GetByLabel("User name", new() { Exact = true })).ToBeVisibleAsync();
        await Expect(page.GetByLabel("Prompt", new() { Exact = true })).ToBeHiddenAsync();

        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("");
        await page.GetByLabel("Client ID", new() { Exact = true }).FillAsync("has space");
        await page.GetByLabel("Token endpoint", new() { Exact = true }).FillAsync("not a url");
        await page.GetByLabel("Lead time (seconds)", new() { Exact = true }).FillAsync("soon");
        await page.GetByLabel("Extra token request parameters", new() { Exact = true }).FillAsync("no-equals-sign");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();

        var summary = page.Locator("#form-errors");
        await Expect(summary).ToBeFocusedAsync();
        await ExpectLinksAsync(summary, [
            "Name is required.", "Lead time (seconds): 'soon' is not a valid value.", "Client ID must be without spaces, at most 200 characters.",
            "Token endpoint must be an absolute https URL without #fragment, for example https://login.example.com/oauth2/token.",
            "User name is required for the password flow.", "Password is required for the password flow (the user's password).",
            "Extra token request parameters: 'no-equals-sign' is not key=value; write one parameter per line, for example prompt=consent.",
        ]);
        await Expect(page.GetByLabel("Client ID", new() { Exact = true })).ToHaveValueAsync("has space");
        await Expect(page.GetByLabel("Lead time (seconds)", new() { Exact = true })).ToHaveValueAsync("soon");
        await Expect(page.GetByLabel("Token endpoint", new() { Exact = true })).ToHaveValueAsync("not a url");
        await Expect(page.GetByLabel("Lead time (seconds)", new() { Exact = true })).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.GetByLabel("User name", new() { Exact = true })).ToBeVisibleAsync();

        await summary.GetByRole(AriaRole.Link, new() { Name = "Name is required." }).ClickAsync();
        await Expect(page.GetByLabel("Name", new() { Exact = true })).ToBeFocusedAsync();
    }

    [Fact]
    public async Task TokenConfigForm_WithoutJavaScript_ShowTheFields_RendersTheChosenFlowsFields_KeepingInput()
    {
        // The app's only script is not served: the page as a browser without JavaScript gets it.
        var page = app.Page;
        await page.RouteAsync("**/js/site.js*", route => route.AbortAsync());
        try
        {
        await GotoAsync(page, "/tokens/add?template=GoogleMail");

        await Expect(page.GetByLabel("User name", new() { Exact = true })).ToBeHiddenAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("typed before the change");
        await page.GetByLabel("Flow", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Value = "Password" });
        await page.GetByRole(AriaRole.Button, new() { Name = "Show the fields of this flow" }).ClickAsync();

        await Expect(page.GetByLabel("User name", new() { Exact = true })).ToBeVisibleAsync();
        await Expect(page.GetByLabel("Prompt", new() { Exact = true })).ToBeHiddenAsync();
        await Expect(page.GetByLabel("Name", new() { Exact = true })).ToHaveValueAsync("typed before the change");
        await Expect(page.Locator("#form-errors")).ToHaveCountAsync(0);
        }
        finally
        {
            await page.UnrouteAsync("**/js/site.js*");
        }
    }

    /// <summary>The summary links exactly these messages (in any order).</summary>
    private static async Task ExpectLinksAsync(ILocator summary, string[] messages)
    {
        await Expect(summary.GetByRole(AriaRole.Link)).ToHaveCountAsync(messages.Length);
        foreach (var message in messages)
        {
            await Expect(summary.GetByRole(AriaRole.Link, new() { Name = message, Exact = true })).ToBeVisibleAsync();
        }
    }

    [Fact]
    public async Task FunctionalAccountForm_SubmittedWrong_ShowsAllErrorsAtOnce_WithInputKept()
    {
        var page = app.Page;
        await GotoAsync(page, "/functionalaccounts/edit");
        await Expect(page.GetByLabel("Login hint", new() { Exact = true })).ToBeHiddenAsync();
        await page.GetByLabel("Grant type", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Label = "Password (a user's name and password, legacy)" });
        await page.GetByLabel("Resources", new() { Exact = true }).FillAsync("not-a-uri");
        await page.GetByLabel("Refresh token lifetime (days)", new() { Exact = true }).FillAsync("lots");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();

        var summary = page.Locator("#form-errors");
        await Expect(summary).ToBeFocusedAsync();
        await ExpectLinksAsync(summary, [
            "Account name is required.", "Refresh token lifetime (days): 'lots' is not a valid value.",
            "User name is required for the password grant.", "Password is required for the password grant.",
            "Resources: space-separated absolute URIs (for example api://my-api or https://graph.microsoft.com).",
        ]);
        await Expect(page.GetByLabel("Resources", new() { Exact = true })).ToHaveValueAsync("not-a-uri");
        await Expect(page.GetByLabel("Refresh token lifetime (days)", new() { Exact = true })).ToHaveValueAsync("lots");
    }

    [Fact]
    public async Task FunctionalAccountDeletePage_ListsWhatUsesIt_BeforeTheClick_WithDeleteDisabled_AndTheListOffersRequest()
    {
        var page = app.Page;
        await GotoAsync(page, $"/functionalaccounts/delete/{app.FunctionalAccountId}");

        await Expect(page.Locator("#delete-blockers")).ToContainTextAsync("ticket-system");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Delete", Exact = true })).ToBeDisabledAsync();

        await GotoAsync(page, "/functionalaccounts");
        var row = page.Locator("table tbody tr").Filter(new() { HasText = "reporting-robot" });
        await Expect(row.Locator(".badge.badge-muted")).ToHaveTextAsync("Not requested yet");
        await Expect(row.GetByRole(AriaRole.Button, new() { Name = "Request token for reporting-robot" })).ToBeVisibleAsync();
        await Expect(row.GetByRole(AriaRole.Button, new() { Name = "Refresh" })).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task WebServiceForm_ShowsTheFieldsOfTheChosenAuthentication_AndAllOfThemInTheServedHtml()
    {
        var page = app.Page;
        var response = await page.GotoAsync(app.Url("/webservices/add"));
        var served = await response!.TextAsync();
        Assert.Contains("id=\"Input_TokenSource\"", served, StringComparison.Ordinal); // without the script every field is there
        Assert.Contains("id=\"Input_BasicUserName\"", served, StringComparison.Ordinal);

        var authentication = page.GetByLabel("Authentication", new() { Exact = true });
        await Microsoft.Playwright.Assertions.Expect(page.GetByLabel("Token source", new() { Exact = true })).ToBeHiddenAsync();
        await Microsoft.Playwright.Assertions.Expect(page.GetByLabel("User name", new() { Exact = true })).ToBeHiddenAsync();

        await authentication.SelectOptionAsync("Basic");
        await Microsoft.Playwright.Assertions.Expect(page.GetByLabel("User name", new() { Exact = true })).ToBeVisibleAsync();
        await Microsoft.Playwright.Assertions.Expect(page.GetByLabel("Token source", new() { Exact = true })).ToBeHiddenAsync();

        await authentication.SelectOptionAsync("TokenConfig");
        await Microsoft.Playwright.Assertions.Expect(page.GetByLabel("Token source", new() { Exact = true })).ToBeVisibleAsync();
        await Microsoft.Playwright.Assertions.Expect(page.GetByLabel("User name", new() { Exact = true })).ToBeHiddenAsync();
    }

    [Fact]
    public async Task Screenshots_OfTheRealApp_AreWrittenToDocsImages()
    {
        var page = app.Page;
        var images = Path.Combine(RepositoryPaths.Root, "docs", "images");
        var started = DateTime.UtcNow.AddSeconds(-2);
        var shots = new (string File, int Width, int Height, bool FullPage, Func<IPage, Task> Open)[]
        {
            ("overview.png", 1366, 900, false, p => GotoAsync(p, "/")),
            ("tokens-overview.png", 1366, 900, true, p => GotoAsync(p, "/tokens")),
            ("tokens-templates.png", 1366, 900, true, p => GotoAsync(p, "/tokens/add")),
            ("token-details.png", 1366, 900, true, p => GotoAsync(p, $"/tokens/details/{app.TokenConfigId}")),
            ("settings.png", 1366, 900, true, p => GotoAsync(p, "/settings")),
            ("web-service-errors.png", 1366, 900, false, async p =>
            {
                await GotoAsync(p, "/webservices/add");
                await p.GetByLabel("Name", new() { Exact = true }).FillAsync("crm system");
                await p.GetByLabel("Base URL", new() { Exact = true }).FillAsync("ftp://crm.example.com");
                await p.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
                await p.Locator("#form-errors").WaitForAsync();
            }),
            ("tokens-phone.png", 390, 844, false, p => GotoAsync(p, "/tokens")),
        };

        try
        {
            foreach (var (file, width, height, fullPage, open) in shots)
            {
                await page.SetViewportSizeAsync(width, height);
                await open(page);
                var path = Path.Combine(images, file);
                await page.ScreenshotAsync(new() { Path = path, FullPage = fullPage });
                var written = new FileInfo(path);
                Assert.True(written.Exists && written.Length > 0 && written.LastWriteTimeUtc >= started, $"{path} was not written.");
            }
        }
        finally
        {
            await page.SetViewportSizeAsync(1280, 800);
        }
    }

    private async Task GotoAsync(IPage page, string path)
    {
        var response = await page.GotoAsync(app.Url(path));
        Assert.True(response is { Ok: true }, $"{path} answered {response?.Status}.");
    }

    private static async Task CheckAsync(IPage page, string screen, StringBuilder failures)
    {
        var result = await page.RunAxe();
        foreach (var violation in result.Violations.Where(v => v.Impact is "serious" or "critical"))
        {
            failures.AppendLine($"{screen}: {violation.Impact} {violation.Id}: {violation.Help}");
            foreach (var node in violation.Nodes.Take(3))
            {
                failures.AppendLine($"    {string.Join(" ", node.Target)}: {node.Html}");
            }
        }

        var widths = await page.EvaluateAsync<int[]>("() => [document.documentElement.scrollWidth, window.innerWidth]");
        var (scrollWidth, viewportWidth) = (widths[0], widths[1]);
        if (scrollWidth > viewportWidth)
        {
            var widest = await page.EvaluateAsync<string>("""
                () => [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                    .slice(-3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' ' + Math.round(e.getBoundingClientRect().right)).join(', ')
                """);
            failures.AppendLine($"{screen}: {scrollWidth} px wide in a {viewportWidth} px viewport (too wide: {widest})");
        }
    }
}
