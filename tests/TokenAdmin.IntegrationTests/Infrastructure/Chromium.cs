using Microsoft.Playwright;

namespace TokenAdmin.IntegrationTests.Infrastructure;

/// <summary>
/// Debian's Chromium driven by Playwright (no browser download), with a fresh profile and every flag that keeps
/// it from calling out on its own: only loopback names resolve.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/bin/chromium";
    private readonly IPlaywright _playwright;
    private readonly string _profile;

    private Chromium(IPlaywright playwright, IBrowserContext context, string profile)
    {
        _playwright = playwright;
        Context = context;
        _profile = profile;
    }

    public IBrowserContext Context { get; }

    public static async Task<Chromium> LaunchAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException($"{ExecutablePath} is missing: run tests/run.sh, which installs Debian's chromium package.");
        }

        var playwright = await Playwright.CreateAsync();
        var profile = Path.Combine(Path.GetTempPath(), "tokenadmin-chromium-" + Guid.NewGuid().ToString("N"));
        var context = await playwright.Chromium.LaunchPersistentContextAsync(profile, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            ChromiumSandbox = false, // --no-sandbox: the tests run as root in CI
            Timeout = 60_000,
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
            Args =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
            ],
        });
        context.SetDefaultTimeout(30_000);
        return new Chromium(playwright, context, profile);
    }

    public async Task<IPage> NewPageAsync() => Context.Pages.Count == 1 && Context.Pages[0].Url == "about:blank"
        ? Context.Pages[0]
        : await Context.NewPageAsync();

    public async ValueTask DisposeAsync()
    {
        await Context.CloseAsync();
        _playwright.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still be writing its last files; the OS cleans the temp folder.
        }
    }
}
