using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.Tests.Pages;

/// <summary>
/// The form convention (docs/forms.md) on the forms built with it: a form submitted empty, or with every field wrong,
/// shows every error at once in a focused summary that links to the fields, marks each field invalid and ties it to
/// its message, keeps what was typed (secrets excepted) and saves nothing.
/// </summary>
public sealed partial class FormConventionTests : IAsyncLifetime
{
    private readonly TokenAdminFactory _app = new();
    private HttpClient _browser = null!;

    public async Task InitializeAsync() => _browser = await _app.SignedInBrowserAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task WebServiceAdd_SubmittedEmpty_ShowsTheRequiredFields_InOneFocusedSummary()
    {
        var html = await PostAsync("/webservices/add", new()
        {
            ["Input.Name"] = "", ["Input.BaseUrl"] = "", ["Input.Authentication"] = "None", ["Input.TokenSource"] = "",
            ["Input.TokenType"] = "access_token", ["Input.BasicUserName"] = "", ["Input.BasicPassword"] = "",
            ["Input.Headers"] = "", ["Input.SecretHeaders"] = "", ["Input.Comment"] = "",
        });

        var summary = Summary(html);
        Assert.Contains("autofocus", summary, StringComparison.Ordinal);
        AssertInSummary("<a href=\"#Input_Name\">Name is required.</a>", summary);
        AssertInSummary("<a href=\"#Input_BaseUrl\">Base URL is required.</a>", summary);
        AssertInvalidAndDescribed(html, "Input_Name");
        AssertInvalidAndDescribed(html, "Input_BaseUrl");
        Assert.Contains("aria-required=\"true\"", html, StringComparison.Ordinal);
        Assert.False(await _app.WithDbAsync(db => db.WebServices.AnyAsync()));
    }

