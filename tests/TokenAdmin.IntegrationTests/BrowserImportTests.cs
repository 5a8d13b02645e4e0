using System.Text.RegularExpressions;
using Microsoft.Playwright;
using TokenAdmin.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace TokenAdmin.IntegrationTests;

/// <summary>Uploads through a real Chromium to the real app process (Kestrel), where an early answer can be lost.</summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserImportTests
{
    private const string Password = "browser-test-password";

    [Fact]
    public async Task Import_OfA20MegabyteFile_ShowsTheAppsMessage_NotAConnectionReset()
    {
        var dataDirectory = TokenAdminProcess.NewDataDirectory();
        var created = await TokenAdminProcess.RunVerbAsync(dataDirectory, Password, "admin", "create", "--user", "alice", "--password-stdin");
        Assert.True(created.ExitCode == 0, created.Output);
        await using var app = await TokenAdminProcess.StartAsync(dataDirectory);
        await using var chromium = await Chromium.LaunchAsync();
        var page = await chromium.NewPageAsync();
        await page.GotoAsync(new Uri(app.BaseAddress, "account/login").ToString());
        await page.GetByLabel("User name").FillAsync("alice");
        await page.GetByLabel("Password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByText("Signed in as alice")).ToBeVisibleAsync();

        await page.GotoAsync(new Uri(app.BaseAddress, "tokens/import").ToString());
        await page.Locator("input[type=file]").SetInputFilesAsync(new FilePayload
        {
            Name = "huge-export.yaml",
            MimeType = "application/yaml",
            Buffer = new byte[20 * 1024 * 1024],
        });
        await page.Locator("form[enctype='multipart/form-data'] button[type=submit]").ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("/tokens/import$", RegexOptions.IgnoreCase), new() { Timeout = 30_000 });
        await Expect(page.GetByText("The file is larger than 1 MiB")).ToBeVisibleAsync(new() { Timeout = 30_000 });
    }
}
