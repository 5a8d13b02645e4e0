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
}
