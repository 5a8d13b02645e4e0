using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Mail;
using TokenAdmin.Settings;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.IntegrationTests.Mail;

/// <summary>SMTP sending through Dovecot's submission service, which checks the token with the identity provider.</summary>
public sealed class SmtpTests : MailTestBase
{
    private async Task ConfigureSmtpAsync(string mechanism, string security = "none")
    {
        var page = await Browser.PostFormAsync("/mailaccounts/smtp", new()
        {
            [$"Values[{MailSettings.SmtpHost}]"] = "127.0.0.1",
            [$"Values[{MailSettings.SmtpPort}]"] = Dovecot.SubmissionPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [$"Values[{MailSettings.SmtpSecurity}]"] = security,
            [$"Values[{MailSettings.SmtpAuthentication}]"] = "oauth2",
            [$"Values[{MailSettings.SmtpUserName}]"] = User,
            [$"Values[{MailSettings.SmtpPassword}]"] = "",
            [$"Values[{MailSettings.SmtpTokenSource}]"] = $"TokenConfig:{ConfigId}",
            [$"Values[{MailSettings.SmtpMechanism}]"] = mechanism,
            [$"Values[{MailSettings.SmtpFrom}]"] = "tokenadmin@example.test",
        });
        Assert.Equal(System.Net.HttpStatusCode.Redirect, page.StatusCode);
    }

    [Theory]
    [InlineData("XOAUTH2", "none")]
    [InlineData("OAUTHBEARER", "starttls")]
    public async Task SendTestMail_DeliversAMessageTheServerAcceptedAfterCheckingTheToken(string mechanism, string security)
    {
        await ConfigureSmtpAsync(mechanism, security);

        await Browser.PostFormAsync("/mailaccounts/smtp?handler=SendTest", new() { ["TestRecipient"] = "bob@example.test" }, formPage: "/mailaccounts/smtp");

        Assert.Contains("Test mail sent to bob@example.test.", await Browser.GetStringAsync("/mailaccounts/smtp"), StringComparison.Ordinal);
        await Relay.WaitForAsync(1, TimeSpan.FromSeconds(10));
        var (recipients, data) = Assert.Single(Relay.Received);
        Assert.Equal(["<bob@example.test>"], recipients);
        Assert.Contains("Subject: TokenAdmin test mail", data, StringComparison.Ordinal);
        Assert.Contains($"Login: user=<alice>, method={mechanism}", Dovecot.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_RefusedToken_IsRefreshedOnce_ThenAClearErrorWhenNoneCanBeHad()
    {
        await ConfigureSmtpAsync("XOAUTH2");
        await RevokeCachedAccessTokenAsync();
        var sender = App.Services.CreateScope().ServiceProvider.GetRequiredService<IMailSender>();

        await sender.SendAsync(NewMail(), default);
        await Relay.WaitForAsync(1, TimeSpan.FromSeconds(10));

        await RevokeCachedAccessTokenAsync();
        Idp.Faults.TokenEndpoint = TokenEndpointFault.InvalidGrant;
        var error = await Assert.ThrowsAsync<MailConnectionException>(() => sender.SendAsync(NewMail(), default));
        Assert.StartsWith("No token from mailbox", error.Message, StringComparison.Ordinal);
        Assert.Single(Relay.Received);
    }

    [Fact]
    public async Task SmtpPage_BadInput_ShowsMessagesAndSavesNothing()
    {
        var response = await Browser.PostFormAsync("/mailaccounts/smtp", new()
        {
            [$"Values[{MailSettings.SmtpHost}]"] = "bad host",
            [$"Values[{MailSettings.SmtpPort}]"] = "0",
            [$"Values[{MailSettings.SmtpFrom}]"] = "not-an-address@",
        });

        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains("Nothing was saved", page, StringComparison.Ordinal);
        Assert.Contains("Port must be a number from 1 to 65535.", page, StringComparison.Ordinal);
        Assert.Equal("", (await App.Services.GetRequiredService<SettingsStore>().GetAsync()).Get(MailSettings.SmtpHost));
    }

    [Fact]
    public async Task SmtpPage_IncompleteOAuth2Settings_AreRefusedAsAWhole()
    {
        var response = await Browser.PostFormAsync("/mailaccounts/smtp", new()
        {
            [$"Values[{MailSettings.SmtpHost}]"] = "smtp.example.test",
            [$"Values[{MailSettings.SmtpPort}]"] = "587",
            [$"Values[{MailSettings.SmtpSecurity}]"] = "starttls",
            [$"Values[{MailSettings.SmtpAuthentication}]"] = "oauth2",
            [$"Values[{MailSettings.SmtpMechanism}]"] = "XOAUTH2",
        });

        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains("OAuth2 authentication needs the token config that gives the token.", page, StringComparison.Ordinal);
        Assert.Contains("User name: password and OAuth2 authentication need the user name.", page, StringComparison.Ordinal);
        Assert.Contains("From address: enter the From address of the mail TokenAdmin sends.", page, StringComparison.Ordinal);
        Assert.Equal("", (await App.Services.GetRequiredService<SettingsStore>().GetAsync()).Get(MailSettings.SmtpHost));
    }

    private static MimeKit.MimeMessage NewMail()
    {
        var message = new MimeKit.MimeMessage { Subject = "From the service" };
        message.To.Add(MimeKit.MailboxAddress.Parse("carol@example.test"));
        message.Body = new MimeKit.TextPart("plain") { Text = "Sent by other code through IMailSender." };
        return message;
    }
}
