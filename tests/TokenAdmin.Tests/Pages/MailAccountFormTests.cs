using System.Net;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.Tests.Pages;

public sealed class MailAccountFormTests : IAsyncLifetime
{
    private readonly TokenAdminFactory _app = new();
    private HttpClient _browser = null!;

    public async Task InitializeAsync() => _browser = await _app.SignedInBrowserAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Add_SubmittedEmpty_ShowsTheMissingFields_NotAnErrorPage()
    {
        // What a browser sends for the untouched form: the text fields empty, the choices at their defaults.
        var response = await _browser.PostFormAsync("/mailaccounts/add", new()
        {
            ["Input.Login"] = "",
            ["Input.Host"] = "",
            ["Input.Type"] = "Imaps",
            ["Input.Port"] = "",
            ["Input.Authentication"] = "OAuth2",
            ["Input.TokenSource"] = "",
            ["Input.ImapFolder"] = "",
            ["Input.FetchIntervalMinutes"] = "5",
            ["Input.MaxMessagesPerRun"] = "100",
            ["Input.MaxMessageSizeKb"] = "20480",
            ["Input.Comment"] = "",
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Login is required", html, StringComparison.Ordinal);
        Assert.Contains("Host must be a host name or IP address", html, StringComparison.Ordinal);
        Assert.Contains("Token source: choose the token config or functional account", html, StringComparison.Ordinal);
        Assert.Equal(0, await _app.WithDbAsync(db => db.MailAccounts.CountAsync()));
    }

    [Fact]
    public async Task Add_PostedWithoutAnyField_ShowsErrors_NotAnErrorPage()
    {
        var response = await _browser.PostFormAsync("/mailaccounts/add", []);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Login is required", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
