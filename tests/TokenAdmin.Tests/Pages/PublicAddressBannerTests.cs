using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Settings;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.Tests.Pages;

/// <summary>Opened at another address than its public URL, TokenAdmin says so on every page, with the redirect URI it builds.</summary>
public sealed class PublicAddressBannerTests : IAsyncLifetime
{
    private readonly TokenAdminFactory _app = new();
    private HttpClient _browser = null!;

    public async Task InitializeAsync() => _browser = await _app.SignedInBrowserAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task EveryPage_WarnsWhileTheAddressInUseDiffersFromThePublicUrl_AndNotOnceTheyMatch()
    {
        // The test client talks to http://localhost; a fresh install's public URL is http://localhost:5080.
        foreach (var page in new[] { "/tokens", "/webservices", "/settings" })
        {
            var html = await _browser.GetStringAsync(page);
            Assert.Contains("You opened TokenAdmin at http://localhost, but its public URL is http://localhost:5080", html, StringComparison.Ordinal);
            Assert.Contains("http://localhost:5080/oauth2/callback", html, StringComparison.Ordinal);
        }

        await using var scope = _app.Services.CreateAsyncScope();
        var result = await scope.ServiceProvider.GetRequiredService<SettingsStore>()
            .UpdateAsync(new Dictionary<string, string?> { ["FQDN"] = "LOCALHOST", ["HttpType"] = "http" }, "test", CancellationToken.None);
        Assert.True(result.Errors.Count == 0, string.Join("; ", result.Errors.Values));

        Assert.DoesNotContain("You opened TokenAdmin at", await _browser.GetStringAsync("/tokens"), StringComparison.Ordinal);
    }
}
