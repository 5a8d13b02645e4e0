using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.WebServices.Api;

namespace TokenAdmin.Tests.Api;

/// <summary>
/// Microsoft Entra issuer forms. The test IdP's discovery document names Entra's multi-tenant issuer template; the
/// tokens are signed with the test IdP's published key and carry Entra's issuers and claims.
/// </summary>
public sealed class AzureTokenTests : ApiTestBase
{
    private const string Tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    private const string ClientId = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
    private static readonly string[] ReadPermission = ["Tokens.Read"];
    private static readonly string[] OtherPermission = ["Other.Permission"];

    private async Task AzureProfileAsync(string advertisedIssuer)
    {
        Idp.Faults.AdvertisedIssuer = advertisedIssuer;
        await CreateApiProfileAsync(p =>
        {
            p.RestrictAudience = $"{ClientId}\napi://{ClientId}";
            p.RestrictScope = "Tokens.Read";
            p.RoleMapYaml = "roles:\n  Tokens.Read: tokens.read";
            p.UidClaim = "oid";
            p.RestrictAuthorizedParty = "caller-app";
        });
    }

    [Fact]
    public async Task MultiTenantTemplate_NeedsARestriction_ToAcceptTokens()
    {
        Idp.Faults.AdvertisedIssuer = "https://login.microsoftonline.com/{tenantid}/v2.0";
        using var scope = App.Services.CreateScope();
        var service = scope.ServiceProvider.GetRequiredService<TokenAdmin.Oidc.OidcProfileService>();
        var input = new TokenAdmin.Oidc.OidcProfileInput
        {
            Name = "entra", DiscoveryUrl = Idp.MetadataAddress, ClientId = "tokenadmin", ClientSecret = ClientSecret,
            AcceptIncomingTokens = true, RestrictAudience = ClientId, UidClaim = "oid",
        };

        var refused = await service.CreateAsync(input, "test", default);
        input.RestrictUserLogin = "0c4c2a66-7b1e-4d8b-9f4a-5e0c39c3a1aa";
        var restricted = await service.CreateAsync(input, "test", default);

        Assert.False(refused.Succeeded);
        Assert.Contains("{tenantid}", refused.Errors["RestrictAuthorizedParty"], StringComparison.Ordinal);
        Assert.True(restricted.Succeeded, string.Join("; ", restricted.Errors.Values));
    }

    private string AzureToken(string issuer, string audience, string? tenant = Tenant, Action<Dictionary<string, object>>? change = null) => Mint(c =>
    {
        c["iss"] = issuer;
        c["aud"] = audience;
        c["oid"] = "0c4c2a66-7b1e-4d8b-9f4a-5e0c39c3a1aa";
        c["roles"] = ReadPermission;
        c.Remove("scope");
        if (tenant is not null)
        {
            c["tid"] = tenant;
        }

        change?.Invoke(c);
    });

    [Fact]
    public async Task MultiTenantTemplate_AcceptsV2AndV1Issuers_WithClientIdOrAppIdUri()
    {
        await AzureProfileAsync("https://login.microsoftonline.com/{tenantid}/v2.0");

        var v2 = await GetTokensAsync(AzureToken($"https://login.microsoftonline.com/{Tenant}/v2.0", ClientId));
        var v1 = await GetTokensAsync(AzureToken($"https://sts.windows.net/{Tenant}/", $"api://{ClientId}"));

        Assert.Equal(HttpStatusCode.OK, v2.StatusCode);
        Assert.Equal(HttpStatusCode.OK, v1.StatusCode);
    }

    [Fact]
    public async Task SingleTenantV2Document_AcceptsItsV1Issuer_ButNoOtherTenant()
    {
        await AzureProfileAsync($"https://login.microsoftonline.com/{Tenant}/v2.0");
        const string otherTenant = "11111111-2222-3333-4444-555555555555";

        var v1 = await GetTokensAsync(AzureToken($"https://sts.windows.net/{Tenant}/", ClientId));
        var otherV2 = await GetTokensAsync(AzureToken($"https://login.microsoftonline.com/{otherTenant}/v2.0", ClientId, otherTenant));
        var tidMismatch = await GetTokensAsync(AzureToken($"https://sts.windows.net/{otherTenant}/", ClientId));

        Assert.Equal(HttpStatusCode.OK, v1.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, otherV2.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, tidMismatch.StatusCode);
    }

