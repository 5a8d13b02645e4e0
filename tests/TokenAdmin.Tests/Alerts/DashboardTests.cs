using System.Net;
using System.Net.Http.Headers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Tokens;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Alerts;

/// <summary>The home page and /healthz/ready read the same state as the alerts: a dead source is shown first and degrades readiness.</summary>
public sealed class DashboardTests : TokenTestBase
{
    private static readonly string[] ListedOrder = ["a-dead", "b-failing", "d-expires-soon", "c-expires-later"];

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

    [Fact]
    public async Task Dashboard_CountsEachSourceOnce_ByTheStandingEachSaveKeeps_ListingDeadThenFailingThenSoonestExpiring()
    {
        var dead = await CreateConfigAsync("a-dead");
        var failing = await CreateConfigAsync("b-failing");
        var later = await CreateConfigAsync("c-expires-later");
        var soon = await CreateConfigAsync("d-expires-soon");
        await CreateConfigAsync("e-not-authorized");
        // A state row that holds no token (left by a first request that failed): not authorized either, counted once.
        var rowWithoutTokens = await CreateConfigAsync("f-row-without-tokens");
        await App.WithDbAsync(db =>
        {
            db.TokenStates.Add(new TokenState { TokenConfigId = rowWithoutTokens, LastErrorCode = "invalid_client", LastErrorAt = DateTime.UtcNow });
            return db.SaveChangesAsync();
        });
        foreach (var id in new[] { dead, failing, later, soon })
        {
            Assert.Equal(HttpStatusCode.Redirect, (await AuthorizeAsync(id)).StatusCode);
        }

        var provider = App.Services.GetRequiredService<ITokenProvider>();
        Idp.Faults.FailNextTokenRequests(TokenEndpointFault.InvalidGrant, 1);
        await Assert.ThrowsAsync<TokenUnavailableException>(() => provider.ForceRefreshAsync(TokenSource.Config(dead), default));
        Idp.Faults.TokenEndpoint = TokenEndpointFault.ServerError500;
        for (var i = 0; i < 3; i++) // the default threshold: 3 failures in a row
        {
            using var scope = App.Services.CreateScope();
            Assert.False((await scope.ServiceProvider.GetRequiredService<TokenEngine>().RenewAsync(TokenSource.Config(failing), "test", default)).Succeeded);
        }

        Idp.Faults.TokenEndpoint = TokenEndpointFault.None;
        // A tracked save (as every service makes) keeps the standing; the refresh tokens' expiries move into the window.
        await App.WithDbAsync(async db =>
        {
            var states = await db.TokenStates.Where(s => s.TokenConfigId == later || s.TokenConfigId == soon).ToListAsync();
            foreach (var state in states)
            {
                state.RefreshTokenExpiresAt = DateTime.UtcNow.AddDays(state.TokenConfigId == soon ? 1 : 3);
            }

            return await db.SaveChangesAsync();
        });
        var standings = await App.WithDbAsync(db => db.TokenStates.AsNoTracking().ToDictionaryAsync(s => s.TokenConfigId!.Value, s => s.Standing));
        Assert.Equal(TokenStanding.Dead, standings[dead]);
        Assert.Equal(TokenStanding.Failing, standings[failing]);
        Assert.Equal(TokenStanding.Working, standings[later]);
        Assert.Equal(TokenStanding.Working, standings[soon]);
        Assert.Equal(TokenStanding.NoTokens, standings[rowWithoutTokens]);

        var page = WebUtility.HtmlDecode(await Browser.GetStringAsync("/"));

        var attention = page[page.IndexOf("Needs attention", StringComparison.Ordinal)..page.IndexOf("Token sources</h2>", StringComparison.Ordinal)];
        var order = ListedOrder.Select(n => attention.IndexOf($"<strong>{n}</strong>", StringComparison.Ordinal)).ToList();
        Assert.DoesNotContain(-1, order);
        Assert.Equal(order.Order(), order);
        Assert.DoesNotContain("e-not-authorized", attention, StringComparison.Ordinal);
        Assert.Contains("<dt>All</dt><dd>6</dd>", page, StringComparison.Ordinal);
        Assert.Contains("<dt>Working</dt><dd>0</dd>", page, StringComparison.Ordinal);
        Assert.Contains("<dt>Refresh token expires soon</dt><dd>2</dd>", page, StringComparison.Ordinal);
        Assert.Contains("<dt>Failing</dt><dd>1</dd>", page, StringComparison.Ordinal);
        Assert.Contains("<dt>Cannot get tokens</dt><dd>1</dd>", page, StringComparison.Ordinal);
        Assert.Contains("<dt>No token yet</dt><dd>2</dd>", page, StringComparison.Ordinal);

        // A new authorization brings the dead one back to working: its standing follows the save.
        Assert.Equal(HttpStatusCode.Redirect, (await AuthorizeAsync(dead)).StatusCode);
        Assert.Equal(TokenStanding.Working, await App.WithDbAsync(db => db.TokenStates.Where(s => s.TokenConfigId == dead).Select(s => s.Standing).SingleAsync()));
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