    [Fact]
    public async Task WebServiceAdd_EveryFieldWrong_ShowsAllErrorsAtOnce_AndKeepsTheInput_ButNoSecret()
    {
        var comment = new string('c', 251);
        var html = await PostAsync("/webservices/add", new()
        {
            ["Input.Name"] = "bad name!", ["Input.BaseUrl"] = "ftp://x", ["Input.Authentication"] = "Basic",
            ["Input.BasicUserName"] = "a:b", ["Input.BasicPassword"] = "", ["Input.TokenType"] = "refresh_token",
            ["Input.Headers"] = "no colon here", ["Input.SecretHeaders"] = "Authorization: Bearer typed-secret-4711", ["Input.Comment"] = comment,
        });

        var summary = Summary(html);
        foreach (var field in new[] { "Name", "BaseUrl", "BasicUserName", "BasicPassword", "TokenType", "Headers", "Comment" })
        {
            Assert.Contains($"href=\"#Input_{field}\"", summary, StringComparison.Ordinal);
            AssertInvalidAndDescribed(html, "Input_" + field);
        }

        Assert.Contains("value=\"bad name!\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"ftp://x\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"a:b\"", html, StringComparison.Ordinal);
        Assert.Matches(">\\s*no colon here</textarea>", html);
        Assert.Contains($"value=\"{comment}\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("typed-secret-4711", html, StringComparison.Ordinal);
        Assert.False(await _app.WithDbAsync(db => db.WebServices.AnyAsync()));
    }

    [Fact]
    public async Task OidcProfileAdd_EveryFieldWrong_ShowsAllErrorsAtOnce_AndKeepsTheInput_ButNoSecret()
    {
        var html = await PostAsync("/oidcprofiles/edit", new()
        {
            ["Input.Name"] = "", ["Input.DiscoveryUrl"] = "not a url", ["Input.ClientId"] = "", ["Input.ClientSecret"] = "typed-secret-0815",
            ["Input.DiscoveryCacheSeconds"] = "lots", ["Input.RandLength"] = "abc", ["Input.RandTtlSeconds"] = "-1",
            ["Input.LeewaySeconds"] = "x", ["Input.UidClaim"] = "", ["Input.IncomingOrder"] = "first",
        });

        var summary = Summary(html);
        foreach (var field in new[] { "Name", "DiscoveryUrl", "ClientId", "DiscoveryCacheSeconds", "RandLength", "RandTtlSeconds", "LeewaySeconds", "UidClaim", "IncomingOrder" })
        {
            Assert.Contains($"href=\"#Input_{field}\"", summary, StringComparison.Ordinal);
            AssertInvalidAndDescribed(html, "Input_" + field);
        }

        // "lots" stays "lots": the admin sees what was refused, not the default put back.
        Assert.Contains("value=\"lots\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"not a url\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"first\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("typed-secret-0815", html, StringComparison.Ordinal);
        Assert.False(await _app.WithDbAsync(db => db.OidcProfiles.AnyAsync()));
    }

    [Fact]
    public async Task MailAccountAdd_EveryFieldWrong_ShowsAllErrorsAtOnce_WithTheLabels_AndKeepsTheInput_ButNoPassword()
    {
        var html = WebUtility.HtmlDecode(await PostAsync("/mailaccounts/add", new()
        {
            ["Input.Type"] = "Imaps", ["Input.Login"] = "", ["Input.Host"] = "not a host", ["Input.Port"] = "abc",
            ["Input.Authentication"] = "Password", ["Input.Password"] = "", ["Input.ImapFolder"] = "INBOX",
            ["Input.FetchIntervalMinutes"] = "lots", ["Input.MaxMessagesPerRun"] = "0", ["Input.MaxMessageSizeKb"] = "-5",
            ["Input.Comment"] = new string('c', 251),
        }));

        var summary = Summary(html);
        var expected = new Dictionary<string, string>
        {
            ["Login"] = "Login is required.",
            ["Host"] = "Host must be a host name or IP address",
            ["Port"] = "Port: 'abc' is not a valid value.",
            ["Password"] = "Password is required for password authentication.",
            ["FetchIntervalMinutes"] = "Fetch interval (minutes): 'lots' is not a valid value.",
            ["MaxMessagesPerRun"] = "Messages per run (at most) must be 1 to 10000.",
            ["MaxMessageSizeKb"] = "Size limit per message (KB) must be 1 to 1048576",
            ["Comment"] = "Comment is longer than 250 characters.",
        };
        foreach (var (field, message) in expected)
        {
            AssertInSummary($"<a href=\"#Input_{field}\">{message}", summary);
            AssertInvalidAndDescribed(html, "Input_" + field);
        }

        Assert.Contains($"{expected.Count} things to correct:", summary, StringComparison.Ordinal);
        Assert.Contains("value=\"not a host\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"abc\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"lots\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"-5\"", html, StringComparison.Ordinal);
        Assert.False(await _app.WithDbAsync(db => db.MailAccounts.AnyAsync()));
    }

    [Fact]
    public async Task MailAccountEdit_WithMistakes_KeepsTheTypedInput_AndNeverRendersThePassword()
    {
        var created = await _browser.PostFormAsync("/mailaccounts/add", new()
        {
            ["Input.Type"] = "Imaps", ["Input.Login"] = "support@example.test", ["Input.Host"] = "127.0.0.1", ["Input.Authentication"] = "Password",
            ["Input.Password"] = "stored-mailbox-password", ["Input.ImapFolder"] = "INBOX", ["Input.FetchIntervalMinutes"] = "5",
            ["Input.MaxMessagesPerRun"] = "100", ["Input.MaxMessageSizeKb"] = "1024", ["Input.Valid"] = "true",
        });
        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        var edit = created.Headers.Location!.OriginalString;
        var page = await _browser.GetStringAsync(edit);
        var version = Regex.Match(page, "name=\"Version\" value=\"([^\"]+)\"").Groups[1].Value;

        var html = WebUtility.HtmlDecode(await PostAsync(edit, new()
        {
            ["Version"] = version, ["Input.Type"] = "Imaps", ["Input.Login"] = "new login", ["Input.Host"] = "bad host!", ["Input.Authentication"] = "Password",
            ["Input.Password"] = "typed-new-password-99", ["Input.ImapFolder"] = "INBOX", ["Input.FetchIntervalMinutes"] = "9999",
            ["Input.MaxMessagesPerRun"] = "100", ["Input.MaxMessageSizeKb"] = "1024", ["Input.Valid"] = "true",
        }));

        var summary = Summary(html);
        AssertInSummary("<a href=\"#Input_Host\">Host must be", summary);
        AssertInSummary("<a href=\"#Input_FetchIntervalMinutes\">Fetch interval (minutes) must be 1 to 1440.</a>", summary);
        Assert.Contains("value=\"bad host!\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"9999\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"new login\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("typed-new-password-99", html, StringComparison.Ordinal);
        Assert.DoesNotContain("stored-mailbox-password", html, StringComparison.Ordinal);
        Assert.Equal("127.0.0.1", await _app.WithDbAsync(db => db.MailAccounts.Select(a => a.Host).SingleAsync()));
    }

    [Fact]
    public async Task Settings_ThreeMistakes_ShowAtOnce_WithTheLabels_AndKeepTheInput()
    {
        var html = WebUtility.HtmlDecode(await PostAsync("/settings", new()
        {
            ["Values[HttpType]"] = "https", ["Values[FQDN]"] = "https://tokens.example.com", ["Values[PathBase]"] = "tokenadmin",
            ["Values[TokenStoreUpdater.Parallelism]"] = "lots",
        }));

        var summary = Summary(html);
        Assert.Contains("3 things to correct:", summary, StringComparison.Ordinal);
        AssertInSummary("<a href=\"#Values_FQDN_\">Fully qualified domain name is a host name", summary);
        AssertInSummary("<a href=\"#Values_PathBase_\">Path base", summary);
        AssertInSummary("<a href=\"#Values_TokenStoreUpdater_Parallelism_\">Parallelism", summary);
        AssertInvalidAndDescribed(html, "Values_FQDN_");
        AssertInvalidAndDescribed(html, "Values_PathBase_");
        AssertInvalidAndDescribed(html, "Values_TokenStoreUpdater_Parallelism_");
        Assert.Contains("value=\"https://tokens.example.com\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"tokenadmin\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"lots\"", html, StringComparison.Ordinal);
        Assert.Equal(0, await _app.WithDbAsync(db => db.Settings.CountAsync()));
    }

    [Fact]
    public async Task Smtp_ThreeMistakes_ShowAtOnce_WithTheLabels_KeepTheInput_AndNoPassword()
    {
        var html = WebUtility.HtmlDecode(await PostAsync("/mailaccounts/smtp", new()
        {
            ["Values[Smtp.Host]"] = "bad host", ["Values[Smtp.Port]"] = "0", ["Values[Smtp.From]"] = "not-an-address@",
            ["Values[Smtp.Password]"] = "typed-smtp-secret-31",
        }));

        var summary = Summary(html);
        AssertInSummary("<a href=\"#Values_Smtp_Host_\">Host: 'bad host' is not a host name.</a>", summary);
        AssertInSummary("<a href=\"#Values_Smtp_Port_\">Port must be a number from 1 to 65535.</a>", summary);
        AssertInSummary("<a href=\"#Values_Smtp_From_\">From address: 'not-an-address@' is not a mail address.</a>", summary);
        AssertInvalidAndDescribed(html, "Values_Smtp_Host_");
        Assert.Contains("value=\"bad host\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"0\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"not-an-address@\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("typed-smtp-secret-31", html, StringComparison.Ordinal);
        Assert.Equal(0, await _app.WithDbAsync(db => db.Settings.CountAsync()));
    }

    [Fact]
    public async Task SmtpTestMail_WithABadAddress_ShowsItNextToTheField_AsTyped()
    {
        var html = WebUtility.HtmlDecode(await PostAsync("/mailaccounts/smtp?handler=SendTest", new() { ["TestRecipient"] = "not an address" }));

        var summary = Summary(html);
        AssertInSummary("<a href=\"#TestRecipient\">To: 'not an address' is not a mail address.</a>", summary);
        AssertInvalidAndDescribed(html, "TestRecipient");
        Assert.Contains("value=\"not an address\"", html, StringComparison.Ordinal);
    }

    private async Task<string> PostAsync(string url, Dictionary<string, string> form)
    {
        var response = await _browser.PostFormAsync(url, form);
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url} answered {(int)response.StatusCode}:\n{html}");
        return html;
    }

    private static void AssertInSummary(string expected, string summary) =>
        Assert.True(summary.Contains(expected, StringComparison.Ordinal), $"Not in the summary: {expected}\n{summary}");

    private static string Summary(string html)
    {
        var match = SummaryRegex().Match(html);
        Assert.True(match.Success, "No error summary:\n" + html);
        Assert.Contains("Nothing was saved.", match.Value, StringComparison.Ordinal);
        return match.Value;
    }

    /// <summary>The field says it is invalid and points at a message with the ID it names.</summary>
    private static void AssertInvalidAndDescribed(string html, string id)
    {
        var field = Regex.Match(html, $"<(?:input|select|textarea)[^>]*\\bid=\"{id}\"[^>]*>");
        Assert.True(field.Success, $"No field {id}.");
        Assert.Contains("aria-invalid=\"true\"", field.Value, StringComparison.Ordinal);
        Assert.Contains($"aria-describedby=\"{id}-error", field.Value, StringComparison.Ordinal);
        Assert.Matches($"<span[^>]*id=\"{id}-error\"[^>]*>[^<]+</span>", html);
    }

    [GeneratedRegex("<div class=\"validation-summary\" id=\"form-errors\".*?</div>", RegexOptions.Singleline)]
    private static partial Regex SummaryRegex();
}
