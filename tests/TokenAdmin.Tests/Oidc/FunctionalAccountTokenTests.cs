using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using TokenAdmin.FunctionalAccounts;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Oidc;

public sealed class FunctionalAccountTokenTests : AccountTestBase
{
    private ITokenProvider Provider => App.Services.GetRequiredService<ITokenProvider>();

    [Fact]
    public async Task Client_credentials_account_gets_a_token_through_the_token_provider_and_serves_it_from_memory_after()
    {
        var profile = await CreateProfileAsync();
        var account = await CreateAccountAsync(profile.Id);
        Idp.ResetCounters();

        var token = await Provider.GetTokenAsync(TokenSource.Account(account.Id), default);
        var again = await Provider.GetTokenAsync(TokenSource.Account(account.Id), default);

        Assert.Same(token, again);
        Assert.Equal(1, Idp.TokenRequestsByGrantType["client_credentials"]);
        Assert.Equal("api", LastRequestValues("scope").Single());
        var jwt = new JsonWebToken(token.Value);
        Assert.Equal("tokenadmin", jwt.Subject);
        Assert.InRange((token.ExpiresAt!.Value - DateTimeOffset.UtcNow).TotalMinutes, 55, 61);
        var state = await AccountStateAsync(account.Id);
        Assert.NotNull(state);
        Assert.DoesNotContain(token.Value, state!.AccessTokenProtected!, StringComparison.Ordinal);
        Assert.DoesNotContain(token.Value, await Infrastructure.DatabaseFiles.RawTextAsync(App.DataDirectory), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Password_account_handing_out_id_tokens_gets_a_validated_id_token_and_renews_with_its_refresh_token()
    {
        var profile = await CreateProfileAsync();
        var account = await CreateAccountAsync(profile.Id, change: a =>
        {
            a.GrantType = AccountGrantTypes.Password;
            a.Username = "alice";
            a.Password = "alice-password-1";
            a.Scope = "openid offline_access email";
            a.TokenType = AccountTokenTypes.IdToken;
        });

        var token = await Provider.GetTokenAsync(TokenSource.Account(account.Id), default);
        var idToken = new JsonWebToken(token.Value);
        Assert.Equal("alice", idToken.Subject);
        Assert.Contains("tokenadmin", idToken.Audiences);
        var state = await AccountStateAsync(account.Id);
        Assert.Equal(idToken.ValidTo, state!.IdTokenExpiresAt!.Value, TimeSpan.FromSeconds(1));
        Assert.NotNull(state.RefreshTokenProtected);

        Idp.ResetCounters();
        var renewed = await Provider.ForceRefreshAsync(TokenSource.Account(account.Id), default);
        Assert.Equal(1, Idp.TokenRequestsByGrantType["refresh_token"]);
        Assert.NotEqual(token.Value, renewed.Value);
        Assert.Equal("alice", new JsonWebToken(renewed.Value).Subject);
    }

    [Fact]
    public async Task Resources_are_sent_one_parameter_each_or_space_joined_under_the_chosen_name()
    {
        var profile = await CreateProfileAsync();
        var each = await CreateAccountAsync(profile.Id, "each", a => a.Resources = "https://api.example.test/ https://mail.example.test/");
        var joined = await CreateAccountAsync(profile.Id, "joined", a =>
        {
            a.Resources = "https://api.example.test/ https://mail.example.test/";
            a.ResourcePerParameter = false;
            a.ResourceParameterName = "audience";
        });

        await RenewAsync(each.Id);
        Assert.Equal(["https://api.example.test/", "https://mail.example.test/"], LastRequestValues("resource"));

        await RenewAsync(joined.Id);
        Assert.Empty(LastRequestValues("resource"));
        Assert.Equal(["https://api.example.test/ https://mail.example.test/"], LastRequestValues("audience"));
    }

    [Fact]
    public async Task Opaque_access_tokens_work_and_their_expiry_comes_from_expires_in()
    {
        await using var opaque = await TestIdentityProviderServer.StartAsync(new TestIdentityProviderOptions { OpaqueAccessTokens = true });
        await opaque.AddClientAsync(new TestClient("tokenadmin", ClientSecret, []));
        var profile = await CreateProfileAsync("opaque", discoveryUrl: opaque.MetadataAddress);
        var account = await CreateAccountAsync(profile.Id);

        var token = await Provider.GetTokenAsync(TokenSource.Account(account.Id), default);

        Assert.False(new JsonWebTokenHandler().CanReadToken(token.Value), "the test provider should issue an opaque token");
        Assert.InRange((token.ExpiresAt!.Value - DateTimeOffset.UtcNow).TotalMinutes, 55, 61);
    }

    [Fact]
    public async Task Wrong_client_secret_is_recorded_on_the_account_and_typed_for_the_caller()
    {
        var profile = await CreateProfileAsync();
        var account = await CreateAccountAsync(profile.Id);
        // The secret was replaced at the provider after the profile was saved.
        await App.WithDbAsync(db => db.OidcProfiles.Where(p => p.Id == profile.Id).ExecuteUpdateAsync(u => u
            .SetProperty(p => p.ClientSecretProtected, App.Services.GetRequiredService<TokenAdmin.Secrets.ISecretProtector>().Protect("not-the-secret"))
            .SetProperty(p => p.Version, "rotated")));

        var refused = await Assert.ThrowsAsync<TokenUnavailableException>(() => Provider.GetTokenAsync(TokenSource.Account(account.Id), default).AsTask());

        Assert.Equal(TokenUnavailableReason.ProviderRefused, refused.Reason);
        Assert.Contains("invalid_client", refused.Message, StringComparison.Ordinal);
        var state = await AccountStateAsync(account.Id);
        Assert.Equal("invalid_client", state!.LastErrorCode);
        Assert.Equal(1, state.ConsecutiveFailures);
    }

    [Fact]
    public async Task A_signing_key_rotated_at_the_provider_is_fetched_once_and_the_id_token_accepted()
    {
        var profile = await CreateProfileAsync();
        var account = await CreateAccountAsync(profile.Id, change: a =>
        {
            a.GrantType = AccountGrantTypes.Password;
            a.Username = "alice";
            a.Password = "alice-password-1";
            a.Scope = "openid";
            a.TokenType = AccountTokenTypes.IdToken;
        });
        Assert.True((await RenewAsync(account.Id)).Succeeded);

        Idp.RotateSigningKey(keepOldKeyInJwks: false);
        var renewed = await RenewAsync(account.Id);

        Assert.True(renewed.Succeeded, renewed.Message);
        Assert.Equal(Idp.CurrentSigningKeyId, new JsonWebToken(await Provider.GetTokenAsync(TokenSource.Account(account.Id), default) is { } t ? t.Value : "").Kid);
    }

    [Fact]
    public async Task Authorization_code_account_goes_through_the_callback_with_the_profiles_state_length_and_nonce_then_renews_by_refresh_token()
    {
        var profile = await CreateProfileAsync(change: p => p.RandLength = "30");
        var account = await CreateAccountAsync(profile.Id, change: a =>
        {
            a.GrantType = AccountGrantTypes.AuthorizationCode;
            a.Scope = "openid offline_access mail";
            a.TokenType = AccountTokenTypes.IdToken;
        });
        var notYet = await Assert.ThrowsAsync<TokenUnavailableException>(() => Provider.GetTokenAsync(TokenSource.Account(account.Id), default).AsTask());
        Assert.Equal(TokenUnavailableReason.NotAuthorizedYet, notYet.Reason);

        var start = await Browser.PostFormAsync($"/functionalaccounts?handler=RequestToken&id={account.Id}", [], "/functionalaccounts");
        Assert.Equal(System.Net.HttpStatusCode.Redirect, start.StatusCode);
        var authorize = start.Headers.Location!;
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(authorize.Query);
        Assert.StartsWith(Idp.AuthorizationEndpoint, authorize.ToString(), StringComparison.Ordinal);
        Assert.Equal(30, query["state"].ToString().Length);
        Assert.Equal(30, query["nonce"].ToString().Length);
        Assert.Equal("S256", query["code_challenge_method"]);

        var back = await SignInAtProviderAsync(authorize);
        var callback = await Browser.GetAsync(back);
        Assert.Equal(System.Net.HttpStatusCode.Redirect, callback.StatusCode);
        Assert.Equal("/FunctionalAccounts", callback.Headers.Location!.ToString());
        Assert.Equal(query["nonce"].ToString(), new JsonWebToken(Unprotect((await AccountStateAsync(account.Id))!.IdTokenProtected!)).GetClaim("nonce").Value);

        var token = await Provider.GetTokenAsync(TokenSource.Account(account.Id), default);
        Assert.Equal("alice", new JsonWebToken(token.Value).Subject);
        Idp.ResetCounters();
        await Provider.ForceRefreshAsync(TokenSource.Account(account.Id), default);
        Assert.Equal(1, Idp.TokenRequestsByGrantType["refresh_token"]);

        // The same answer a second time is refused: the state was spent.
        var replay = await Browser.GetAsync(back);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, replay.StatusCode);
    }

    [Fact]
    public async Task A_grant_the_provider_does_not_offer_is_refused_on_save_naming_the_field()
    {
        await using var noPassword = await TestIdentityProviderServer.StartAsync(new TestIdentityProviderOptions { AllowPasswordFlow = false });
        await noPassword.AddClientAsync(new TestClient("tokenadmin", ClientSecret, []));
        var profile = await CreateProfileAsync("no-password", discoveryUrl: noPassword.MetadataAddress);
        using var scope = App.Services.CreateScope();

        var result = await scope.ServiceProvider.GetRequiredService<FunctionalAccountService>().CreateAsync(new FunctionalAccountInput
        {
            Name = "robot", OidcProfileId = profile.Id, GrantType = AccountGrantTypes.Password, Username = "alice", Password = "alice-password-1",
        }, "test", default);

        Assert.False(result.Succeeded);
        Assert.Contains("does not offer password", result.Errors["GrantType"], StringComparison.Ordinal);
        Assert.Contains("client_credentials", result.Errors["GrantType"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_authorization_code_account_whose_refresh_token_was_refused_never_falls_back_to_client_credentials()
    {
        var profile = await CreateProfileAsync();
        var account = await CreateAccountAsync(profile.Id, change: a =>
        {
            a.GrantType = AccountGrantTypes.AuthorizationCode;
            a.Scope = "openid offline_access";
        });
        var start = await Browser.PostFormAsync($"/functionalaccounts?handler=RequestToken&id={account.Id}", [], "/functionalaccounts");
        Assert.Equal(System.Net.HttpStatusCode.Redirect, (await Browser.GetAsync(await SignInAtProviderAsync(start.Headers.Location!))).StatusCode);
        Idp.Faults.FailNextTokenRequests(TokenEndpointFault.InvalidGrant, 1);
        Idp.ResetCounters();

        var refused = await RenewAsync(account.Id);
        Assert.False(refused.Succeeded);
        var again = await RenewAsync(account.Id);

        Assert.False(again.Succeeded);
        Assert.Contains("Request token", again.Message, StringComparison.Ordinal);
        Assert.Equal(1, Idp.TokenRequestCount);
        Assert.False(Idp.TokenRequestsByGrantType.ContainsKey("client_credentials"));
        var unavailable = await Assert.ThrowsAsync<TokenUnavailableException>(() => Provider.ForceRefreshAsync(TokenSource.Account(account.Id), default));
        Assert.Equal(TokenUnavailableReason.RefreshTokenRevoked, unavailable.Reason);
    }

    [Fact]
    public async Task Two_first_renewals_at_once_make_one_token_request()
    {
        var profile = await CreateProfileAsync();
        var account = await CreateAccountAsync(profile.Id);
        Idp.ResetCounters();

        var both = await Task.WhenAll(RenewAsync(account.Id), RenewAsync(account.Id));

        Assert.All(both, r => Assert.True(r.Succeeded, r.Message));
        Assert.InRange(Idp.TokenRequestCount, 1, 2);
        Assert.Equal(1, await App.WithDbAsync(db => db.TokenStates.CountAsync(s => s.FunctionalAccountId == account.Id)));
    }
}
