using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TokenAdmin.Alerts;
using TokenAdmin.Alerts.Channels;
using TokenAdmin.Data;
using TokenAdmin.Refresh;
using TokenAdmin.Settings;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tests.Oidc;
using TokenAdmin.Tests.Tokens;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Alerts;

/// <summary>
/// Client secrets (with an expiry date entered) and client certificates of both kinds of source: shown with the source,
/// warned about in banners from the configurable window, raised once as "client secret or certificate will expire"
/// (again per reminder interval), and carried by the token config's YAML.
/// </summary>
public sealed class CredentialExpiryTests : AccountTestBase
{
    public override async Task InitializeAsync()
    {
        App.Settings["TokenAdmin:TokenStoreUpdater:Enabled"] = "false";
        // The host's own scans would race the test's: the test scans itself.
        App.Settings["TokenAdmin:Alerts:ScanInterval"] = "1.00:00:00";
        await base.InitializeAsync();
    }

    private static DateOnly InDays(int days) => DateOnly.FromDateTime(DateTime.UtcNow.AddDays(days));

    /// <summary>A token config with a secret expiring on the given day and, optionally, a certificate expiring in so many days.</summary>
    private async Task<int> ConfigAsync(string name, DateOnly? secretExpires, int? certificateDays = null)
    {
        var document = TokenTemplates.Find(TokenTemplates.Custom)!.NewDocument();
        document.Name = name;
        document.Flow = TokenFlows.ClientCredentials;
        document.ClientId = "tokenadmin";
        document.ClientAuthentication = ClientAuthentications.Basic;
        document.ClientSecretExpires = secretExpires;
        document.Scope = "api";
        document.Endpoints.Token = Idp.TokenEndpoint;
        var certificate = certificateDays is { } days
            ? new ClientCertificateUpload(ClientCertificateFiles.Pem(ClientCertificateFiles.Rsa($"CN={name}", notAfter: DateTimeOffset.UtcNow.AddDays(days))), null)
            : null;
        using var scope = App.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<TokenConfigService>().CreateAsync(
            document, new TokenConfigSecrets(ClientSecret) { Certificate = certificate }, "test", default);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => $"{e.Key}: {e.Value}")));
        return result.Config!.Id;
    }

    /// <summary>A profile whose secret expires in <paramref name="secretDays"/> and an account on it with its own certificate expiring in <paramref name="certificateDays"/>.</summary>
    private async Task<(int Profile, int Account)> AccountAsync(int secretDays, int certificateDays)
    {
        var profile = await CreateProfileAsync(change: p => p.ClientSecretExpires = InDays(secretDays).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        var pem = ClientCertificateFiles.Pem(ClientCertificateFiles.Rsa("CN=account", notAfter: DateTimeOffset.UtcNow.AddDays(certificateDays)));
        var account = await CreateAccountAsync(profile.Id, change: a => a.ClientCertificateFile = new FormFile(new MemoryStream(pem), 0, pem.Length, "Input.ClientCertificateFile", "client.pem"));
        return (profile.Id, account.Id);
    }

    [Fact]
    public async Task ExpiringSecretsAndCertificates_RaiseOneAlertEach_ForBothKinds_AndAgainPerReminderInterval()
    {
        var config = await ConfigAsync("expiring-config", InDays(10), certificateDays: 20);
        await ConfigAsync("lasting-config", InDays(100), certificateDays: 200);
        var (_, account) = await AccountAsync(secretDays: 3, certificateDays: 5);
        var daily = App.Services.GetRequiredService<AlertOutbox>();

        Assert.Equal(4, await ScanAsync(daily));
        Assert.Equal(0, await ScanAsync(daily));

        var alerts = await App.WithDbAsync(db => db.AlertEvents.AsNoTracking().Where(e => e.Type == AlertTypes.CredentialExpiring).OrderBy(e => e.Id).ToListAsync());
        Assert.Equal(4, alerts.Count);
        Assert.All(alerts, a => Assert.Equal("expiring", a.State));
        var configAlerts = alerts.Where(a => a.SourceKind == nameof(TokenSourceKind.TokenConfig)).ToList();
        Assert.All(configAlerts, a => Assert.Equal(config, a.SourceId));
        Assert.All(configAlerts, a => Assert.Equal($"/Tokens/Details/{config}", a.Link));
        Assert.Contains(configAlerts, a => a.Message.StartsWith("The client secret of the token config 'expiring-config' expires on", StringComparison.Ordinal)
            && a.Message.Contains("AADSTS7000222", StringComparison.Ordinal));
        Assert.Contains(configAlerts, a => a.Message.StartsWith("The client certificate (", StringComparison.Ordinal) && a.Message.Contains("'expiring-config'", StringComparison.Ordinal));
        var accountAlerts = alerts.Where(a => a.SourceKind == nameof(TokenSourceKind.FunctionalAccount)).ToList();
        Assert.Equal(2, accountAlerts.Count);
        Assert.All(accountAlerts, a => Assert.Equal(account, a.SourceId));
        Assert.Contains(accountAlerts, a => a.Message.StartsWith("The client secret of the OIDC profile 'test-idp' (used by the functional account 'mailbox-robot')", StringComparison.Ordinal));
        Assert.Contains(accountAlerts, a => a.Message.Contains("client certificate", StringComparison.Ordinal) && Regex.IsMatch(a.Message, @"\(in [45] days\)"));
        Assert.DoesNotContain(alerts, a => a.SourceName == "lasting-config");

        // A reminder per interval while the credential stays in the window, each with its own event id.
        var everySecond = new AlertOutbox(new FixedOptions(new AlertOptions { ReminderInterval = TimeSpan.FromSeconds(1) }));
        await ScanAsync(everySecond);
        await Task.Delay(TimeSpan.FromSeconds(1.1));
        Assert.Equal(4, await ScanAsync(everySecond));
        var ids = await App.WithDbAsync(db => db.AlertEvents.Where(e => e.Type == AlertTypes.CredentialExpiring).Select(e => e.EventId).ToListAsync());
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public async Task Dashboard_ListsSecretsAndCertificatesThatExpireSoon_SoonestFirst_EachWithThePageThatRenewsIt()
    {
        var empty = System.Net.WebUtility.HtmlDecode(await Browser.GetStringAsync("/"));
        Assert.Contains("No client secret or certificate expires within 30 days", empty, StringComparison.Ordinal);
        var config = await ConfigAsync("expiring-config", InDays(10), certificateDays: 20);
        await ConfigAsync("lasting-config", InDays(100), certificateDays: 200);
        var (profile, account) = await AccountAsync(secretDays: 3, certificateDays: 5);
        var expired = await ConfigAsync("expired-config", InDays(-2));

        var page = System.Net.WebUtility.HtmlDecode(await Browser.GetStringAsync("/"));

        var section = page[page.IndexOf("Secrets and certificates that expire soon</h2>", StringComparison.Ordinal)..page.IndexOf("Redirect URI</h2>", StringComparison.Ordinal)];
        Assert.DoesNotContain("lasting-config", section, StringComparison.Ordinal);
        string[] order = [
            $"Token config <strong>expired-config</strong>: the client secret expired on",
            $"OIDC profile <strong>test-idp</strong>: the client secret expires on",
            $"Functional account <strong>mailbox-robot</strong>: the client certificate expires on",
            $"Token config <strong>expiring-config</strong>: the client secret expires on",
            $"Token config <strong>expiring-config</strong>: the client certificate expires on"];
        var at = order.Select(o => section.IndexOf(o, StringComparison.Ordinal)).ToList();
        Assert.All(at, i => Assert.True(i >= 0, section));
        Assert.Equal(at.Order(), at);
        Assert.Contains("Expired:</strong>", section, StringComparison.Ordinal);
        Assert.Contains($"href=\"/Tokens/Edit/{expired}\">Renew the secret", section, StringComparison.Ordinal);
        Assert.Contains($"href=\"/Tokens/Edit/{config}\">Renew the certificate", section, StringComparison.Ordinal);
        Assert.Contains($"href=\"/OidcProfiles/Edit/{profile}\">Renew the secret", section, StringComparison.Ordinal);
        Assert.Contains($"href=\"/FunctionalAccounts/Edit/{account}\">Renew the certificate", section, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CredentialExpiresAt_IsDerivedOnCreate_AndOnEachEditOfCertificateSecretAndExpiry_IgnoringTheExpiryOfARemovedSecret()
    {
        // Note: each date is computed once, so a run across midnight (UTC) compares the same day.
        var tenDays = InDays(10);
        var id = await ConfigAsync("derived-config", tenDays, certificateDays: 20);
        var created = await StoredAsync(id);
        Assert.Equal(CredentialExpiry.StartOf(tenDays), created.CredentialExpiresAt);

        // The secret's expiry moves past the certificate's end: the certificate comes first.
        var later = await EditAsync(id, d => d.ClientSecretExpires = InDays(30));
        Assert.Equal(later.Certificate.NotAfter, later.CredentialExpiresAt);
        Assert.True(later.CredentialExpiresAt > DateTime.UtcNow.AddDays(19));

        // A new certificate that ends sooner.
        var upload = new ClientCertificateUpload(ClientCertificateFiles.Pem(ClientCertificateFiles.Rsa("CN=derived-config", notAfter: DateTimeOffset.UtcNow.AddDays(5))), null);
        var renewed = await EditAsync(id, _ => { }, new TokenConfigSecrets { Certificate = upload });
        Assert.Equal(renewed.Certificate.NotAfter, renewed.CredentialExpiresAt);
        Assert.True(renewed.CredentialExpiresAt < DateTime.UtcNow.AddDays(6));

        // The secret's expiry moves before the certificate's end.
        var twoDays = InDays(2);
        var sooner = await EditAsync(id, d => d.ClientSecretExpires = twoDays);
        Assert.Equal(CredentialExpiry.StartOf(twoDays), sooner.CredentialExpiresAt);

        // The secret removed (the certificate signs instead): its expiry date no longer counts.
        var withoutSecret = await EditAsync(id, d => d.ClientAuthentication = ClientAuthentications.PrivateKeyJwt, new TokenConfigSecrets(ClearClientSecret: true));
        Assert.Null(withoutSecret.ClientSecretProtected);
        Assert.Equal(CredentialExpiry.StartOf(InDays(2)), withoutSecret.ClientSecretExpiresAt);
        Assert.Equal(withoutSecret.Certificate.NotAfter, withoutSecret.CredentialExpiresAt);

        // A new secret without an expiry and no certificate: nothing expires.
        var neither = await EditAsync(id, d => { d.ClientAuthentication = ClientAuthentications.Basic; d.ClientSecretExpires = null; },
            new TokenConfigSecrets(ClientSecret: "new-secret") { ClearCertificate = true });
        Assert.False(neither.Certificate.Present);
        Assert.Null(neither.CredentialExpiresAt);
    }

    [Fact]
    public async Task Dashboard_FindsTokenConfigCredentials_ByTheDerivedExpiry_WithinTheWindowOnly()
    {
        await ConfigAsync("inside-window", InDays(25));
        await ConfigAsync("outside-window", InDays(35));
        await ConfigAsync("no-expiry", null);
        // The derived column decides which configs are read: one whose column is emptied behind the interceptor's back
        // (a bulk update, which must not do that) is not found, though its secret's own column is in the window.
        var bypassed = await ConfigAsync("bypassed-column", InDays(20));
        await App.WithDbAsync(db => db.TokenConfigs.Where(c => c.Id == bypassed)
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.CredentialExpiresAt, (DateTime?)null)));

        var page = WebUtility.HtmlDecode(await Browser.GetStringAsync("/"));

        var section = page[page.IndexOf("Secrets and certificates that expire soon</h2>", StringComparison.Ordinal)..page.IndexOf("Redirect URI</h2>", StringComparison.Ordinal)];
        Assert.Contains("Token config <strong>inside-window</strong>: the client secret expires on", section, StringComparison.Ordinal);
        Assert.DoesNotContain("bypassed-column", section, StringComparison.Ordinal);
        Assert.DoesNotContain("outside-window", section, StringComparison.Ordinal);
        Assert.DoesNotContain("no-expiry", section, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BannersAndAlertScanner_FindTokenConfigCredentials_ByTheDerivedExpiry()
    {
        await ConfigAsync("watched-config", InDays(10));
        // Emptied behind the interceptor's back (see the dashboard test): found only if the old condition came back.
        var bypassed = await ConfigAsync("bypassed-config", InDays(10));
        await App.WithDbAsync(db => db.TokenConfigs.Where(c => c.Id == bypassed)
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.CredentialExpiresAt, (DateTime?)null)));

        var page = WebUtility.HtmlDecode(await Browser.GetStringAsync("/tokens"));

        Assert.Matches(@"The client secret of token config watched-config expires in (9|10) days", page);
        Assert.DoesNotContain("token config bypassed-config", page, StringComparison.Ordinal);
        Assert.Equal(1, await ScanAsync(App.Services.GetRequiredService<AlertOutbox>()));
        var alert = await App.WithDbAsync(db => db.AlertEvents.AsNoTracking().SingleAsync(e => e.Type == AlertTypes.CredentialExpiring));
        Assert.Equal("watched-config", alert.SourceName);
    }

    private Task<TokenConfig> StoredAsync(int id) => App.WithDbAsync(db => db.TokenConfigs.AsNoTracking().SingleAsync(c => c.Id == id));

    /// <summary>Saves the config through the service as the Edit page does, with a change of its document and the given secrets.</summary>
    private async Task<TokenConfig> EditAsync(int id, Action<TokenConfigDocument> change, TokenConfigSecrets? secrets = null)
    {
        using (var scope = App.Services.CreateScope())
        {
            var service = scope.ServiceProvider.GetRequiredService<TokenConfigService>();
            var (config, document) = (await service.LoadAsync(id, default))!.Value;
            change(document);
            var result = await service.UpdateAsync(id, config.Version, document, secrets ?? new TokenConfigSecrets(), "test", default);
            Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => $"{e.Key}: {e.Value}")));
        }

        return await StoredAsync(id);
    }

    [Fact]
    public async Task WarningWindow_IsASetting_AndNarrowerWindowRaisesNothingForLaterExpiries()
    {
        using (var scope = App.Services.CreateScope())
        {
            var result = await scope.ServiceProvider.GetRequiredService<SettingsStore>().UpdateAsync(
                new Dictionary<string, string?> { [CredentialSettings.WarningDays] = "7" }, "test", default);
            Assert.True(result.Succeeded);
            var bad = await scope.ServiceProvider.GetRequiredService<SettingsStore>().UpdateAsync(
                new Dictionary<string, string?> { [CredentialSettings.WarningDays] = "0" }, "test", default);
            Assert.Contains("Warn before expiry must be a whole number from 1 to 365.", bad.Errors.Values);
        }

        await ConfigAsync("ten-days", InDays(10), certificateDays: 6);

        Assert.Equal(1, await ScanAsync(App.Services.GetRequiredService<AlertOutbox>()));
        var alert = await App.WithDbAsync(db => db.AlertEvents.AsNoTracking().SingleAsync(e => e.Type == AlertTypes.CredentialExpiring));
        Assert.StartsWith("The client certificate (", alert.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sources_ShowSecretAndCertificateExpiry_OnOverviewDetailsAndBanners()
    {
        var config = await ConfigAsync("soon-config", InDays(12), certificateDays: 90);
        var (profile, _) = await AccountAsync(secretDays: 40, certificateDays: 8);

        var overview = WebUtility.HtmlDecode(await Browser.GetStringAsync("/tokens"));
        Assert.Matches(@"secret expires in 1[12] days", overview);
        var details = WebUtility.HtmlDecode(await Browser.GetStringAsync($"/tokens/details/{config}"));
        Assert.Matches(@"secret expires in 1[12] days", details);
        Assert.Matches(@"certificate expires in (89|90) days", details);
        Assert.Matches(@"The client secret of token config soon-config expires in 1[12] days", details);
        Assert.DoesNotContain("The client certificate of token config soon-config", details, StringComparison.Ordinal);

        var accounts = WebUtility.HtmlDecode(await Browser.GetStringAsync("/functionalaccounts"));
        Assert.Matches(@"secret expires in (39|40) days", accounts);
        Assert.Matches(@"certificate expires in [78] days", accounts);
        Assert.Matches(@"The client certificate of functional account mailbox-robot expires in", accounts);
        // 40 days is outside the default 30-day window: the profile's secret is shown but not warned about.
        Assert.DoesNotContain("The client secret of OIDC profile", accounts, StringComparison.Ordinal);
        var profilePage = WebUtility.HtmlDecode(await Browser.GetStringAsync($"/oidcprofiles/edit/{profile}"));
        Assert.Contains($"value=\"{InDays(40):yyyy-MM-dd}\"", profilePage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecretExpiry_IsSavedFromTheForm_CarriedByTheYaml_AndABadDateIsRefused()
    {
        var id = await ConfigAsync("form-config", null);
        var fields = EditForm(await Browser.GetStringAsync($"/tokens/edit/{id}"), "2027-06-30");

        var saved = await Browser.PostFormAsync($"/tokens/edit/{id}", fields);

        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        var config = await App.WithDbAsync(db => db.TokenConfigs.AsNoTracking().SingleAsync(c => c.Id == id));
        Assert.Equal(new DateTime(2027, 6, 30, 0, 0, 0, DateTimeKind.Utc), config.ClientSecretExpiresAt);
        Assert.Contains("clientSecretExpires: 2027-06-30", config.Yaml, StringComparison.Ordinal);
        Assert.Equal(new DateOnly(2027, 6, 30), TokenConfigYaml.Parse(config.Yaml).ClientSecretExpires);
        var badYaml = Assert.Throws<TokenConfigYamlException>(() => TokenConfigYaml.Parse("name: x\nclientSecretExpires: 2027-13-01\n"));
        Assert.Contains("Line 2", badYaml.Message, StringComparison.Ordinal);

        var form = await Browser.GetStringAsync($"/tokens/edit/{id}");
        Assert.Matches("<input type=\"date\"[^>]* name=\"Input.ClientSecretExpires\" value=\"2027-06-30\"", form);
        fields = EditForm(form, "30.06.2027x");
        var refused = await Browser.PostFormAsync($"/tokens/edit/{id}", fields);
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("Client secret expires on: '30.06.2027x' is not a valid value.", WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        Assert.Equal(config.ClientSecretExpiresAt, await App.WithDbAsync(db => db.TokenConfigs.Where(c => c.Id == id).Select(c => c.ClientSecretExpiresAt).SingleAsync()));
    }

    private Dictionary<string, string> EditForm(string form, string secretExpires) => new()
    {
        ["Version"] = Regex.Match(form, "name=\"Version\" value=\"([^\"]+)\"").Groups[1].Value,
        ["Input.Name"] = "form-config", ["Input.Valid"] = "true", ["Input.Flow"] = TokenFlows.ClientCredentials,
        ["Input.ClientId"] = "tokenadmin", ["Input.ClientSecret"] = "", ["Input.ClientAuthentication"] = ClientAuthentications.Basic,
        ["Input.ClientSecretExpires"] = secretExpires, ["Input.Scope"] = "api", ["Input.TokenEndpoint"] = Idp.TokenEndpoint,
        ["Input.ExpiringSoonDays"] = "7", ["Input.NotifyTokenExpired"] = "true", ["Input.NotifyRefreshTokenExpired"] = "true",
    };

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
