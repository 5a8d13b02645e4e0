using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Alerts;
using TokenAdmin.Alerts.Channels;
using TokenAdmin.FunctionalAccounts;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tests.Oidc;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Alerts;

/// <summary>
/// The event types the test identity provider can cause for real, each checked at the signed webhook receiver, for
/// the ones <see cref="AlertTests"/> does not cover: a refresh token that expired at the provider (token config), the
/// provider down then back (token config), a revoked grant (functional account, password grant), and a stated
/// refresh-token lifetime of 7 days explained as Google's "Testing" mode (token config and functional account).
/// </summary>
public sealed class AlertEventEndToEndTests : AccountTestBase
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private WebhookReceiver _receiver = null!;

    public override async Task InitializeAsync()
    {
        App.Settings["TokenAdmin:Alerts:FailingAfterFailures"] = "2";
        App.Settings["TokenAdmin:Alerts:RefreshTokenWarning"] = "8.00:00:00";
        // The test scans itself (the host's scans would race it); the updater would renew behind the test's back.
        App.Settings["TokenAdmin:Alerts:ScanInterval"] = "1.00:00:00";
        App.Settings["TokenAdmin:TokenStoreUpdater:Enabled"] = "false";
        _receiver = await WebhookReceiver.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task TokenConfig_RefreshTokenExpiredAtTheProvider_IsDead_AndTheWebhookSaysItNeedsANewAuthorization()
    {
        await AddWebhookChannelAsync();
        Idp.RefreshTokenLifetime = TimeSpan.FromSeconds(2);
        var id = await CreateConfigAsync("short-lived");
        Assert.Equal(HttpStatusCode.Redirect, (await AuthorizeAsync(id)).StatusCode);
        await Task.Delay(TimeSpan.FromSeconds(3)); // the provider's refresh token has expired now

        await Assert.ThrowsAsync<TokenUnavailableException>(() => App.Services.GetRequiredService<ITokenProvider>().ForceRefreshAsync(TokenSource.Config(id), default));

        var dead = Assert.Single(await _receiver.WaitForAsync(1, Bound));
        Assert.Equal(AlertTypes.SourceDead, dead.GetProperty("type").GetString());
        Assert.Equal("short-lived", dead.GetProperty("source").GetProperty("name").GetString());
        var message = dead.GetProperty("message").GetString()!;
        Assert.Contains("needs a new authorization", message, StringComparison.Ordinal);
        Assert.Contains("invalid_grant", message, StringComparison.Ordinal);
        Assert.Equal($"http://localhost:5080/Tokens/Details/{id}", dead.GetProperty("link").GetString());
    }

    [Fact]
    public async Task TokenConfig_ProviderDown_IsFailingAfterTheThreshold_ThenRecovered_AtTheWebhook()
    {
        await AddWebhookChannelAsync();
        var id = await CreateConfigAsync("mailbox");
        Assert.Equal(HttpStatusCode.Redirect, (await AuthorizeAsync(id)).StatusCode);

        Idp.Faults.TokenEndpoint = TokenEndpointFault.ServerError500;
        for (var i = 0; i < 3; i++)
        {
            Assert.False((await RenewConfigAsync(id)).Succeeded);
        }

        Idp.Faults.TokenEndpoint = TokenEndpointFault.None;
        Assert.True((await RenewConfigAsync(id)).Succeeded);

        var received = await _receiver.WaitForAsync(2, Bound);
        Assert.Equal([AlertTypes.SourceFailing, AlertTypes.SourceRecovered], received.Select(r => r.GetProperty("type").GetString()));
        Assert.Contains("has failed 2 time(s) in a row", received[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("failing", received[0].GetProperty("state").GetString());
        Assert.Equal("ok", received[1].GetProperty("state").GetString());
        Assert.Equal(2, await App.WithDbAsync(db => db.AlertEvents.CountAsync(e => e.SourceKind == "TokenConfig" && e.SourceId == id)));
    }

    [Fact]
    public async Task FunctionalAccount_RevokedGrant_IsDead_AtTheWebhook()
    {
        await AddWebhookChannelAsync();
        var profile = await CreateProfileAsync();
        var account = await PasswordAccountAsync(profile.Id);
        Assert.True((await RenewAsync(account)).Succeeded);

        Idp.Faults.TokenEndpoint = TokenEndpointFault.InvalidGrant; // the refresh token and the password grant are refused
        Assert.False((await RenewAsync(account)).Succeeded);

        var dead = Assert.Single(await _receiver.WaitForAsync(1, Bound));
        Assert.Equal(AlertTypes.SourceDead, dead.GetProperty("type").GetString());
        Assert.Equal("FunctionalAccount", dead.GetProperty("source").GetProperty("kind").GetString());
        Assert.Contains("invalid_grant", dead.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal($"http://localhost:5080/FunctionalAccounts/Edit/{account}", dead.GetProperty("link").GetString());
    }

    [Fact]
    public async Task StatedSevenDayRefreshTokens_OfATokenConfigAndAFunctionalAccount_AreExplainedAsTestingMode_AtTheWebhook()
    {
        await AddWebhookChannelAsync();
        Idp.RefreshTokenLifetime = TimeSpan.FromDays(7);
        Idp.StateRefreshTokenLifetime = true;
        var config = await CreateConfigAsync("google-testing");
        Assert.Equal(HttpStatusCode.Redirect, (await AuthorizeAsync(config)).StatusCode);
        var profile = await CreateProfileAsync();
        var account = await PasswordAccountAsync(profile.Id);
        Assert.True((await RenewAsync(account)).Succeeded);

        using (var scope = App.Services.CreateScope())
        {
            Assert.Equal(2, await scope.ServiceProvider.GetRequiredService<AlertScanner>().ScanAsync(default));
        }

        var received = (await _receiver.WaitForAsync(2, Bound)).OrderBy(r => r.GetProperty("source").GetProperty("kind").GetString(), StringComparer.Ordinal).ToList();
        Assert.All(received, r => Assert.Equal(AlertTypes.RefreshTokenExpiring, r.GetProperty("type").GetString()));
        Assert.Equal(["FunctionalAccount", "TokenConfig"], received.Select(r => r.GetProperty("source").GetProperty("kind").GetString()));
        Assert.All(received, r => Assert.Contains("\"Testing\" mode", r.GetProperty("message").GetString(), StringComparison.Ordinal));
        Assert.DoesNotContain("as assumed", received[1].GetProperty("message").GetString(), StringComparison.Ordinal);
        var state = await App.WithDbAsync(db => db.TokenStates.AsNoTracking().SingleAsync(s => s.TokenConfigId == config));
        Assert.False(state.RefreshTokenExpiryEstimated);
    }

    private async Task<int> PasswordAccountAsync(int profileId) =>
        (await CreateAccountAsync(profileId, change: a =>
        {
            a.GrantType = AccountGrantTypes.Password;
            a.Username = "alice";
            a.Password = "alice-password-1";
            a.Scope = "openid offline_access email";
        })).Id;

    private async Task<TokenOperationResult> RenewConfigAsync(int id)
    {
        using var scope = App.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<TokenEngine>().RenewAsync(TokenSource.Config(id), "test", default);
    }

    private async Task AddWebhookChannelAsync()
    {
        var response = await Browser.PostFormAsync("/alerts/channel", new()
        {
            ["Input.Name"] = "ops webhook",
            ["Input.Kind"] = "Webhook",
            ["Input.Target"] = _receiver.Url,
            ["Input.Secret"] = _receiver.Secret,
            ["Input.Enabled"] = "true",
        }, formPage: "/alerts/channel");
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()));
    }
}
