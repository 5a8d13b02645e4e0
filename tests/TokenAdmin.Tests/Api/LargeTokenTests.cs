using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TokenAdmin.FunctionalAccounts;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Api;

/// <summary>
/// Tokens as large as Entra issues for users in many groups: the test provider puts 1000 group ids into the access
/// token and the ID token (each JWT about 55 KiB; the encrypted refresh token carries them too). They must come out of
/// the store, the token provider and the API exactly as the provider signed them.
/// </summary>
public sealed class LargeTokenTests : ApiTestBase
{
    private static readonly string[] Broker = ["broker"];
    private static readonly string[] Groups = [.. Enumerable.Range(0, 1000).Select(i => new Guid(i, 0, 0, new byte[8]).ToString())];

    private async Task<FunctionalAccount> BigAccountAsync()
    {
        Idp.AddUser(new TestUser("big-alice", "big-alice-password-1")
        {
            Claims = new Dictionary<string, string[]> { ["groups"] = Groups, ["email"] = ["big-alice@example.test"] },
        });
        var profile = await CreateApiProfileAsync();
        return await CreateAccountAsync(profile.Id, "big-account", a =>
        {
            a.GrantType = AccountGrantTypes.Password;
            a.Username = "big-alice";
            a.Password = "big-alice-password-1";
            a.Scope = "openid offline_access api";
            a.SharedThroughApi = true;
        });
    }

    private async Task<TokenValidationResult> ValidateAsync(string jwt) =>
        await new JsonWebTokenHandler().ValidateTokenAsync(jwt, new TokenValidationParameters
        {
            IssuerSigningKey = Idp.SigningCredentials.Key,
            ValidIssuer = Idp.Issuer.ToString(),
            ValidateAudience = false,
        });

    [Fact]
    public async Task AccessAndIdTokensOfAbout55KiB_RoundTripIntact_ThroughStoreTokenProviderAndApi()
    {
        var account = await BigAccountAsync();

        var token = await App.Services.GetRequiredService<ITokenProvider>().GetTokenAsync(TokenSource.Account(account.Id), default);

        Assert.InRange(token.Value.Length, 40 * 1024, 64 * 1024);
        var checkedToken = await ValidateAsync(token.Value);
        Assert.True(checkedToken.IsValid, checkedToken.Exception?.Message);
        Assert.Equal(Groups, ((JsonWebToken)checkedToken.SecurityToken).Claims.Where(c => c.Type == "groups").Select(c => c.Value));

        // What the pages show: the decoded claims, all groups included.
        var shown = JwtInspector.TryDecode(token.Value);
        Assert.NotNull(shown?.ExpiresAt);
        Assert.Contains(shown!.Claims, c => c.Value.Contains(Groups[^1], StringComparison.Ordinal));

        var state = await AccountStateAsync(account.Id);
        Assert.Equal(token.Value, Unprotect(state!.AccessTokenProtected!));
        var idToken = Unprotect(state.IdTokenProtected!);
        Assert.True(idToken.Length > 40 * 1024);
        Assert.True((await ValidateAsync(idToken)).IsValid);
        Assert.True(Unprotect(state.RefreshTokenProtected!).Length > 16 * 1024);

        var handedOut = await CallAsync(HttpMethod.Post, "/api/v1/functional-accounts/big-account/token", Mint(c => c["roles"] = Broker));
        Assert.Equal(HttpStatusCode.OK, handedOut.StatusCode);
        Assert.Equal(token.Value, (await JsonAsync(handedOut)).GetProperty("access_token").GetString());
    }

    [Fact]
    public async Task LargeRefreshToken_IsSentBackIntact_AndTheProviderAcceptsIt()
    {
        var account = await BigAccountAsync();
        await App.Services.GetRequiredService<ITokenProvider>().GetTokenAsync(TokenSource.Account(account.Id), default);
        var first = Unprotect((await AccountStateAsync(account.Id))!.AccessTokenProtected!);
        Idp.ResetCounters();

        var renewed = await RenewAsync(account.Id);

        Assert.True(renewed.Succeeded, renewed.Message);
        Assert.Equal(1, Idp.TokenRequestsByGrantType.GetValueOrDefault("refresh_token"));
        var second = Unprotect((await AccountStateAsync(account.Id))!.AccessTokenProtected!);
        Assert.NotEqual(first, second);
        Assert.True((await ValidateAsync(second)).IsValid);
        Assert.True(second.Length > 40 * 1024);
    }
}
