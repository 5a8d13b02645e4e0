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
        Assert.Contains("<a href=\"#Input_Name\">Name is required.</a>", summary, StringComparison.Ordinal);
        Assert.Contains("<a href=\"#Input_BaseUrl\">Base URL is required.</a>", summary, StringComparison.Ordinal);
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

    private async Task<string> PostAsync(string url, Dictionary<string, string> form)
    {
        var response = await _browser.PostFormAsync(url, form);
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url} answered {(int)response.StatusCode}:\n{html}");
        return html;
    }

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
