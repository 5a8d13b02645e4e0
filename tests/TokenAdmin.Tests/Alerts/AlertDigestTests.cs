using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using TokenAdmin.Alerts;
using TokenAdmin.Alerts.Channels;
using TokenAdmin.Data;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tests.Oidc;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Alerts;

/// <summary>
/// The daily digest per channel, to signed webhooks on loopback: its content (alerts of the 24 hours by type with
/// sources and links, what is unresolved now, failed deliveries, the channel's filter applied), once per channel and
/// day however many nodes raise it, none when off, "digest only" channels get no alert at once. The day is set with a
/// clock given to the digest (<see cref="FixedClock"/>); the host's dispatcher delivers it for real.
/// </summary>
public sealed class AlertDigestTests : AccountTestBase
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private WebhookReceiver _both = null!;
    private WebhookReceiver _digestOnly = null!;

    public override async Task InitializeAsync()
    {
        // The test raises digests with its own clock; the host's scans (real time) would race it.
        App.Settings["TokenAdmin:Alerts:ScanInterval"] = "1.00:00:00";
        App.Settings["TokenAdmin:TokenStoreUpdater:Enabled"] = "false";
        _both = await WebhookReceiver.StartAsync();
        _digestOnly = await WebhookReceiver.StartAsync("digest-only-secret-0123456789");
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _both.DisposeAsync();
        await _digestOnly.DisposeAsync();
    }

    [Fact]
    public async Task Digest_HasTheDaysAlertsUnresolvedAndFailures_OncePerChannelAndDay_DigestOnlyGetsNothingAtOnce_OffGetsNone()
    {
        var both = await AddChannelAsync("ops both", _both, AlertDigestMode.WithAlerts, "06:00");
        var only = await AddChannelAsync("ops digest", _digestOnly, AlertDigestMode.DigestOnly, "6:00", sources: "mailbox");

        // A real dead source (the provider refuses the refresh token): unresolved when the digest is made.
        var id = await CreateConfigAsync("mailbox");
        Assert.Equal(HttpStatusCode.Redirect, (await AuthorizeAsync(id)).StatusCode);
        Idp.Faults.TokenEndpoint = TokenEndpointFault.InvalidGrant;
        await Assert.ThrowsAsync<TokenUnavailableException>(() => App.Services.GetRequiredService<ITokenProvider>().ForceRefreshAsync(TokenSource.Config(id), default));
        Assert.Equal(AlertTypes.SourceDead, Assert.Single(await _both.WaitForAsync(1, Bound)).GetProperty("type").GetString());

        // The digest's day: two days back, so every moment the test's clock names has passed for the dispatcher too.
        var day = DateTime.SpecifyKind(DateTime.UtcNow.Date.AddDays(-2), DateTimeKind.Utc);
        var outbox = App.Services.GetRequiredService<AlertOutbox>();
        await App.WithDbAsync(async db =>
        {
            outbox.Add(db, new AlertSubject("TokenConfig", 77, "flaky", "/Tokens/Details/77"), AlertTypes.SourceFailing, "failing", "Flaky failed.", day.AddHours(-12));
            outbox.Add(db, new AlertSubject("TokenConfig", 77, "flaky", "/Tokens/Details/77"), AlertTypes.SourceFailing, "failing", "Reminder: flaky failed.", day.AddHours(-8));
            outbox.Add(db, new AlertSubject("TokenConfig", 78, "too-old", "/Tokens/Details/78"), AlertTypes.SourceDead, "dead", "Before the digest's day.", day.AddHours(-19));
            var lost = AlertOutbox.New(new AlertSubject("TokenConfig", 77, "flaky", "/Tokens/Details/77"), AlertTypes.SourceFailing, "failing", "Lost.", day.AddHours(-11));
            lost.DispatchedAt = day.AddHours(-11);
            db.AlertEvents.Add(lost);
            db.AlertDeliveries.Add(new AlertDelivery
            {
                Event = lost, ChannelName = "old hook", Status = AlertDeliveryStatus.Failed, Attempts = 6, LastError = "The webhook answered 500 Internal Server Error",
                CreatedAt = day.AddHours(-11), NextAttemptAt = day.AddHours(-10), CompletedAt = day.AddHours(-10),
            });
            await db.SaveChangesAsync();
            return 0;
        });
        outbox.Wake();

        // Two nodes at 06:05 of the day: one digest per channel with a digest, not two.
        var raised = await Task.WhenAll(DigestAtAsync(day.AddHours(6).AddMinutes(5)), DigestAtAsync(day.AddHours(6).AddMinutes(5)));
        Assert.Equal(2, raised.Sum());
        Assert.Equal(0, await DigestAtAsync(day.AddHours(23).AddMinutes(59)));
        Assert.Equal(0, await DigestAtAsync(day.AddDays(1).AddHours(6).AddMinutes(-1))); // the next one is not due yet

        var digest = Assert.Single(await WaitForDigestsAsync(_both, 1));
        Assert.Equal(AlertDigest.EventId(both, day.AddHours(6)), digest.GetProperty("id").GetString());
        Assert.Equal("ops both", digest.GetProperty("source").GetProperty("name").GetString());
        Assert.Equal("attention", digest.GetProperty("state").GetString());
        Assert.Equal("http://localhost:5080/", digest.GetProperty("link").GetString());
        var content = digest.GetProperty("digest");
        Assert.Equal(day.AddHours(-18), content.GetProperty("from").GetDateTime());
        Assert.Equal(day.AddHours(6), content.GetProperty("to").GetDateTime());
        var group = Assert.Single(content.GetProperty("events").EnumerateArray()); // "too-old" was raised before the 24 hours
        Assert.Equal(AlertTypes.SourceFailing, group.GetProperty("type").GetString());
        Assert.Equal(3, group.GetProperty("count").GetInt32()); // the two and the one whose delivery failed
        var flaky = Assert.Single(group.GetProperty("sources").EnumerateArray());
        Assert.Equal("flaky", flaky.GetProperty("name").GetString());
        Assert.Equal("http://localhost:5080/Tokens/Details/77", flaky.GetProperty("link").GetString());
        AssertMailboxUnresolved(content, id);
        var failure = Assert.Single(content.GetProperty("failedDeliveries").EnumerateArray());
        Assert.Equal("old hook", failure.GetProperty("channel").GetString());
        Assert.Equal("flaky", failure.GetProperty("source").GetString());
        // The receiver's answer stays in the alert history: a receiver cannot put its text into a digest.
        Assert.Equal("not delivered after 6 attempt(s); the answer is in the alert history", failure.GetProperty("error").GetString());

        // Digest only, filtered to "mailbox": no alert at once, and only that source's alerts in the digest.
        var onlyDigest = Assert.Single(await WaitForDigestsAsync(_digestOnly, 1));
        Assert.Equal(AlertDigest.EventId(only, day.AddHours(6)), onlyDigest.GetProperty("id").GetString());
        Assert.Empty(onlyDigest.GetProperty("digest").GetProperty("events").EnumerateArray());
        AssertMailboxUnresolved(onlyDigest.GetProperty("digest"), id);
        Assert.Empty(onlyDigest.GetProperty("digest").GetProperty("failedDeliveries").EnumerateArray()); // about "flaky", not followed
        Assert.Single(_digestOnly.Accepted);
        Assert.Equal(0, await App.WithDbAsync(db => db.AlertDeliveries.CountAsync(d => d.ChannelId == only && d.Event!.Type != AlertTypes.DailyDigest)));

        Assert.Contains("daily digest only at 06:00 UTC", await Browser.GetStringAsync("/alerts/channels"), StringComparison.Ordinal);

        // Turned off on the page: the next day only the other channel gets one.
        var version = await App.WithDbAsync(db => db.AlertChannels.Where(c => c.Id == only).Select(c => c.Version).SingleAsync());
        var edit = await Browser.PostFormAsync($"/alerts/channel/{only}", new()
        {
            ["Version"] = version,
            ["Input.Name"] = "ops digest",
            ["Input.Kind"] = "Webhook",
            ["Input.Target"] = _digestOnly.Url,
            ["Input.Sources"] = "mailbox",
            ["Input.DigestMode"] = nameof(AlertDigestMode.Off),
            ["Input.DigestAt"] = "06:00",
            ["Input.Enabled"] = "true",
        }, formPage: $"/alerts/channel/{only}");
        Assert.True(edit.StatusCode == HttpStatusCode.Redirect, WebUtility.HtmlDecode(await edit.Content.ReadAsStringAsync()));
        Assert.Equal(1, await DigestAtAsync(day.AddDays(1).AddHours(6)));
        var next = await WaitForDigestsAsync(_both, 2);
        Assert.Equal(AlertDigest.EventId(both, day.AddDays(1).AddHours(6)), next[1].GetProperty("id").GetString());
        Assert.Empty(next[1].GetProperty("digest").GetProperty("events").EnumerateArray());
        Assert.Equal(3, await DigestCountAsync());
        Assert.Single(_digestOnly.Accepted);
        Assert.Equal(0, _both.Duplicates + _digestOnly.Duplicates);
        Assert.Equal(0, _both.BadSignatures + _digestOnly.BadSignatures);

        var history = WebUtility.HtmlDecode(await Browser.GetStringAsync("/alerts/history"));
        Assert.Contains("Daily digest", history, StringComparison.Ordinal);
        Assert.Contains("3 alert(s), 1 unresolved now, 1 failed delivery.", history, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QuietDay_GetsAnAllGoodDigest()
    {
        var both = await AddChannelAsync("ops both", _both, AlertDigestMode.WithAlerts, "23:30");
        var day = DateTime.SpecifyKind(DateTime.UtcNow.Date.AddDays(-2), DateTimeKind.Utc);

        Assert.Equal(1, await DigestAtAsync(day.AddHours(23).AddMinutes(45)));

        var digest = Assert.Single(await WaitForDigestsAsync(_both, 1));
        Assert.Equal(AlertDigest.EventId(both, day.AddHours(23.5)), digest.GetProperty("id").GetString());
        Assert.Equal("ok", digest.GetProperty("state").GetString());
        Assert.True(digest.GetProperty("digest").GetProperty("quiet").GetBoolean());
        Assert.StartsWith("All good: no alerts between", digest.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DigestTimeChanged_TheNextDigestStartsWhereTheLastEnded_NoHourLeftOutOrRepeated()
    {
        var both = await AddChannelAsync("ops both", _both, AlertDigestMode.WithAlerts, "06:00");
        var day = DateTime.SpecifyKind(DateTime.UtcNow.Date.AddDays(-2), DateTimeKind.Utc);
        Assert.Equal(1, await DigestAtAsync(day.AddHours(6).AddMinutes(5)));

        // Moved to 20:00 the same day: the evening's digest covers 06:00 to 20:00 (it used to be left out: the day's id was taken).
        await SetDigestAtAsync(both, new TimeOnly(20, 0));
        Assert.Equal(1, await DigestAtAsync(day.AddHours(20).AddMinutes(5)));
        var evening = (await WaitForDigestsAsync(_both, 2))[1].GetProperty("digest");
        Assert.Equal(day.AddHours(6), evening.GetProperty("from").GetDateTime());
        Assert.Equal(day.AddHours(20), evening.GetProperty("to").GetDateTime());

        // Moved back to 05:00 after that: nothing more that day; the next day's starts at 20:00 (no hour twice).
        await SetDigestAtAsync(both, new TimeOnly(5, 0));
        Assert.Equal(0, await DigestAtAsync(day.AddHours(21)));
        Assert.Equal(1, await DigestAtAsync(day.AddDays(1).AddHours(5).AddMinutes(1)));
        var next = (await WaitForDigestsAsync(_both, 3))[2].GetProperty("digest");
        Assert.Equal(day.AddHours(20), next.GetProperty("from").GetDateTime());
        Assert.Equal(day.AddDays(1).AddHours(5), next.GetProperty("to").GetDateTime());
    }

    private Task<int> SetDigestAtAsync(int channelId, TimeOnly at) => App.WithDbAsync(async db =>
    {
        var channel = await db.AlertChannels.SingleAsync(c => c.Id == channelId);
        channel.DigestAt = at;
        await db.SaveChangesAsync();
        return 0;
    });

    [Fact]
    public async Task ChannelPage_InvalidDigestTime_ShowsAClearMessageWithTheLabel_AndChangesNothing()
    {
        var id = await AddChannelAsync("ops both", _both, AlertDigestMode.Off, "08:00");
        var before = await App.WithDbAsync(db => db.AlertChannels.AsNoTracking().SingleAsync(c => c.Id == id));

        var response = await Browser.PostFormAsync($"/alerts/channel/{id}", new()
        {
            ["Version"] = before.Version,
            ["Input.Name"] = "ops both",
            ["Input.Kind"] = "Webhook",
            ["Input.Target"] = _both.Url,
            ["Input.DigestMode"] = nameof(AlertDigestMode.DigestOnly),
            ["Input.DigestAt"] = "25:70",
            ["Input.Enabled"] = "true",
        }, formPage: $"/alerts/channel/{id}");

        var page = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Digest time (UTC): '25:70' is not a time of day. Enter it as HH:MM, 24-hour, in UTC", page, StringComparison.Ordinal);
        Assert.Contains("value=\"25:70\"", page, StringComparison.Ordinal); // the input is kept
        var after = await App.WithDbAsync(db => db.AlertChannels.AsNoTracking().SingleAsync(c => c.Id == id));
        Assert.Equal(AlertDigestMode.Off, after.DigestMode);
        Assert.Equal(new TimeOnly(8, 0), after.DigestAt);
        Assert.Equal(before.Version, after.Version);

        // A new channel with a bad time is not saved either.
        var created = await Browser.PostFormAsync("/alerts/channel", new()
        {
            ["Input.Name"] = "second",
            ["Input.Kind"] = "Webhook",
            ["Input.Target"] = _both.Url,
            ["Input.Secret"] = _both.Secret,
            ["Input.DigestMode"] = nameof(AlertDigestMode.WithAlerts),
            ["Input.DigestAt"] = "noon",
        }, formPage: "/alerts/channel");
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        Assert.Contains("'noon' is not a time of day", WebUtility.HtmlDecode(await created.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        Assert.Equal(1, await App.WithDbAsync(db => db.AlertChannels.CountAsync()));
    }

    private static void AssertMailboxUnresolved(JsonElement content, int id)
    {
        var mailbox = Assert.Single(content.GetProperty("unresolved").EnumerateArray());
        Assert.Equal("mailbox", mailbox.GetProperty("name").GetString());
        Assert.Equal("dead", mailbox.GetProperty("state").GetString());
        Assert.Equal($"http://localhost:5080/Tokens/Details/{id}", mailbox.GetProperty("link").GetString());
        Assert.Contains("needs a new authorization", mailbox.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    /// <summary>Waits (bounded) until the receiver has accepted <paramref name="count"/> digests; returns them in order.</summary>
    private static async Task<List<JsonElement>> WaitForDigestsAsync(WebhookReceiver receiver, int count)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var digests = receiver.Accepted.Where(a => a.GetProperty("type").GetString() == AlertTypes.DailyDigest).ToList();
            if (digests.Count >= count)
            {
                return digests;
            }

            Assert.True(watch.Elapsed < Bound, $"{digests.Count} of {count} digest(s) after {Bound.TotalSeconds} s; attempts: {string.Join(" | ", receiver.Attempts)}");
            await Task.Delay(100);
        }
    }

    /// <summary>Adds a webhook channel with a digest through its page, as an admin does.</summary>
    private async Task<int> AddChannelAsync(string name, WebhookReceiver receiver, AlertDigestMode mode, string at, string sources = "")
    {
        var response = await Browser.PostFormAsync("/alerts/channel", new()
        {
            ["Input.Name"] = name,
            ["Input.Kind"] = "Webhook",
            ["Input.Target"] = receiver.Url,
            ["Input.Secret"] = receiver.Secret,
            ["Input.Sources"] = sources,
            ["Input.DigestMode"] = mode.ToString(),
            ["Input.DigestAt"] = at,
            ["Input.Enabled"] = "true",
        }, formPage: "/alerts/channel");
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()));
        return await App.WithDbAsync(db => db.AlertChannels.Where(c => c.Name == name).Select(c => c.Id).SingleAsync());
    }

    /// <summary>One digest round, as the dispatcher of one node runs it, at <paramref name="now"/>.</summary>
    private async Task<int> DigestAtAsync(DateTime now)
    {
        using var scope = App.Services.CreateScope();
        var services = scope.ServiceProvider;
        var digest = new AlertDigest(services.GetRequiredService<TokenAdminDb>(), services.GetRequiredService<AlertOutbox>(), services.GetRequiredService<TokenSourceKinds>(),
            services.GetRequiredService<DatabaseWriteGate>(), new FixedClock(now), NullLogger<AlertDigest>.Instance);
        return await digest.RaiseDueAsync(default);
    }

    private Task<int> DigestCountAsync() => App.WithDbAsync(db => db.AlertEvents.CountAsync(e => e.Type == AlertTypes.DailyDigest));
}
