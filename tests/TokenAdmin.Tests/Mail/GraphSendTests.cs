using System.Net;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using TokenAdmin.Mail;
using TokenAdmin.Settings;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Mail;

public sealed class GraphSendTests : GraphMailTestBase
{
    private async Task UseGraphTransportAsync(int configId)
    {
        var result = await App.Services.GetRequiredService<SettingsStore>().UpdateAsync(new Dictionary<string, string?>
        {
            [MailSettings.SmtpTransport] = "graph",
            [MailSettings.SmtpGraphMailbox] = Address,
            [MailSettings.SmtpGraphCloud] = "Custom",
            [MailSettings.SmtpGraphEndpoint] = Graph.BaseUrl,
            [MailSettings.SmtpTokenSource] = TokenSource.Config(configId).Key,
            [MailSettings.SmtpFrom] = "TokenAdmin <" + Address + ">",
        }, "test", default);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Values));
    }

    [Fact]
    public async Task SendTestMail_GoesThroughGraphSendMail_AsBase64Mime()
    {
        await UseGraphTransportAsync(ConfigId);

        var response = await Browser.PostFormAsync("/mailaccounts/smtp?handler=SendTest", new() { ["TestRecipient"] = "someone@example.test" }, formPage: "/mailaccounts/smtp");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("Test mail sent to someone@example.test.", await Browser.GetStringAsync(response.Headers.Location), StringComparison.Ordinal);
        var (mailbox, mime) = Assert.Single(Graph.Sent);
        Assert.Equal(Address, mailbox);
        var sent = await MimeMessage.LoadAsync(new MemoryStream(mime));
        Assert.Equal("TokenAdmin test mail", sent.Subject);
        Assert.Equal("someone@example.test", sent.To.Mailboxes.Single().Address);
        Assert.Equal(Address, sent.From.Mailboxes.Single().Address);
        Assert.Single(Mailbox.MessageIds("sentitems"));
    }

    [Fact]
    public async Task Send_ExplainsTheMissingMailSendPermission()
    {
        await Idp.AddClientAsync(new TestIdentityProvider.TestClient("no-send-app", ClientSecret, [])
        {
            AllowedGrantTypes = ["client_credentials"],
            AllowedScopes = [GraphMailServer.GraphResource + "/.default"],
            ClientCredentialsClaims = new Dictionary<string, string[]> { ["roles"] = ["Mail.ReadWrite"] },
        });
        var config = await CreateConfigAsync("no-send-app", TokenAdmin.Tokens.TokenFlows.ClientCredentials, d =>
        {
            d.ClientId = "no-send-app";
            d.Scope = GraphMailServer.GraphResource + "/.default";
        });
        await UseGraphTransportAsync(config);
        var message = new MimeMessage { Subject = "alert" };
        message.To.Add(MailboxAddress.Parse("someone@example.test"));
        message.Body = new TextPart("plain") { Text = "x" };

        using var scope = App.Services.CreateScope();
        var error = await Assert.ThrowsAsync<MailConnectionException>(() => scope.ServiceProvider.GetRequiredService<IMailSender>().SendAsync(message, default));

        Assert.Contains("The app lacks the application permission Mail.Send", error.Message, StringComparison.Ordinal);
        Assert.Empty(Graph.Sent);
    }

    [Fact]
    public async Task AlertMail_GoesThroughGraphSendMail_WhenTheGraphTransportIsChosen()
    {
        await UseGraphTransportAsync(ConfigId);
        var channel = new TokenAdmin.Alerts.AlertChannel { Name = "ops", Kind = TokenAdmin.Alerts.AlertChannelKind.Email, Target = "ops@example.test, oncall@example.test" };
        var alert = new TokenAdmin.Alerts.AlertEvent
        {
            EventId = "evt-graph-1", Type = TokenAdmin.Alerts.AlertTypes.SourceFailing, SourceKind = "config", SourceId = ConfigId, SourceName = "graph-app",
            State = "failing", Message = "The token endpoint refused the refresh token.", Link = $"/tokens/details/{ConfigId}", CreatedAt = DateTime.UtcNow,
        };

        using var scope = App.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<TokenAdmin.Alerts.Channels.AlertSender>()
            .SendAsync(channel, alert, "https://tokenadmin.example.test", TimeSpan.FromSeconds(20), default);

        Assert.True(result.Sent, result.Error);
        var (mailbox, mime) = Assert.Single(Graph.Sent);
        Assert.Equal(Address, mailbox);
        var sent = await MimeMessage.LoadAsync(new MemoryStream(mime));
        Assert.Equal("[TokenAdmin] " + TokenAdmin.Alerts.AlertTypes.Describe(alert.Type) + ": graph-app", sent.Subject);
        Assert.Equal(["ops@example.test", "oncall@example.test"], sent.To.Mailboxes.Select(m => m.Address));
        Assert.Equal("evt-graph-1", sent.Headers["X-TokenAdmin-Event"]);
        Assert.Contains("The token endpoint refused the refresh token.", sent.TextBody, StringComparison.Ordinal);
        Assert.Single(Mailbox.MessageIds("sentitems"));
        Assert.Contains(Graph.Requests, r => r == "POST /v1.0/users/support@contoso.test/sendMail");
    }

    [Fact]
    public async Task Send_WaitsAsRetryAfterSays_WhenGraphThrottlesSendMail_AndSendsOnce()
    {
        await UseGraphTransportAsync(ConfigId);
        Graph.FailNext(1, 429, retryAfter: "2", pathContains: "/sendMail");
        var message = new MimeMessage { Subject = "throttled" };
        message.To.Add(MailboxAddress.Parse("someone@example.test"));
        message.Body = new TextPart("plain") { Text = "x" };
        var started = DateTime.UtcNow;

        using var scope = App.Services.CreateScope();
        await scope.ServiceProvider.GetRequiredService<IMailSender>().SendAsync(message, default);

        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromSeconds(1.9), "The Retry-After of the 429 was kept.");
        Assert.Equal(2, Graph.Requests.Count(r => r.EndsWith("/sendMail", StringComparison.Ordinal)));
        Assert.Single(Graph.Sent);
        Assert.All(Graph.PreferHeaders, p => Assert.Contains("IdType=\"ImmutableId\"", p, StringComparison.Ordinal));
    }
}
