using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Alerts;
using TokenAdmin.Alerts.Channels;
using TokenAdmin.IntegrationTests.Mail;
using TokenAdmin.Mail;
using TokenAdmin.Settings;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.IntegrationTests.Alerts;

/// <summary>
/// An alert by mail, for real: a token config's provider refuses it (the test identity provider), the alert goes out
/// through TokenAdmin's SMTP sending to Dovecot's submission service, which checks the sender's own OAuth2 token with
/// the provider and relays the message to the sink.
/// </summary>
public sealed class AlertMailTests : MailTestBase
{
    [Fact]
    public async Task RefusedTokenConfig_AlertMail_IsDeliveredThroughSmtpWithTheLinkThatFixesIt()
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
        using (var scope = App.Services.CreateScope())
        {
            var created = await scope.ServiceProvider.GetRequiredService<AlertChannelService>().CreateAsync(
                new AlertChannelInput { Name = "ops mail", Kind = AlertChannelKind.Email, Target = "ops@example.test, oncall@example.test", Sources = "watched" }, "test", default);
            Assert.True(created.Succeeded, string.Join("; ", created.Errors.Values));
        }

        var watched = await CreateConfigAsync("watched", TokenFlows.Password, password: "alice-password-1");
        // The sender's own token is had before the provider turns on the watched config (both are at the same provider).
        await App.Services.GetRequiredService<ITokenProvider>().GetTokenAsync(TokenSource.Config(ConfigId), default);

        Idp.Faults.FailNextTokenRequests(TokenEndpointFault.InvalidGrant, 1);
        using (var scope = App.Services.CreateScope())
        {
            var result = await scope.ServiceProvider.GetRequiredService<TokenEngine>().RenewAsync(TokenSource.Config(watched), "test", default);
            Assert.False(result.Succeeded);
        }

        await Relay.WaitForAsync(1, TimeSpan.FromSeconds(30));
        var (recipients, data) = Assert.Single(Relay.Received);
        Assert.Equal(["<ops@example.test>", "<oncall@example.test>"], recipients);
        Assert.Contains("Subject: [TokenAdmin]", data, StringComparison.Ordinal);
        Assert.Contains("watched", data, StringComparison.Ordinal);
        Assert.Contains($"Fix it here: http://localhost:5080/Tokens/Details/{watched}", data, StringComparison.Ordinal);
        Assert.Contains("invalid_grant", data, StringComparison.Ordinal);
        Assert.Contains("X-TokenAdmin-Event:", data, StringComparison.Ordinal);
        Assert.Contains($"Login: user=<{User}>, method=XOAUTH2", Dovecot.Log, StringComparison.Ordinal);
    }
}
