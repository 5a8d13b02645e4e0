using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.FunctionalAccounts;
using TokenAdmin.Refresh;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tests.Oidc;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Tokens;

/// <summary>
/// The behaviours in which token configs and functional accounts once drifted apart, each run once for each kind of
/// source against the same scripted provider: after configuration both are one engine.
/// </summary>
public sealed class OneEngineTests : AccountTestBase
{
    private ScriptedTokenEndpoint _provider = null!;

    public override async Task InitializeAsync()
    {
        // Scheduled updater runs would send requests of their own to the scripted provider.
        App.Settings["TokenAdmin:TokenStoreUpdater:Enabled"] = "false";
        await base.InitializeAsync();
        _provider = await ScriptedTokenEndpoint.StartAsync();
    }

    public override async Task DisposeAsync()
    {
        await _provider.DisposeAsync();
        await base.DisposeAsync();
    }

    [Theory]
    [InlineData(TokenSourceKind.TokenConfig)]
    [InlineData(TokenSourceKind.FunctionalAccount)]
    public async Task IdToken_SignedWithAnotherKey_IsRefused_ButTheRotatedRefreshTokenIsKept(TokenSourceKind kind)
    {
        var source = await PasswordSourceAsync(kind);
        _provider.Answer(200, Answer("second-access", "second-refresh", _provider.IdToken("tokenadmin", forged: true)));

        var result = await RenewAsync(source);

        Assert.False(result.Succeeded);
        Assert.Equal("invalid_id_token", result.Failure!.Code);
        Assert.Contains("signature", result.Message, StringComparison.Ordinal);
        var state = await SourceStateAsync(source);
        Assert.Null(state.IdTokenProtected);
        Assert.Equal("second-refresh", Unprotect(state.RefreshTokenProtected!));
        Assert.Equal("invalid_id_token", state.LastErrorCode);
        Assert.Equal(1, state.ConsecutiveFailures);
    }

    [Theory]
    [InlineData(TokenSourceKind.TokenConfig)]
    [InlineData(TokenSourceKind.FunctionalAccount)]
    public async Task IdToken_OfAnotherClient_IsRefused(TokenSourceKind kind)
    {
        var source = await PasswordSourceAsync(kind);
        _provider.Answer(200, Answer("second-access", "second-refresh", _provider.IdToken("someone-else")));

        var result = await RenewAsync(source);

        Assert.False(result.Succeeded);
        Assert.Contains("audience", result.Message, StringComparison.Ordinal);
        Assert.Null((await SourceStateAsync(source)).IdTokenProtected);
    }

    [Theory]
    [InlineData(TokenSourceKind.TokenConfig)]
    [InlineData(TokenSourceKind.FunctionalAccount)]
    public async Task IdToken_SignedByTheProvider_IsKeptWithItsExpiry(TokenSourceKind kind)
    {
        var source = await PasswordSourceAsync(kind);
        var idToken = _provider.IdToken("tokenadmin", lifetime: TimeSpan.FromMinutes(30));
        _provider.Answer(200, Answer("second-access", "second-refresh", idToken));

        var result = await RenewAsync(source);

        Assert.True(result.Succeeded, result.Message);
        var state = await SourceStateAsync(source);
        Assert.Equal(idToken, Unprotect(state.IdTokenProtected!));
        Assert.Equal(DateTime.UtcNow.AddMinutes(30), state.IdTokenExpiresAt!.Value, TimeSpan.FromMinutes(1));
    }

    [Theory]
    [InlineData(TokenSourceKind.TokenConfig)]
    [InlineData(TokenSourceKind.FunctionalAccount)]
    public async Task RefreshTokenLifetime_IsAssumed_AndSlidesWithEachUse(TokenSourceKind kind)
    {
        var source = await PasswordSourceAsync(kind, lifetimeDays: 90, sliding: true);
        var first = await SourceStateAsync(source);
        Assert.True(first.RefreshTokenExpiryEstimated);
        Assert.Equal(first.LastRefreshAt!.Value.AddDays(90), first.RefreshTokenExpiresAt);

        _provider.Answer(200, Answer("second-access", refreshToken: null));
        var result = await RenewAsync(source);

        Assert.True(result.Succeeded, result.Message);
        var second = await SourceStateAsync(source);
        Assert.Equal("first-refresh", Unprotect(second.RefreshTokenProtected!));
        Assert.Equal(second.LastRefreshAt!.Value.AddDays(90), second.RefreshTokenExpiresAt);
        Assert.True(second.RefreshTokenExpiresAt > first.RefreshTokenExpiresAt);
    }

    [Theory]
    [InlineData(TokenSourceKind.TokenConfig)]
    [InlineData(TokenSourceKind.FunctionalAccount)]
    public async Task RefusedRefreshToken_IsForgotten_AndTheSourceStartsAfreshAtOnce(TokenSourceKind kind)
    {
        var source = await PasswordSourceAsync(kind);
        _provider.Answer(400, """{"error":"invalid_grant","error_description":"refresh token revoked"}""");
        _provider.Answer(200, Answer("fresh-access", refreshToken: null));

        var result = await RenewAsync(source);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal(["refresh_token", "password"], _provider.Requests.Select(r => r["grant_type"]));
        var state = await SourceStateAsync(source);
        Assert.Equal("fresh-access", Unprotect(state.AccessTokenProtected!));
        Assert.Null(state.RefreshTokenProtected);
        Assert.Null(state.RefreshTokenRevokedAt);
        Assert.Equal(0, state.ConsecutiveFailures);
    }

