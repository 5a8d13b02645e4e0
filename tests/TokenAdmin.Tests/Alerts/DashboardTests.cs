using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Tokens;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Alerts;

/// <summary>The home page and /healthz/ready read the same state as the alerts: a dead source is shown first and degrades readiness.</summary>
public sealed class DashboardTests : TokenTestBase
{
    [Fact]
    public async Task Dashboard_DeadSourceComesFirst_WithTheLinkThatFixesIt_AndReadinessIsDegradedWithTheCount()
    {
        var healthy = await App.CreateClient().GetStringAsync("/healthz/ready");
        Assert.Equal("Healthy", healthy);
        var dead = await CreateConfigAsync("dead-mailbox");
        var fine = await CreateConfigAsync("fine-mailbox");
        Assert.Equal(HttpStatusCode.Redirect, (await AuthorizeAsync(dead)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await AuthorizeAsync(fine)).StatusCode);
        Idp.Faults.FailNextTokenRequests(TokenEndpointFault.InvalidGrant, 1);
        await Assert.ThrowsAsync<TokenUnavailableException>(() => App.Services.GetRequiredService<ITokenProvider>().ForceRefreshAsync(TokenSource.Config(dead), default));

        var page = WebUtility.HtmlDecode(await Browser.GetStringAsync("/"));

        var attention = page[page.IndexOf("Needs attention", StringComparison.Ordinal)..page.IndexOf("Token sources</h2>", StringComparison.Ordinal)];
        Assert.Contains("Error:", attention, StringComparison.Ordinal);
        Assert.Contains("<strong>dead-mailbox</strong>", attention, StringComparison.Ordinal);
        Assert.Contains("invalid_grant", attention, StringComparison.Ordinal);
        Assert.Contains($"href=\"/Tokens/Details/{dead}\">Request a new token", attention, StringComparison.Ordinal);
        Assert.DoesNotContain("fine-mailbox", attention, StringComparison.Ordinal);
        Assert.Contains("<dt>All</dt><dd>2</dd>", page, StringComparison.Ordinal);
        Assert.Contains("<dt>Working</dt><dd>1</dd>", page, StringComparison.Ordinal);
        Assert.Contains("<dt>Cannot get tokens</dt><dd>1</dd>", page, StringComparison.Ordinal);
        Assert.Contains("http://localhost:5080/oauth2/callback", page, StringComparison.Ordinal);

        using var ready = await App.CreateClient().GetAsync("/healthz/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Degraded\ntoken-sources: 1 token source(s) cannot get tokens and need an admin (a new authorization or new credentials).",
            await ready.Content.ReadAsStringAsync());
    }
}

/// <summary>The Prometheus scrape endpoint: off by default; when on, a bearer token is required.</summary>
public sealed class MetricsExportTests : TokenTestBase
{
    private const string ScrapeToken = "scrape-token-0123456789";

    public override async Task InitializeAsync()
    {
        App.Settings["TokenAdmin:Metrics:PrometheusEnabled"] = "true";
        App.Settings["TokenAdmin:Metrics:PrometheusBearerToken"] = ScrapeToken;
        await base.InitializeAsync();
    }

    [Fact]
    public async Task Scrape_NeedsTheBearerToken_AndShowsTokenAdminMetrics()
    {
        var id = await CreateConfigAsync("mailbox", TokenFlows.ClientCredentials);
        await App.Services.GetRequiredService<ITokenProvider>().GetTokenAsync(TokenSource.Config(id), default);
        var client = App.CreateClient();

        using var anonymous = await client.GetAsync("/metrics");
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "guess") } };
        using var wrongAnswer = await client.SendAsync(wrong);
        using var right = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", ScrapeToken) } };
        using var rightAnswer = await client.SendAsync(right);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongAnswer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, rightAnswer.StatusCode);
        var text = await rightAnswer.Content.ReadAsStringAsync();
        Assert.Contains("tokenadmin_token_requests_total{", text, StringComparison.Ordinal);
        Assert.Contains("grant_type=\"client_credentials\"", text, StringComparison.Ordinal);
    }
}
