using System.Net;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.IntegrationTests.Infrastructure;
using TokenAdmin.Mail;
using TokenAdmin.Settings;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.IntegrationTests.Mail;

/// <summary>The mail screens, driven like a browser, against the real Dovecot.</summary>
public sealed class MailPageTests : MailTestBase
{
    private Dictionary<string, string> Form(int port, string type = "Imap", string authentication = "OAuth2", string? password = null) => new()
    {
        ["Input.Login"] = User,
        ["Input.Host"] = "127.0.0.1",
        ["Input.Type"] = type,
        ["Input.Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Input.Authentication"] = authentication,
        ["Input.TokenSource"] = $"TokenConfig:{ConfigId}",
        ["Input.SaslMechanism"] = "Automatic",
        ["Input.ImapFolder"] = "INBOX",
        ["Input.KeepOnServer"] = "false",
        ["Input.FetchIntervalMinutes"] = "5",
        ["Input.MaxMessagesPerRun"] = "100",
        ["Input.MaxMessageSizeKb"] = "1024",
        ["Input.Valid"] = "true",
        ["Input.Password"] = password ?? "",
    };

    private static string Flash(string page) =>
        System.Net.WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Match(page, "class=\"flash[^\"]*\"[^>]*>([^<]*)<").Groups[1].Value);

    [Fact]
    public async Task Add_TestConnection_FetchNow_ShowsCountAndFetchedMail()
    {
        await Dovecot.SeedAsync(User, [DovecotServer.NewMessage("Printer on fire", "Please send help.")]);

        var added = await Browser.PostFormAsync("/mailaccounts/add", Form(Dovecot.ImapPort));
        Assert.Equal(HttpStatusCode.Redirect, added.StatusCode);
        var edit = added.Headers.Location!.OriginalString;
        var id = int.Parse(edit[(edit.LastIndexOf('/') + 1)..], System.Globalization.CultureInfo.InvariantCulture);

        await Browser.PostFormAsync($"/mailaccounts/edit/{id}?handler=Test", [], formPage: edit);
        Assert.Contains("logged in as alice: 1 message(s) in INBOX", await Browser.GetStringAsync(edit), StringComparison.Ordinal);

        await Browser.PostFormAsync($"/mailaccounts/edit/{id}?handler=Fetch", [], formPage: edit);
        Assert.Contains("1 new message(s) stored.", await Browser.GetStringAsync(edit), StringComparison.Ordinal);

        var overview = await Browser.GetStringAsync("/mailaccounts");
        Assert.Contains("UTC, 1 new", overview, StringComparison.Ordinal);
        var list = await Browser.GetStringAsync($"/mailaccounts/messages/{id}");
        Assert.Contains("Printer on fire", list, StringComparison.Ordinal);
        var messageId = (await StoredAsync(id)).Single().Id;
        var message = await Browser.GetStringAsync($"/mailaccounts/message/{messageId}");
        Assert.Contains("<dt>From</dt>", message, StringComparison.Ordinal);
        Assert.Contains("Please send help.", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TestConnection_ShowsTheServersOwnError()
    {
        var added = await Browser.PostFormAsync("/mailaccounts/add", Form(Dovecot.Pop3Port, "Pop3", "Password", "wrong-password"));
        var edit = added.Headers.Location!.OriginalString;
        var id = edit[(edit.LastIndexOf('/') + 1)..];

        await Browser.PostFormAsync($"/mailaccounts/edit/{id}?handler=Test", [], formPage: edit);

        var page = await Browser.GetStringAsync(edit);
        Assert.Equal("Test connection failed: 127.0.0.1 refused the login: Authentication failed.", Flash(page));
        // The password is write-only: never rendered back into the form.
        Assert.DoesNotContain("wrong-password", page, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password", await DatabaseFiles.RawTextAsync(App.DataDirectory), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Add_BadInput_ShowsMessagesAndSavesNothing()
    {
        var form = Form(70000);
        form["Input.Host"] = "not a host";
        form["Input.TokenSource"] = "";
        form["Input.MaxMessagesPerRun"] = "many";

        var response = await Browser.PostFormAsync("/mailaccounts/add", form);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains("Host must be a host name", page, StringComparison.Ordinal);
        Assert.Contains("Port must be a number from 1 to 65535", page, StringComparison.Ordinal);
        Assert.Contains("Messages per run (at most): &#x27;many&#x27; is not a valid value.", page, StringComparison.Ordinal);
        Assert.Equal(0, await App.WithDbAsync(db => db.MailAccounts.CountAsync()));
    }

    [Fact]
    public async Task Edit_WithAnOldVersion_IsAConflictNotALostUpdate()
    {
        var id = await CreateAccountAsync(MailAccountType.Imap);
        var stale = await Browser.GetStringAsync($"/mailaccounts/edit/{id}");
        var form = Form(Dovecot.ImapPort);
        form["Input.Comment"] = "first";
        form["Version"] = System.Text.RegularExpressions.Regex.Match(stale, "name=\"Version\" value=\"([0-9a-f]+)\"").Groups[1].Value;
        Assert.Equal(HttpStatusCode.Redirect, (await Browser.PostFormAsync($"/mailaccounts/edit/{id}", form)).StatusCode);

        form["Input.Comment"] = "second";
        var content = new Dictionary<string, string>(form) { ["__RequestVerificationToken"] = HttpClientForms.AntiforgeryToken(stale) };
        var response = await Browser.PostAsync($"/mailaccounts/edit/{id}", new FormUrlEncodedContent(content));

        Assert.Contains("while you were editing", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("first", (await AccountAsync(id)).Comment);
    }

    [Fact]
    public async Task TokenConfig_UsedByAMailAccountOrTheSmtpSettings_CannotBeDeleted()
    {
        var id = await CreateAccountAsync(MailAccountType.Imap);
        var refused = await Browser.PostFormAsync($"/tokens/delete/{ConfigId}", []);
        Assert.Contains("mail account alice at 127.0.0.1", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await Browser.PostFormAsync($"/mailaccounts/delete/{id}", []);
        await SetSettingAsync(MailSettings.SmtpAuthentication, "oauth2");
        await SetSettingAsync(MailSettings.SmtpTokenSource, $"TokenConfig:{ConfigId}");
        refused = await Browser.PostFormAsync($"/tokens/delete/{ConfigId}", []);
        Assert.Contains("the SMTP settings", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delete_RemovesTheAccountItsIndexAndItsSpool()
    {
        await Dovecot.SeedAsync(User, [DovecotServer.NewMessage("gone")]);
        var id = await CreateAccountAsync(MailAccountType.Imap);
        await FetchAsync(id);

        var response = await Browser.PostFormAsync($"/mailaccounts/delete/{id}", []);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Empty(await StoredAsync(id));
        Assert.False(Directory.Exists(Path.Combine(App.DataDirectory, "mail", id.ToString(System.Globalization.CultureInfo.InvariantCulture))));
    }
}
