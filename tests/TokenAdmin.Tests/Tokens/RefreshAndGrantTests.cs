using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Tokens;

public sealed class RefreshAndGrantTests : TokenTestBase
{
    private async Task<int> AuthorizedConfigAsync(string name = "mailbox", Action<TokenConfigDocument>? change = null)
    {
        var id = await CreateConfigAsync(name, change: change);
        Assert.Equal(HttpStatusCode.Redirect, (await AuthorizeAsync(id)).StatusCode);
        return id;
    }

    private async Task<string> PostRefreshAsync(int id)
    {
        var response = await Browser.PostFormAsync($"/tokens/details/{id}?handler=Refresh", [], formPage: $"/tokens/details/{id}");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return WebUtility.HtmlDecode(await Browser.GetStringAsync(response.Headers.Location!.OriginalString));
    }

    [Fact]
    public async Task Refresh_StoresRotatedRefreshToken()
    {
        var id = await AuthorizedConfigAsync();
        var before = await StateAsync(id);

        var page = await PostRefreshAsync(id);

        var after = await StateAsync(id);
        Assert.Contains("Token for 'mailbox' refreshed", page, StringComparison.Ordinal);
        Assert.NotEqual(Unprotect(before!.RefreshTokenProtected!), Unprotect(after!.RefreshTokenProtected!));
        Assert.NotEqual(Unprotect(before.AccessTokenProtected!), Unprotect(after.AccessTokenProtected!));
        Assert.Equal(1, Idp.TokenRequestsByGrantType["refresh_token"]);
        // The old refresh token is spent at the provider; the stored one still works.
        Assert.Contains("refreshed", await PostRefreshAsync(id), StringComparison.Ordinal);
        Assert.Equal(0, Idp.RefreshTokenReuseCount);
    }

    [Fact]
    public async Task Refresh_KeepsOldRefreshToken_WhenProviderOmitsIt()
    {
        await using var provider = await ScriptedTokenEndpoint.StartAsync();
        var id = await CreateConfigAsync(change: d => { d.Endpoints.Token = provider.Url; d.Scope = "mail"; d.RefreshToken.LifetimeDays = 90; d.RefreshToken.Sliding = true; });
        provider.Answer(200, """{"access_token":"first-access","token_type":"Bearer","expires_in":3600,"refresh_token":"the-only-refresh-token"}""");
        provider.Answer(200, """{"access_token":"second-access","token_type":"Bearer","expires_in":3600}""");
        var back = await SignInAtProviderAsync(await StartAuthorizationAsync(id));
        await Browser.GetAsync(back);

        await PostRefreshAsync(id);

        var state = await StateAsync(id);
        Assert.Equal("second-access", Unprotect(state!.AccessTokenProtected!));
        Assert.Equal("the-only-refresh-token", Unprotect(state.RefreshTokenProtected!));
        Assert.True(state.RefreshTokenExpiryEstimated);
        Assert.True(state.RefreshTokenExpiresAt > DateTime.UtcNow.AddDays(89));
        var requests = provider.Requests.ToArray();
        Assert.Equal("the-only-refresh-token", requests[1]["refresh_token"]);
        Assert.Equal("refresh_token", requests[1]["grant_type"]);
        Assert.Equal(ClientSecret, requests[1]["client_secret"]);
    }

    [Fact]
    public async Task Refresh_InvalidGrant_MarksRefreshTokenDead_AndRaisesBanner()
    {
        var id = await AuthorizedConfigAsync();
        Idp.Faults.TokenEndpoint = TokenEndpointFault.InvalidGrant;

        var page = await PostRefreshAsync(id);

        var state = await StateAsync(id);
        Assert.NotNull(state!.RefreshTokenRevokedAt);
        Assert.Equal("invalid_grant", state.LastErrorCode);
        Assert.NotNull(state.RefreshTokenProtected); // kept for the record, but not used again
        Assert.Contains("The provider refused the request. invalid_grant", page, StringComparison.Ordinal);
        Assert.Contains("OAuth2 refresh token mailbox has expired: the provider refused it (invalid_grant)", page, StringComparison.Ordinal);
        Assert.Contains($"href=\"/tokens/details/{id}\"", page, StringComparison.Ordinal);
        Assert.Contains("Refresh token revoked or refused", await Browser.GetStringAsync("/tokens"), StringComparison.Ordinal);
        var requestsBefore = Idp.TokenRequestCount;
        Assert.Contains("was refused by the provider", await PostRefreshAsync(id), StringComparison.Ordinal);
        Assert.Equal(requestsBefore, Idp.TokenRequestCount); // a dead refresh token is not sent again
    }

