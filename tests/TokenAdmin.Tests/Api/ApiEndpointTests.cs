using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Api;

public sealed class ApiEndpointTests : ApiTestBase
{
    [Fact]
    public async Task TokenList_ShowsStatusOfConfigsAndAccounts_NeverATokenValue()
    {
        var profile = await CreateApiProfileAsync();
        var configId = await CreateConfigAsync("shared-cc", TokenFlows.ClientCredentials);
        await CreateAccountAsync(profile.Id, "robot-account");
        var config = await ServiceRefreshAsync(configId);

        var response = await GetTokensAsync(Mint());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        var tokens = JsonDocument.Parse(body).RootElement.GetProperty("tokens").EnumerateArray().ToList();
        var row = tokens.Single(t => t.GetProperty("name").GetString() == "shared-cc");
        Assert.Equal("token-config", row.GetProperty("kind").GetString());
        Assert.Equal("Valid", row.GetProperty("status").GetString());
        Assert.Contains(tokens, t => t.GetProperty("name").GetString() == "robot-account" && t.GetProperty("kind").GetString() == "functional-account");
        Assert.DoesNotContain(config, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refresh_RenewsATokenConfigByName_AndIsAudited()
    {
        await CreateApiProfileAsync();
        var configId = await CreateConfigAsync("cc-config", TokenFlows.ClientCredentials);
        var before = Idp.TokenRequestCount;

        var response = await CallAsync(HttpMethod.Post, "/api/v1/token-configs/cc-config/refresh", Mint(c => c["roles"] = Refresher));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await JsonAsync(response);
        Assert.Equal("cc-config", json.GetProperty("name").GetString());
        Assert.True(json.GetProperty("accessTokenExpiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow);
        Assert.Equal(before + 1, Idp.TokenRequestCount);
        Assert.NotNull((await StateAsync(configId))?.AccessTokenProtected);
        Assert.True(await App.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "token-config.refreshed-by-api" && a.Actor == "api:robot")));
    }

    [Fact]
    public async Task Refresh_OfAFunctionalAccount_AndTheFailuresSayWhy()
    {
        var profile = await CreateApiProfileAsync();
        await CreateAccountAsync(profile.Id, "robot-account");
        await CreateConfigAsync("needs-browser", TokenFlows.AuthorizationCode);
        var token = Mint(c => c["roles"] = Refresher);

        var account = await CallAsync(HttpMethod.Post, "/api/v1/functional-accounts/robot-account/refresh", token);
        var missing = await CallAsync(HttpMethod.Post, "/api/v1/token-configs/no-such-config/refresh", token);
        var notAuthorized = await CallAsync(HttpMethod.Post, "/api/v1/token-configs/needs-browser/refresh", token);

        Assert.Equal(HttpStatusCode.OK, account.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no token config named 'no-such-config'", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, notAuthorized.StatusCode);
        Assert.Equal("NotAuthorizedYet", (await JsonAsync(notAuthorized)).GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Broker_HandsOutTokens_OnlyOfSourcesAnAdminShared()
    {
        var profile = await CreateApiProfileAsync();
        await CreateConfigAsync("private-cc", TokenFlows.ClientCredentials);
        await CreateConfigAsync("shared-cc", TokenFlows.ClientCredentials, d => d.SharedThroughApi = true);
        await CreateAccountAsync(profile.Id, "shared-account", a => a.SharedThroughApi = true);
        var broker = Mint(c => c["roles"] = Broker);

        var shared = await CallAsync(HttpMethod.Post, "/api/v1/token-configs/shared-cc/token", broker);
        var notShared = await CallAsync(HttpMethod.Post, "/api/v1/token-configs/private-cc/token", broker);
        var missing = await CallAsync(HttpMethod.Post, "/api/v1/token-configs/nothing/token", broker);
        var account = await CallAsync(HttpMethod.Post, "/api/v1/functional-accounts/shared-account/token", broker);
        var withoutRole = await CallAsync(HttpMethod.Post, "/api/v1/token-configs/shared-cc/token", Mint());

        Assert.Equal(HttpStatusCode.OK, shared.StatusCode);
        var json = await JsonAsync(shared);
        Assert.Equal(3, json.GetProperty("access_token").GetString()!.Split('.').Length);
        Assert.True(json.GetProperty("expires_in").GetInt64() > 0);
        Assert.Contains("no-store", shared.Headers.CacheControl?.ToString() ?? "", StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, notShared.StatusCode);
        Assert.Contains("not shared through the API", await notShared.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.OK, account.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, withoutRole.StatusCode);
        Assert.Contains("tokens.broker", await withoutRole.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Broker_RefusesAFunctionalAccountThatGetsIdTokens()
    {
        var profile = await CreateApiProfileAsync();
        await CreateAccountAsync(profile.Id, "id-account", a => { a.SharedThroughApi = true; a.Scope = "openid api"; a.TokenType = TokenAdmin.FunctionalAccounts.AccountTokenTypes.IdToken; });

        var response = await CallAsync(HttpMethod.Post, "/api/v1/functional-accounts/id-account/token", Mint(c => c["roles"] = Broker));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("access tokens only", text, StringComparison.Ordinal);
        Assert.DoesNotContain("access_token\":", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ShareFlag_IsOffByDefault_SetOnTheEditPages_AndInTheYamlExport()
    {
        var profile = await CreateApiProfileAsync();
        var configId = await CreateConfigAsync("cc", TokenFlows.ClientCredentials);
        var account = await CreateAccountAsync(profile.Id, "acct");
        Assert.False(await App.WithDbAsync(db => db.TokenConfigs.Where(c => c.Id == configId).Select(c => c.SharedThroughApi).SingleAsync()));
        Assert.False(account.SharedThroughApi);

        var edit = await Browser.GetStringAsync($"/tokens/edit/{configId}");
        Assert.Contains("name=\"Input.SharedThroughApi\"", edit, StringComparison.Ordinal);
        var accountEdit = await Browser.GetStringAsync($"/functionalaccounts/edit/{account.Id}");
        Assert.Contains("name=\"Input.SharedThroughApi\"", accountEdit, StringComparison.Ordinal);

        // Switched on through the service the page calls, then exported as YAML.
        using (var scope = App.Services.CreateScope())
        {
            var service = scope.ServiceProvider.GetRequiredService<TokenConfigService>();
            var config = await App.WithDbAsync(db => db.TokenConfigs.AsNoTracking().SingleAsync(c => c.Id == configId));
            var document = TokenConfigYaml.Parse(config.Yaml);
            document.SharedThroughApi = true;
            var result = await service.UpdateAsync(configId, config.Version, document, new TokenConfigSecrets(null, null), "test", default);
            Assert.True(result.Succeeded);
        }

        Assert.True(await App.WithDbAsync(db => db.TokenConfigs.Where(c => c.Id == configId).Select(c => c.SharedThroughApi).SingleAsync()));
        Assert.Contains("sharedThroughApi: true", await App.WithDbAsync(db => db.TokenConfigs.Where(c => c.Id == configId).Select(c => c.Yaml).SingleAsync()), StringComparison.Ordinal);
        Assert.True(await App.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "token-config.updated" && a.Details.Contains("sharedThroughApi"))));
    }

    [Fact]
    public async Task ShareFlag_OfAFunctionalAccount_IsSavedFromItsEditPage_AndAudited()
    {
        var profile = await CreateApiProfileAsync();
        var form = new Dictionary<string, string>
        {
            ["Input.Name"] = "shared-robot",
            ["Input.OidcProfileId"] = profile.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Input.GrantType"] = "client_credentials",
            ["Input.Scope"] = "api",
            ["Input.ResourceParameterName"] = "resource",
            ["Input.ResourcePerParameter"] = "true",
            ["Input.TokenType"] = "access_token",
            ["Input.Valid"] = "true",
            ["Input.SharedThroughApi"] = "true",
        };

        var response = await Browser.PostFormAsync("/functionalaccounts/edit", form, "/functionalaccounts/edit");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.True(await App.WithDbAsync(db => db.FunctionalAccounts.Where(a => a.Name == "shared-robot").Select(a => a.SharedThroughApi).SingleAsync()));
        Assert.True(await App.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "functional-account.created" && a.Details.Contains("shared through the API"))));
        var brokered = await CallAsync(HttpMethod.Post, "/api/v1/functional-accounts/shared-robot/token", Mint(c => c["roles"] = Broker));
        Assert.Equal(HttpStatusCode.OK, brokered.StatusCode);
    }

    [Fact]
    public async Task OpenApiDocument_IsServed_AndListsEveryEndpoint()
    {
        var response = await Api.GetAsync("/api/v1/openapi.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var paths = (await JsonAsync(response)).GetProperty("paths");
        foreach (var path in new[] { "/api/v1/tokens", "/api/v1/token-configs/{name}/refresh", "/api/v1/functional-accounts/{name}/refresh",
            "/api/v1/token-configs/{name}/token", "/api/v1/functional-accounts/{name}/token", "/api/v1/webservices/{webservice}/invokers/{invoker}" })
        {
            Assert.True(paths.TryGetProperty(path, out _), path);
        }
    }

    private static readonly string[] Refresher = ["refresher"];
    private static readonly string[] Broker = ["broker"];

    private async Task<string> ServiceRefreshAsync(int configId)
    {
        using var scope = App.Services.CreateScope();
        var token = await scope.ServiceProvider.GetRequiredService<ITokenProvider>().GetTokenAsync(TokenSource.Config(configId), default);
        return token.Value;
    }
}
