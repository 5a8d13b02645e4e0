using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using TokenAdmin.Alerts;
using TokenAdmin.Alerts.Channels;
using TokenAdmin.Data;
using TokenAdmin.IntegrationTests.Mail;
using TokenAdmin.Mail;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.IntegrationTests.Alerts;

/// <summary>
/// A daily digest by mail, for real: an email channel that takes the digest only gets no mail when a source dies, then
/// one digest mail through TokenAdmin's SMTP sending (Dovecot's submission service, OAuth2, relayed to the sink) that
/// names the dead source with the link that fixes it; a second round the same day sends nothing.
/// </summary>
public sealed class AlertDigestMailTests : MailTestBase
{
    public override async Task InitializeAsync()
    {
        // The test raises the digest with its own clock; the host's scans (real time) would race it.
        App.Settings["TokenAdmin:Alerts:ScanInterval"] = "1.00:00:00";
        await base.InitializeAsync();
    }

    [Fact]
    public async Task DigestOnlyEmailChannel_GetsNoAlertAtOnce_ThenOneDigestMailWithTheUnresolvedSourceAndItsLink()
    {
        var page = await Browser.PostFormAsync("/mailaccounts/smtp", new()
        {
            [$"Values[{MailSettings.SmtpHost}]"] = "127.0.0.1",
            [$"Values[{MailSettings.SmtpPort}]"] = Dovecot.SubmissionPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [$"Values[{MailSettings.SmtpSecurity}]"] = "none",
            [$"Values[{MailSettings.SmtpAuthentication}]"] = "oauth2",
            [$"Values[{MailSettings.SmtpUserName}]"] = User,
            [$"Values[{MailSettings.SmtpPassword}]"] = "",
            [$"Values[{MailSettings.SmtpTokenSource}]"] = $"TokenConfig:{ConfigId}",
            [$"Values[{MailSettings.SmtpMechanism}]"] = "XOAUTH2",
            [$"Values[{MailSettings.SmtpFrom}]"] = "tokenadmin@example.test",
        });
        Assert.Equal(System.Net.HttpStatusCode.Redirect, page.StatusCode);
        int channelId;
        using (var scope = App.Services.CreateScope())
        {
            var created = await scope.ServiceProvider.GetRequiredService<AlertChannelService>().CreateAsync(
                new AlertChannelInput { Name = "ops digest", Kind = AlertChannelKind.Email, Target = "ops@example.test", DigestMode = AlertDigestMode.DigestOnly, DigestAt = "07:15" }, "test", default);
            Assert.True(created.Succeeded, string.Join("; ", created.Errors.Values));
            channelId = created.Channel!.Id;
        }

        var watched = await CreateConfigAsync("watched", TokenFlows.Password, password: "alice-password-1");
        await App.Services.GetRequiredService<ITokenProvider>().GetTokenAsync(TokenSource.Config(ConfigId), default);
        Idp.Faults.FailNextTokenRequests(TokenEndpointFault.InvalidGrant, 1);
        using (var scope = App.Services.CreateScope())
        {
            Assert.False((await scope.ServiceProvider.GetRequiredService<TokenEngine>().RenewAsync(TokenSource.Config(watched), "test", default)).Succeeded);
        }

        // The dead alert was handed out to no channel: this one takes the digest only.
        await WaitAsync(() => App.WithDbAsync(db => db.AlertEvents.AnyAsync(e => e.Type == AlertTypes.SourceDead && e.DispatchedAt != null)));
        Assert.Equal(0, await App.WithDbAsync(db => db.AlertDeliveries.CountAsync()));

        var day = DateTime.SpecifyKind(DateTime.UtcNow.Date.AddDays(-1), DateTimeKind.Utc);
        Assert.Equal(1, await DigestAtAsync(day.AddHours(7.5)));
        Assert.Equal(0, await DigestAtAsync(day.AddHours(9)));

        await Relay.WaitForAsync(1, TimeSpan.FromSeconds(30));
        var (recipients, data) = Assert.Single(Relay.Received);
        Assert.Equal(["<ops@example.test>"], recipients);
        Assert.Contains($"Subject: [TokenAdmin] Daily digest {day:yyyy-MM-dd}: 0 alert(s), 1 unresolved", data, StringComparison.Ordinal);
        Assert.Contains("Unresolved now:", data, StringComparison.Ordinal);
        Assert.Contains("- watched (TokenConfig): dead", data, StringComparison.Ordinal);
        Assert.Contains($"Fix it here: http://localhost:5080/Tokens/Details/{watched}", data, StringComparison.Ordinal);
        Assert.Contains($"X-TokenAdmin-Event: {AlertDigest.EventId(channelId, day.AddHours(7.25))}", data, StringComparison.Ordinal);
        // The relay holds the mail as soon as the SMTP server accepted it; the dispatcher records the outcome just
        // after, so the test waits (bounded) for that record instead of reading it at once.
        await WaitAsync(() => App.WithDbAsync(db => db.AlertDeliveries.AnyAsync(d => d.Status != AlertDeliveryStatus.Pending)));
        var delivery = await App.WithDbAsync(db => db.AlertDeliveries.AsNoTracking().SingleAsync());
        Assert.Equal(AlertDeliveryStatus.Sent, delivery.Status);
    }

    private async Task<int> DigestAtAsync(DateTime now)
    {
        using var scope = App.Services.CreateScope();
        var services = scope.ServiceProvider;
        var digest = new AlertDigest(services.GetRequiredService<TokenAdminDb>(), services.GetRequiredService<AlertOutbox>(), services.GetRequiredService<TokenSourceKinds>(),
            services.GetRequiredService<DatabaseWriteGate>(), new FixedClock(now), NullLogger<AlertDigest>.Instance);
        return await digest.RaiseDueAsync(default);
    }

    private sealed class FixedClock(DateTime now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => new(DateTime.SpecifyKind(now, DateTimeKind.Utc));
    }

    private static async Task WaitAsync(Func<Task<bool>> done)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!await done())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), "waited 20 s");
            await Task.Delay(100);
        }
    }
}