    [Fact]
    public async Task NewAuthorization_AfterDeadRefreshToken_ClearsTheBanner()
    {
        var id = await AuthorizedConfigAsync();
        Idp.Faults.TokenEndpoint = TokenEndpointFault.InvalidGrant;
        Assert.Contains("has expired", await PostRefreshAsync(id), StringComparison.Ordinal);
        Idp.Faults.Reset();

        await AuthorizeAsync(id);

        var page = await Browser.GetStringAsync($"/tokens/details/{id}");
        Assert.DoesNotContain("has expired", page, StringComparison.Ordinal);
        Assert.Null((await StateAsync(id))!.RefreshTokenRevokedAt);
    }

    [Theory]
    [InlineData(TokenEndpointFault.ServerError500, "http_500")]
    [InlineData(TokenEndpointFault.Hang, "timeout")]
    [InlineData(TokenEndpointFault.TemporarilyUnavailable503, "temporarily_unavailable")]
    public async Task Refresh_WhenProviderFails_KeepsTokens_AndShowsError(TokenEndpointFault fault, string code)
    {
        var id = await AuthorizedConfigAsync();
        var before = await StateAsync(id);
        Idp.Faults.HangDuration = TimeSpan.FromSeconds(10);
        Idp.Faults.TokenEndpoint = fault;

        var page = await PostRefreshAsync(id);

        var after = await StateAsync(id);
        Assert.Contains("the stored tokens were kept", page, StringComparison.Ordinal);
        Assert.Contains(code, page, StringComparison.Ordinal);
        Assert.Equal(code, after!.LastErrorCode);
        Assert.Equal(1, after.ConsecutiveFailures);
        Assert.Null(after.RefreshTokenRevokedAt);
        Assert.Equal(Unprotect(before!.AccessTokenProtected!), Unprotect(after.AccessTokenProtected!));
        Assert.Equal(Unprotect(before.RefreshTokenProtected!), Unprotect(after.RefreshTokenProtected!));
    }

    [Fact]
    public async Task ClientCredentials_Request_StoresToken()
    {
        var id = await CreateConfigAsync("app-token", TokenFlows.ClientCredentials);

        var response = await Browser.PostFormAsync($"/tokens/details/{id}?handler=RequestToken", [], formPage: $"/tokens/details/{id}");
        var page = WebUtility.HtmlDecode(await Browser.GetStringAsync(response.Headers.Location!.OriginalString));

        Assert.Contains("Token for 'app-token' received", page, StringComparison.Ordinal);
        Assert.Contains("tokenadmin", page, StringComparison.Ordinal); // sub claim of the decoded access token
        var state = await StateAsync(id);
        Assert.Null(state!.RefreshTokenProtected);
        Assert.Equal(1, Idp.TokenRequestsByGrantType["client_credentials"]);
    }

    [Fact]
    public async Task Password_Request_StoresTokenAndRefreshToken()
    {
        var id = await CreateConfigAsync("user-token", TokenFlows.Password, password: "alice-password-1");

        using var scope = App.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<TokenEngine>().RequestAsync(TokenSource.Config(id), "test", default);

        Assert.True(result.Succeeded, result.Message);
        Assert.NotNull((await StateAsync(id))!.RefreshTokenProtected);
    }

    [Fact]
    public async Task Password_WithWrongPassword_RecordsProviderError()
    {
        var id = await CreateConfigAsync("user-token", TokenFlows.Password, password: "wrong-password-1");

        using var scope = App.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<TokenEngine>().RequestAsync(TokenSource.Config(id), "test", default);

        Assert.False(result.Succeeded);
        Assert.Contains("invalid_grant", result.Message, StringComparison.Ordinal);
        Assert.Equal("invalid_grant", (await StateAsync(id))!.LastErrorCode);
    }

    [Fact]
    public async Task Overview_Refresh_RefreshesFromTheList()
    {
        var id = await AuthorizedConfigAsync();

        var response = await Browser.PostFormAsync($"/tokens?handler=Refresh&id={id}", [], formPage: "/tokens");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("refreshed", await Browser.GetStringAsync(response.Headers.Location!.OriginalString), StringComparison.Ordinal);
        Assert.Equal(1, Idp.TokenRequestsByGrantType["refresh_token"]);
    }

