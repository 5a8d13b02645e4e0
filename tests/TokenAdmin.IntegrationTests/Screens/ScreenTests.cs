using System.Text;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using TokenAdmin.IntegrationTests.Infrastructure;

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
        yield return Get($"/tokens/details/{app.TokenConfigId}");
        yield return Get($"/tokens/edit/{app.TokenConfigId}");
        yield return Get($"/tokens/delete/{app.TokenConfigId}");
        yield return Get("/tokens/import");
        yield return Get("/tokens/export");
        yield return Get("/oidcprofiles");
        yield return Get("/oidcprofiles/edit");
        yield return Get($"/oidcprofiles/edit/{app.OidcProfileId}");
        yield return Get($"/oidcprofiles/delete/{app.OidcProfileId}");
        yield return SubmittedEmpty("/oidcprofiles/edit");
        yield return Get("/functionalaccounts");
        yield return Get("/functionalaccounts/edit");
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
        Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = "Refresh" }).CountAsync());
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
