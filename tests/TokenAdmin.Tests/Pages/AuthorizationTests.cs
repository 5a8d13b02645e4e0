using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.Tests.Pages;

public sealed partial class AuthorizationTests(TokenAdminAppFixture fixture) : IClassFixture<TokenAdminAppFixture>
{
    private readonly TokenAdminFactory _app = fixture.App;

    /// <summary>Every page endpoint that is not explicitly anonymous, found from the app's own routing table.</summary>
    private List<string> AdminPageRoutes() =>
        _app.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<PageActionDescriptor>() is not null)
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is null)
            .Select(e => "/" + RouteParameter().Replace(e.RoutePattern.RawText!.TrimStart('/'), "1"))
            .Distinct()
            .ToList();

    [Fact]
    public void AdminPages_IncludeEveryScreenOfTheMenu()
    {
        var routes = AdminPageRoutes();

        Assert.Contains("/Settings", routes, StringComparer.OrdinalIgnoreCase);
        Assert.Contains("/Audit", routes, StringComparer.OrdinalIgnoreCase);
        Assert.Contains("/Tokens/Details/1", routes, StringComparer.OrdinalIgnoreCase);
        Assert.Contains("/oauth2/callback", routes, StringComparer.OrdinalIgnoreCase);
        Assert.Contains("/", routes);
        Assert.DoesNotContain("/Account/Login", routes, StringComparer.OrdinalIgnoreCase);
        Assert.DoesNotContain("/setup", routes, StringComparer.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task EveryAdminPage_RedirectsAnonymousUsersToLogin()
    {
        var browser = _app.CreateBrowser();
        foreach (var route in AdminPageRoutes())
        {
            var response = await browser.GetAsync(route);

            Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"{route} answered {response.StatusCode} to an anonymous user");
            Assert.StartsWith("http://localhost/account/login?ReturnUrl=", response.Headers.Location!.ToString(), StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task EveryAdminPage_RefusesAnonymousPosts()
    {
        var browser = _app.CreateBrowser();
        var token = HttpClientForms.AntiforgeryToken(await browser.GetStringAsync("/account/login"));
        foreach (var route in AdminPageRoutes())
        {
            var response = await browser.PostAsync(route, new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = token, ["Values[HttpType]"] = "https",
            }));

            Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"POST {route} answered {response.StatusCode} to an anonymous user");
        }

        Assert.Equal("http", (await _app.Services.GetRequiredService<TokenAdmin.Settings.SettingsStore>().GetAsync()).Get("HttpType"));
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\{[^}]+\}")]
    private static partial System.Text.RegularExpressions.Regex RouteParameter();

    [Theory]
    [InlineData("/account/login")]
    [InlineData("/account/accessdenied")]
    [InlineData("/setup")]
    [InlineData("/healthz")]
    public async Task PublicPages_AnswerAnonymousUsers(string route)
    {
        var response = await _app.CreateBrowser().GetAsync(route);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}

/// <summary>One app for a test class whose tests do not change shared state.</summary>
public sealed class TokenAdminAppFixture : IAsyncLifetime
{
    public TokenAdminFactory App { get; } = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await App.DisposeAsync();
}