    [Fact]
    public async Task Banner_WarnsBeforeRefreshTokenExpires()
    {
        var id = await AuthorizedConfigAsync(change: d => d.Notifications.ExpiringSoonDays = 7);
        await App.WithDbAsync(db => db.TokenStates.ExecuteUpdateAsync(s => s.SetProperty(x => x.RefreshTokenExpiresAt, DateTime.UtcNow.AddDays(3).AddHours(-1))));
        App.Services.GetRequiredService<TokenStateEvents>().Changed();

        var page = await Browser.GetStringAsync("/");

        Assert.Contains("OAuth2 refresh token mailbox expires in 3 days.", page, StringComparison.Ordinal);
        Assert.Contains($"href=\"/tokens/details/{id}\"", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Banner_RespectsTheNotificationSwitch()
    {
        await AuthorizedConfigAsync(change: d => d.Notifications.RefreshTokenExpired = false);

        var page = await Browser.GetStringAsync("/");
        await App.WithDbAsync(db => db.TokenStates.ExecuteUpdateAsync(s => s.SetProperty(x => x.RefreshTokenRevokedAt, DateTime.UtcNow)));
        App.Services.GetRequiredService<TokenStateEvents>().Changed();

        Assert.DoesNotContain("OAuth2 refresh token", page, StringComparison.Ordinal);
        Assert.DoesNotContain("OAuth2 refresh token", await Browser.GetStringAsync("/"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Banner_TokenExpired_WhenNothingCanRenewIt()
    {
        var id = await CreateConfigAsync("app-token", TokenFlows.ClientCredentials);
        using (var scope = App.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<TokenEngine>().RequestAsync(TokenSource.Config(id), "test", default);
        }

        Idp.Faults.TokenEndpoint = TokenEndpointFault.ServerError500;
        using (var scope = App.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<TokenEngine>().RequestAsync(TokenSource.Config(id), "test", default);
        }

        await App.WithDbAsync(db => db.TokenStates.ExecuteUpdateAsync(s => s.SetProperty(x => x.AccessTokenExpiresAt, DateTime.UtcNow.AddMinutes(-1))));
        App.Services.GetRequiredService<TokenStateEvents>().Changed();

        Assert.Contains("OAuth2 token app-token has expired.", await Browser.GetStringAsync("/"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ZeroRefreshLifetime_MeansNotStated_NotExpired()
    {
        await using var provider = await ScriptedTokenEndpoint.StartAsync();
        var id = await CreateConfigAsync(change: d => { d.Endpoints.Token = provider.Url; d.Scope = "mail"; });
        provider.Answer(200, """{"access_token":"a","token_type":"Bearer","expires_in":300,"refresh_token":"r","refresh_expires_in":0}""");

        await Browser.GetAsync(await SignInAtProviderAsync(await StartAuthorizationAsync(id)));

        var state = await StateAsync(id);
        Assert.Null(state!.RefreshTokenExpiresAt);
        Assert.Contains("Valid until", await Browser.GetStringAsync($"/tokens/details/{id}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidClient_ThenNewClientSecret_MakesTheRefreshTokenUsableAgain()
    {
        var id = await AuthorizedConfigAsync();
        Idp.Faults.TokenEndpoint = TokenEndpointFault.InvalidClient;
        await PostRefreshAsync(id);
        Assert.NotNull((await StateAsync(id))!.RefreshTokenRevokedAt);
        Idp.Faults.Reset();

        using (var scope = App.Services.CreateScope())
        {
            var service = scope.ServiceProvider.GetRequiredService<TokenConfigService>();
            var (config, document) = (await service.LoadAsync(id, default))!.Value;
            var saved = await service.UpdateAsync(id, config.Version, document, new TokenConfigSecrets(ClientSecret: ClientSecret), "test", default);
            Assert.True(saved.Succeeded);
        }

        Assert.Contains("refreshed", await PostRefreshAsync(id), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecretsOfAnotherKeyRing_GiveAMessage_NotAnErrorPage()
    {
        var id = await AuthorizedConfigAsync();
        // What a lost or replaced master key leaves behind: ciphertext no key of this installation can open.
        const string foreign = "CfDJ8AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        await App.WithDbAsync(db => db.TokenStates.ExecuteUpdateAsync(s => s
            .SetProperty(x => x.AccessTokenProtected, foreign).SetProperty(x => x.RefreshTokenProtected, foreign)));

        var details = await Browser.GetAsync($"/tokens/details/{id}");
        var refresh = await PostRefreshAsync(id);

        Assert.Equal(HttpStatusCode.OK, details.StatusCode);
        Assert.Contains("The stored tokens cannot be decrypted", await details.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("cannot be decrypted (it was written with another master key)", refresh, StringComparison.Ordinal);
        Assert.Equal(0, Idp.TokenRequestsByGrantType.GetValueOrDefault("refresh_token"));
    }
}
