using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TokenAdmin.Alerts;
using TokenAdmin.Alerts.Channels;
using TokenAdmin.Data;
using TokenAdmin.Refresh;
using TokenAdmin.Settings;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tests.Tokens;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Alerts;

/// <summary>
/// The alerts time raises: refresh tokens about to expire (a stated 7-day lifetime is explained as Google's Testing
/// mode, an assumed one says so) and reminders while a source stays dead; each once, however often the scan runs.
/// </summary>
public sealed class AlertScannerTests : TokenTestBase
{
    public override async Task InitializeAsync()
    {
        // Google's 7 days fit the window; the other tests' sources have no refresh-token expiry at all.
        App.Settings["TokenAdmin:Alerts:RefreshTokenWarning"] = "8.00:00:00";
        // The host's own scans would race the test's: the test scans itself.
        App.Settings["TokenAdmin:Alerts:ScanInterval"] = "1.00:00:00";
        await base.InitializeAsync();
    }

    [Fact]
    public async Task ExpiringRefreshTokens_RaiseOneAlertEach_AndSevenDaysStatedIsExplainedAsGoogleTestingMode()
    {
        await using var provider = await ScriptedTokenEndpoint.StartAsync();
        var google = await CreateConfigAsync("google-testing", change: d => { d.Endpoints.Token = provider.Url; d.Scope = "mail"; });
        var assumed = await CreateConfigAsync("assumed-lifetime", change: d => { d.Endpoints.Token = provider.Url; d.Scope = "mail"; d.RefreshToken.LifetimeDays = 3; });
        var lasting = await CreateConfigAsync("lasting", change: d => { d.Endpoints.Token = provider.Url; d.Scope = "mail"; });
        provider.Answer(200, """{"access_token":"a1","token_type":"Bearer","expires_in":3600,"refresh_token":"r1","refresh_token_expires_in":604799}""");
        provider.Answer(200, """{"access_token":"a2","token_type":"Bearer","expires_in":3600,"refresh_token":"r2"}""");
        provider.Answer(200, """{"access_token":"a3","token_type":"Bearer","expires_in":3600,"refresh_token":"r3","refresh_token_expires_in":7776000}""");
        foreach (var id in new[] { google, assumed, lasting })
        {
            Assert.Equal(HttpStatusCode.Redirect, (await Browser.GetAsync(await SignInAtProviderAsync(await StartAuthorizationAsync(id)))).StatusCode);
        }

        Assert.Equal(2, await ScanAsync(App.Services.GetRequiredService<AlertOutbox>()));
        Assert.Equal(0, await ScanAsync(App.Services.GetRequiredService<AlertOutbox>()));

        var alerts = await App.WithDbAsync(db => db.AlertEvents.AsNoTracking().Where(e => e.Type == AlertTypes.RefreshTokenExpiring).OrderBy(e => e.SourceName).ToListAsync());
        Assert.Equal(["assumed-lifetime", "google-testing"], alerts.Select(a => a.SourceName));
        Assert.Contains("as assumed from its configured lifetime", alerts[0].Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Testing", alerts[0].Message, StringComparison.Ordinal);
        Assert.Contains("expires at", alerts[1].Message, StringComparison.Ordinal);
        Assert.Contains("\"Testing\" mode", alerts[1].Message, StringComparison.Ordinal);
        Assert.Contains("Request token", alerts[1].Message, StringComparison.Ordinal);
        Assert.Equal($"/Tokens/Details/{google}", alerts[1].Link);
    }

    [Fact]
    public async Task DeadSource_IsRemindedOncePerInterval_WhileItStaysDead()
    {
        var id = await CreateConfigAsync("mailbox");
        Assert.Equal(HttpStatusCode.Redirect, (await AuthorizeAsync(id)).StatusCode);
        Idp.Faults.TokenEndpoint = TokenEndpointFault.InvalidGrant;
        await Assert.ThrowsAsync<TokenUnavailableException>(() => App.Services.GetRequiredService<ITokenProvider>().ForceRefreshAsync(TokenSource.Config(id), default));
        var everySecond = new AlertOutbox(new FixedOptions(new AlertOptions { ReminderInterval = TimeSpan.FromSeconds(1) }));

        Assert.Equal(0, await ScanAsync(everySecond)); // the alert is younger than the interval
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        Assert.Equal(1, await ScanAsync(everySecond));
        Assert.Equal(0, await ScanAsync(everySecond));

        var alerts = await App.WithDbAsync(db => db.AlertEvents.AsNoTracking().Where(e => e.SourceId == id).OrderBy(e => e.Id).ToListAsync());
        Assert.Equal([AlertTypes.SourceDead, AlertTypes.SourceDead], alerts.Select(a => a.Type));
        Assert.StartsWith("Reminder: still dead (alerted first at ", alerts[1].Message, StringComparison.Ordinal);
        Assert.EndsWith(alerts[0].Message, alerts[1].Message, StringComparison.Ordinal);
        Assert.NotEqual(alerts[0].EventId, alerts[1].EventId);
    }

    /// <summary>One scan with the host's services and the given outbox (its options).</summary>
    private async Task<int> ScanAsync(AlertOutbox outbox)
    {
        using var scope = App.Services.CreateScope();
        var services = scope.ServiceProvider;
        var scanner = new AlertScanner(services.GetRequiredService<TokenAdminDb>(), outbox, services.GetRequiredService<TokenSourceKinds>(),
            services.GetRequiredService<SettingsStore>(), services.GetRequiredService<DatabaseWriteGate>(), services.GetRequiredService<IOptions<TokenStoreUpdaterOptions>>(),
            TimeProvider.System, services.GetRequiredService<ILogger<AlertScanner>>());
        return await scanner.ScanAsync(default);
    }

    private sealed class FixedOptions(AlertOptions value) : IOptionsMonitor<AlertOptions>
    {
        public AlertOptions CurrentValue => value;

        public AlertOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<AlertOptions, string?> listener) => null;
    }
}
