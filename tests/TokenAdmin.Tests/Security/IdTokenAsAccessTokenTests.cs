using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Oidc;
using TokenAdmin.Tests.Api;

namespace TokenAdmin.Tests.Security;

/// <summary>
/// Issue 17, item 5: an ID token is never an API access token: not by its typ, not by its shape, and not because an
/// empty "Restrict: Audience" made the profile accept its client id (an ID token's audience).
/// </summary>
public sealed class IdTokenAsAccessTokenTests : ApiTestBase
{
    [Fact]
    public async Task Profile_AcceptingIncomingTokens_WithoutAudience_IsRefused()
    {
        using var scope = App.Services.CreateScope();
        var input = new OidcProfileInput
        {
            Name = "no-audience",
            DiscoveryUrl = Idp.MetadataAddress,
            ClientId = "tokenadmin",
            ClientSecret = ClientSecret,
            AcceptIncomingTokens = true,
            RestrictAudience = "",
        };

        var result = await scope.ServiceProvider.GetRequiredService<OidcProfileService>().CreateAsync(input, "test", default);

        Assert.False(result.Succeeded);
        Assert.Contains("required", result.Errors[nameof(OidcProfileInput.RestrictAudience)], StringComparison.Ordinal);
        Assert.Equal(0, await App.WithDbAsync(db => db.OidcProfiles.CountAsync()));
    }

    [Fact]
    public async Task Token_ForTheClientId_IsRefused_WhenAnOlderProfileHasNoAudience()
    {
        var profile = await CreateApiProfileAsync();
        // A profile saved before the audience became required.
        await App.WithDbAsync(db => db.OidcProfiles.Where(p => p.Id == profile.Id).ExecuteUpdateAsync(s => s.SetProperty(p => p.RestrictAudience, (string?)null)));
        App.Services.GetRequiredService<OidcProfileRuntime>().ProfilesChanged();

        var forClient = await GetTokensAsync(Mint(c => c["aud"] = profile.ClientId));
        var forAppIdUri = await GetTokensAsync(Mint(c => c["aud"] = "api://" + profile.ClientId));

        Assert.Equal(HttpStatusCode.Unauthorized, forClient.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, forAppIdUri.StatusCode);
        Assert.Contains("Restrict: Audience", Challenge(forClient), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_WithIdTokenShape_IsRefused_EvenWithoutNonceOrAtHash()
    {
        await CreateApiProfileAsync();

        // Issued to the very client it is meant for (azp is its only audience): an ID token's shape.
        var selfAudience = await GetTokensAsync(Mint(c => c["azp"] = Audience));
        var typId = await GetTokensAsync(Mint(header: new Dictionary<string, object> { ["typ"] = "id_token+jwt" }));
        var signInOnly = await GetTokensAsync(Mint(c =>
        {
            c.Remove("scope");
            c.Remove("azp");
            c["auth_time"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        }));
        var declaredAccessToken = await GetTokensAsync(Mint(c => c["auth_time"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            header: new Dictionary<string, object> { ["typ"] = "at+jwt" }));

        foreach (var refused in new[] { selfAudience, typId, signInOnly })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Contains("ID token", Challenge(refused), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.OK, declaredAccessToken.StatusCode);
    }

    [Fact]
    public async Task ProfilePage_SaysTheAudienceIsRequired()
    {
        var browser = await App.SignedInBrowserAsync("carol");

        var page = await browser.GetStringAsync("/oidcprofiles/edit");

        Assert.Contains("Required to accept incoming tokens", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Empty means the client ID", page, StringComparison.Ordinal);
    }
}
