using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Alerts;
using TokenAdmin.Alerts.Channels;
using TokenAdmin.Data;
using TokenAdmin.FunctionalAccounts;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tests.Oidc;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Alerts;

/// <summary>
/// Alerts end to end: a real state change at the test identity provider (revoked grant, provider down) raises one
/// alert in the outbox with the change, the dispatcher delivers it to a signed webhook on loopback, and the history
/// shows the outcome. Failing receivers are retried and then recorded as failed.
/// </summary>
public sealed class AlertTests : AccountTestBase
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private WebhookReceiver _receiver = null!;

    public override async Task InitializeAsync()
    {
        App.Settings["TokenAdmin:Alerts:FailingAfterFailures"] = "2";
        App.Settings["TokenAdmin:Alerts:RetryBackoff"] = "00:00:00.200";
        App.Settings["TokenAdmin:Alerts:DeliveryTimeout"] = "00:00:01";
        App.Settings["TokenAdmin:Alerts:MaxAttempts"] = "3";
        _receiver = await WebhookReceiver.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task TokenConfig_RevokedGrant_RaisesOneDeadAlert_SignedWebhookGetsIt_ThenRecoveredAfterReauthorization()
    {
        await AddWebhookChannelAsync();
        var id = await CreateConfigAsync("mailbox");
        Assert.Equal(HttpStatusCode.Redirect, (await AuthorizeAsync(id)).StatusCode);

        // The provider refuses the refresh token from now on (revoked): two renewals fail, one alert is raised.
        Idp.Faults.TokenEndpoint = TokenEndpointFault.InvalidGrant;
        var tokens = App.Services.GetRequiredService<ITokenProvider>();
        for (var i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<TokenUnavailableException>(() => tokens.ForceRefreshAsync(TokenSource.Config(id), default));
        }

        var dead = Assert.Single(await _receiver.WaitForAsync(1, Bound));
        Assert.Equal(AlertTypes.SourceDead, dead.GetProperty("type").GetString());
        Assert.Equal("mailbox", dead.GetProperty("source").GetProperty("name").GetString());
        Assert.Equal("TokenConfig", dead.GetProperty("source").GetProperty("kind").GetString());
        Assert.Equal("dead", dead.GetProperty("state").GetString());
        Assert.Contains("needs a new authorization", dead.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("Request token", dead.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal($"http://localhost:5080/Tokens/Details/{id}", dead.GetProperty("link").GetString());
        Assert.Equal(AlertConditions.Dead, (await StateAsync(id))!.AlertCondition);

        // A new authorization makes it work again: one "recovered" alert.
        Idp.Faults.TokenEndpoint = TokenEndpointFault.None;
        Assert.Equal(HttpStatusCode.Redirect, (await AuthorizeAsync(id)).StatusCode);
        var all = await _receiver.WaitForAsync(2, Bound);
        Assert.Equal(AlertTypes.SourceRecovered, all[1].GetProperty("type").GetString());
        Assert.Null((await StateAsync(id))!.AlertCondition);

        Assert.Equal([AlertTypes.SourceDead, AlertTypes.SourceRecovered], await TypesAsync("TokenConfig", id));
        Assert.Equal(0, _receiver.BadSignatures);
        Assert.Equal(0, _receiver.Duplicates);
        var history = WebUtility.HtmlDecode(await Browser.GetStringAsync("/alerts/history"));
        Assert.Contains(AlertTypes.Describe(AlertTypes.SourceDead), history, StringComparison.Ordinal);
        Assert.Contains("Token source recovered", history, StringComparison.Ordinal);
        Assert.Contains($"event {dead.GetProperty("id").GetString()}", history, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FunctionalAccount_ProviderDown_RaisesFailingOnlyAfterTheThreshold_OnceWhileItLasts_ThenRecovered()
    {
        await AddWebhookChannelAsync();
        var profile = await CreateProfileAsync();
        var account = await CreateAccountAsync(profile.Id);
        Assert.True((await RenewAsync(account.Id)).Succeeded);

        Idp.Faults.TokenEndpoint = TokenEndpointFault.ServerError500;
        Assert.False((await RenewAsync(account.Id)).Succeeded);
        Assert.Empty(await TypesAsync("FunctionalAccount", account.Id)); // one failure is below the threshold (2)
        Assert.False((await RenewAsync(account.Id)).Succeeded);
        Assert.False((await RenewAsync(account.Id)).Succeeded);
        Assert.Equal([AlertTypes.SourceFailing], await TypesAsync("FunctionalAccount", account.Id));

        Idp.Faults.TokenEndpoint = TokenEndpointFault.None;
        Assert.True((await RenewAsync(account.Id)).Succeeded);
        Assert.True((await RenewAsync(account.Id)).Succeeded);
        Assert.Equal([AlertTypes.SourceFailing, AlertTypes.SourceRecovered], await TypesAsync("FunctionalAccount", account.Id));

        var received = await _receiver.WaitForAsync(2, Bound);
        Assert.Equal(AlertTypes.SourceFailing, received[0].GetProperty("type").GetString());
        Assert.Contains("has failed 2 time(s) in a row", received[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal($"http://localhost:5080/FunctionalAccounts/Edit/{account.Id}", received[0].GetProperty("link").GetString());
        Assert.Equal("FunctionalAccount", received[1].GetProperty("source").GetProperty("kind").GetString());
        Assert.Equal(AlertTypes.SourceRecovered, received[1].GetProperty("type").GetString());
    }

    [Fact]
    public async Task FunctionalAccount_InvalidClient_RaisesDeadWithAHintAtTheCredentials()
    {
        await AddWebhookChannelAsync();
        var profile = await CreateProfileAsync();
        var account = await CreateAccountAsync(profile.Id);
        Idp.Faults.TokenEndpoint = TokenEndpointFault.InvalidClient;

        Assert.False((await RenewAsync(account.Id)).Succeeded);

        var alert = Assert.Single(await _receiver.WaitForAsync(1, Bound));
        Assert.Equal(AlertTypes.SourceDead, alert.GetProperty("type").GetString());
        Assert.Contains("invalid_client", alert.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("Check its client ID, secret or certificate", alert.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailingReceiver_500ThenNoAnswer_IsRetriedWithBackoff_ThenRecordedAsFailed()
    {
        await AddWebhookChannelAsync();
        var calls = 0;
        _receiver.Fault = async (context, cancellationToken) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                context.Response.StatusCode = 500;
                await context.Response.WriteAsync("receiver broken", cancellationToken);
            }
            else
            {
                await Task.Delay(Timeout.Infinite, cancellationToken); // never answers; the delivery's deadline (1 s) ends it
            }
        };

        var eventId = await RaiseAsync();

        var delivery = await WaitForDeliveryAsync(eventId, d => d.Status == AlertDeliveryStatus.Failed);
        Assert.Equal(3, delivery.Attempts);
        Assert.Equal("No answer within 1 seconds.", delivery.LastError);
        Assert.Equal(3, _receiver.Attempts.Count);
        Assert.NotNull(delivery.CompletedAt);
        var history = WebUtility.HtmlDecode(await Browser.GetStringAsync("/alerts/history?status=Failed"));
        Assert.Contains("failed after 3 attempt(s)", history, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailingReceiver_ThatRecovers_GetsTheAlertOnARetry()
    {
        await AddWebhookChannelAsync();
        _receiver.Fault = async (context, cancellationToken) =>
        {
            context.Response.StatusCode = 503;
            await context.Response.WriteAsync("busy", cancellationToken);
            _receiver.Fault = null;
        };

        var eventId = await RaiseAsync();

        var delivery = await WaitForDeliveryAsync(eventId, d => d.Status == AlertDeliveryStatus.Sent);
        Assert.Equal(2, delivery.Attempts);
        Assert.Equal(eventId, Assert.Single(_receiver.Accepted).GetProperty("id").GetString());
    }

    [Fact]
    public async Task ChannelFilter_SendsOnlyTheChosenTypesAndSources()
    {
        await AddWebhookChannelAsync(types: [AlertTypes.SourceDead], sources: "other-source");
        await RaiseAsync(type: AlertTypes.SourceFailing, source: "other-source");
        await RaiseAsync(type: AlertTypes.SourceDead, source: "unrelated");
        var wanted = await RaiseAsync(type: AlertTypes.SourceDead, source: "Other-Source");

        var alert = Assert.Single(await _receiver.WaitForAsync(1, Bound));
        Assert.Equal(wanted, alert.GetProperty("id").GetString());
        // The other two were handed out (no channel wanted them), so nothing is left to send.
        Assert.Equal(1, await App.WithDbAsync(db => db.AlertDeliveries.CountAsync()));
    }

    [Fact]
    public async Task ChannelPage_TestButton_SendsASignedTestAlert_AndTheSecretIsStoredEncryptedNeverShown()
    {
        var id = await AddWebhookChannelAsync();

        var response = await Browser.PostFormAsync($"/alerts/channels?handler=Test&id={id}", [], formPage: "/alerts/channels");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("The test alert was sent.", await Browser.GetStringAsync("/alerts/channels"), StringComparison.Ordinal);
        Assert.Equal(AlertTypes.Test, Assert.Single(_receiver.Accepted).GetProperty("type").GetString());

        var form = await Browser.GetStringAsync($"/alerts/channel/{id}");
        Assert.DoesNotContain(_receiver.Secret, form, StringComparison.Ordinal);
        Assert.DoesNotContain(_receiver.Secret, await DatabaseFiles.RawTextAsync(App.DataDirectory), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChannelPage_BadInput_ShowsEveryMessage_AndSavesNothing()
    {
        var response = await Browser.PostFormAsync("/alerts/channel", new()
        {
            ["Input.Name"] = "",
            ["Input.Kind"] = "Webhook",
            ["Input.Target"] = "http://hooks.example.com/alerts",
            ["Input.Secret"] = "short",
            ["Input.EventTypes"] = "no.such-type",
        }, formPage: "/alerts/channel");

        var page = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Enter a name of 1 to 100 characters.", page, StringComparison.Ordinal);
        Assert.Contains("A webhook must use https (http only to this machine)", page, StringComparison.Ordinal);
        Assert.Contains("The signing secret must be 16 to 500 characters long.", page, StringComparison.Ordinal);
        Assert.Contains("'no.such-type' is not an alert type.", page, StringComparison.Ordinal);
        Assert.Contains("value=\"http://hooks.example.com/alerts\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain("value=\"short\"", page, StringComparison.Ordinal);
        Assert.Equal(0, await App.WithDbAsync(db => db.AlertChannels.CountAsync()));
    }

    /// <summary>Adds a webhook channel through its page, as an admin does.</summary>
    private async Task<int> AddWebhookChannelAsync(string[]? types = null, string sources = "")
    {
        var fields = new Dictionary<string, string>
        {
            ["Input.Name"] = "ops webhook",
            ["Input.Kind"] = "Webhook",
            ["Input.Target"] = _receiver.Url,
            ["Input.Secret"] = _receiver.Secret,
            ["Input.Sources"] = sources,
            ["Input.Enabled"] = "true",
        };
        if (types is { Length: 1 })
        {
            fields["Input.EventTypes"] = types[0];
        }

        var response = await Browser.PostFormAsync("/alerts/channel", fields, formPage: "/alerts/channel");
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()));
        return await App.WithDbAsync(db => db.AlertChannels.Where(c => c.Name == "ops webhook").Select(c => c.Id).SingleAsync());
    }

    /// <summary>Writes an alert into the outbox as a state change does (same unit of work), and wakes the dispatcher.</summary>
    private async Task<string> RaiseAsync(string type = AlertTypes.SourceFailing, string source = "mailbox")
    {
        var outbox = App.Services.GetRequiredService<AlertOutbox>();
        var eventId = await App.WithDbAsync(async db =>
        {
            var alert = outbox.Add(db, new AlertSubject("TokenConfig", 1, source, "/Tokens/Details/1"), type, "failing", "Test failure.", DateTime.UtcNow);
            await db.SaveChangesAsync();
            return alert.EventId;
        });
        outbox.Wake();
        return eventId;
    }

    private async Task<AlertDelivery> WaitForDeliveryAsync(string eventId, Func<AlertDelivery, bool> done)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var delivery = await App.WithDbAsync(db => db.AlertDeliveries.AsNoTracking().SingleOrDefaultAsync(d => d.Event!.EventId == eventId));
            if (delivery is not null && done(delivery))
            {
                return delivery;
            }

            Assert.True(watch.Elapsed < Bound, $"delivery of {eventId}: {delivery?.Status} after {delivery?.Attempts} attempt(s): {delivery?.LastError}");
            await Task.Delay(100);
        }
    }

    private Task<List<string>> TypesAsync(string kind, int id) =>
        App.WithDbAsync(db => db.AlertEvents.AsNoTracking().Where(e => e.SourceKind == kind && e.SourceId == id).OrderBy(e => e.Id).Select(e => e.Type).ToListAsync());
}