    [Theory]
    [InlineData(TokenSourceKind.TokenConfig)]
    [InlineData(TokenSourceKind.FunctionalAccount)]
    public async Task Updater_RefreshesTheSourceInABatch(TokenSourceKind kind)
    {
        var source = await PasswordSourceAsync(kind, firstExpiresIn: 60);
        _provider.Answer(200, Answer("second-access", "second-refresh"));

        UpdaterRunSummary summary;
        using (var scope = App.Services.CreateScope())
        {
            summary = await scope.ServiceProvider.GetRequiredService<TokenStoreUpdater>().RunAsync("test", default);
        }

        Assert.Single(summary.Refreshed);
        Assert.Empty(summary.Failed);
        Assert.Equal("second-refresh", Unprotect((await SourceStateAsync(source)).RefreshTokenProtected!));
        // The batch path records its refreshes as the updater's; the one-by-one path goes through the token provider.
        var audit = await App.WithDbAsync(db => db.AuditEntries.AsNoTracking().Where(a => a.Target == "scripted").OrderBy(a => a.Id).ToListAsync());
        Assert.Equal("token-store-updater", audit[^1].Actor);
    }

    [Theory]
    [InlineData(TokenSourceKind.TokenConfig)]
    [InlineData(TokenSourceKind.FunctionalAccount)]
    public async Task Callback_WithoutIss_IsRefused_WhenTheProviderAnnouncesIt(TokenSourceKind kind)
    {
        Uri authorize;
        if (kind == TokenSourceKind.TokenConfig)
        {
            authorize = await StartAuthorizationAsync(await CreateConfigAsync("browser"));
        }
        else
        {
            var profile = await CreateProfileAsync();
            var account = await CreateAccountAsync(profile.Id, "browser", a => { a.GrantType = AccountGrantTypes.AuthorizationCode; a.Scope = "openid offline_access mail"; });
            var start = await Browser.PostFormAsync($"/functionalaccounts?handler=RequestToken&id={account.Id}", [], "/functionalaccounts");
            authorize = start.Headers.Location!;
        }

        var back = await SignInAtProviderAsync(authorize);
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri("http://localhost" + back).Query);
        Assert.False(string.IsNullOrEmpty(query["iss"]), "the test provider sends iss (RFC 9207) and announces it in its metadata");
        var withoutIss = Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString("/oauth2/callback",
            query.Where(q => q.Key != "iss").Select(q => new KeyValuePair<string, string?>(q.Key, q.Value.ToString())));

        var callback = await Browser.GetAsync(withoutIss);

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, callback.StatusCode);
        Assert.Contains("RFC 9207", System.Net.WebUtility.HtmlDecode(await callback.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        Assert.Equal(0, Idp.TokenRequestsByGrantType.GetValueOrDefault("authorization_code"));
    }

    /// <summary>A password-grant source of <paramref name="kind"/> at the scripted provider that holds a first refresh token.</summary>
    private async Task<TokenSource> PasswordSourceAsync(TokenSourceKind kind, int? lifetimeDays = null, bool sliding = false, int firstExpiresIn = 3600)
    {
        TokenSource source;
        if (kind == TokenSourceKind.TokenConfig)
        {
            var id = await CreateConfigAsync("scripted", TokenFlows.Password, d =>
            {
                d.Issuer = _provider.Issuer;
                d.Endpoints.Token = _provider.Url;
                d.Scope = "openid mail";
                d.RefreshToken.LifetimeDays = lifetimeDays;
                d.RefreshToken.Sliding = sliding;
            }, password: "robot-password");
            source = TokenSource.Config(id);
        }
        else
        {
            var profile = await CreateProfileAsync("scripted", discoveryUrl: _provider.MetadataAddress);
            var account = await CreateAccountAsync(profile.Id, "scripted", a =>
            {
                a.GrantType = AccountGrantTypes.Password;
                a.Username = "alice";
                a.Password = "robot-password";
                a.Scope = "openid mail";
                a.RefreshTokenLifetimeDays = lifetimeDays;
                a.RefreshTokenSliding = sliding;
            });
            source = TokenSource.Account(account.Id);
        }

        _provider.Answer(200, Answer("first-access", "first-refresh", expiresIn: firstExpiresIn));
        using var scope = App.Services.CreateScope();
        var first = await scope.ServiceProvider.GetRequiredService<TokenEngine>().RequestAsync(source, "test", default);
        Assert.True(first.Succeeded, first.Message);
        Assert.Equal("password", _provider.Requests.Last()["grant_type"]);
        // What the tests look at comes after this (a new profile's Test probes the token endpoint too).
        _provider.Requests.Clear();
        return source;
    }

    private static string Answer(string accessToken, string? refreshToken, string? idToken = null, int expiresIn = 3600) =>
        System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["access_token"] = accessToken,
            ["token_type"] = "Bearer",
            ["expires_in"] = expiresIn,
            ["refresh_token"] = refreshToken,
            ["id_token"] = idToken,
        }.Where(p => p.Value is not null).ToDictionary());

    private async Task<TokenOperationResult> RenewAsync(TokenSource source)
    {
        using var scope = App.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<TokenEngine>().RenewAsync(source, "test", default);
    }

    private async Task<TokenState> SourceStateAsync(TokenSource source) =>
        await App.WithDbAsync(db => db.TokenStates.AsNoTracking().SingleAsync(s =>
            source.Kind == TokenSourceKind.TokenConfig ? s.TokenConfigId == source.Id : s.FunctionalAccountId == source.Id));
}