    [Fact]
    public async Task TemplateIsNeverFilledWithoutAGuidTid()
    {
        await AzureProfileAsync("https://login.microsoftonline.com/{tenantid}/v2.0");

        var noTid = await GetTokensAsync(AzureToken($"https://login.microsoftonline.com/{Tenant}/v2.0", ClientId, tenant: null));
        var crafted = await GetTokensAsync(AzureToken("https://login.microsoftonline.com/evil/v2.0", ClientId, tenant: "evil"));

        Assert.Equal(HttpStatusCode.Unauthorized, noTid.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, crafted.StatusCode);
    }

    [Fact]
    public async Task ApplicationPermissionsInRoles_SatisfyTheScopeRestriction_ScpToo()
    {
        await AzureProfileAsync("https://login.microsoftonline.com/{tenantid}/v2.0");
        var issuer = $"https://login.microsoftonline.com/{Tenant}/v2.0";

        var delegated = await GetTokensAsync(AzureToken(issuer, ClientId, change: c => { c["scp"] = "Tokens.Read User.Read"; c["roles"] = ReadPermission; }));
        var neither = await GetTokensAsync(AzureToken(issuer, ClientId, change: c => c["roles"] = OtherPermission));

        Assert.Equal(HttpStatusCode.OK, delegated.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, neither.StatusCode);
        Assert.Contains("insufficient_scope", Challenge(neither), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GraphAccessToken_IsRefused_WithTheReason()
    {
        await AzureProfileAsync("https://login.microsoftonline.com/{tenantid}/v2.0");
        var graph = AzureToken($"https://sts.windows.net/{Tenant}/", "00000003-0000-0000-c000-000000000000");
        var withNonce = Idp.MintToken(new Dictionary<string, object>
        {
            ["iss"] = $"https://sts.windows.net/{Tenant}/", ["aud"] = "https://graph.microsoft.com", ["tid"] = Tenant,
            ["exp"] = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds(),
        }, new Dictionary<string, object> { ["nonce"] = "AQABAAAAAAD--DLA3VO7QrddgJg7WevrX" });

        var response = await GetTokensAsync(withNonce);
        var wrongAudience = await GetTokensAsync(graph);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("Microsoft Graph", Challenge(response), StringComparison.Ordinal);
        Assert.Contains("cannot be validated by any other API", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongAudience.StatusCode);
    }

    [Theory]
    [InlineData("https://login.microsoftonline.com/{tenantid}/v2.0", "https://login.microsoftonline.com/" + Tenant + "/v2.0", Tenant, true)]
    [InlineData("https://login.microsoftonline.com/{tenantid}/v2.0", "https://sts.windows.net/" + Tenant + "/", Tenant, true)]
    [InlineData("https://login.microsoftonline.com/" + Tenant + "/v2.0", "https://sts.windows.net/" + Tenant + "/", Tenant, true)]
    [InlineData("https://login.microsoftonline.com/" + Tenant + "/v2.0", "https://sts.windows.net/" + Tenant + "/", "11111111-2222-3333-4444-555555555555", false)]
    [InlineData("https://login.microsoftonline.com/{tenantid}/v2.0", "https://login.microsoftonline.com/common/v2.0", "common", false)]
    [InlineData("http://127.0.0.1:5081/", "http://127.0.0.1:5081/", null, true)]
    [InlineData("http://127.0.0.1:5081/", "http://127.0.0.1:5081", null, false)]
    public void IssuerForms_MatchAsDocumented(string profileIssuer, string tokenIssuer, string? tid, bool matches) =>
        Assert.Equal(matches, AzureIssuers.Matches(profileIssuer, tokenIssuer, tid));
}
