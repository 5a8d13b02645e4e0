using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;
using TokenAdmin.Oidc;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Oidc;

namespace TokenAdmin.Tests.Api;

/// <summary>
/// The app, the test IdP and an OIDC profile "api-idp" that accepts incoming tokens (audience tokenadmin-api, API
/// users created through a RoleMap on the roles claim). Tokens are minted with the test IdP's own signing key
/// (<see cref="TestIdentityProviderServer.MintToken"/>) or issued by it for real.
/// </summary>
public abstract class ApiTestBase : AccountTestBase
{
    protected const string Audience = "tokenadmin-api";

    protected const string RoleMap = """
        roles:
          reader: tokens.read
          refresher: tokens.refresh
          broker: tokens.broker
          invoker: webservices.invoke
        """;

    protected HttpClient Api { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Api = App.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
    }

    public override async Task DisposeAsync()
    {
        Api.Dispose();
        await base.DisposeAsync();
    }

    /// <summary>The profile API tokens are checked against, with <paramref name="change"/> applied to its form.</summary>
    protected Task<OidcProfile> CreateApiProfileAsync(Action<OidcProfileInput>? change = null, string name = "api-idp", string? discoveryUrl = null) =>
        CreateProfileAsync(name, input =>
        {
            input.AcceptIncomingTokens = true;
            input.CreateApiUsers = true;
            input.RestrictAudience = Audience;
            input.RoleMapYaml = RoleMap;
            input.UserMapYaml = "email: email";
            change?.Invoke(input);
        }, discoveryUrl);

    /// <summary>The claims of a good token for user "robot" with the reader role; change them per case.</summary>
    protected Dictionary<string, object> Claims(string user = "robot", params string[] roles)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return new Dictionary<string, object>
        {
            ["iss"] = Idp.Issuer.AbsoluteUri,
            ["aud"] = Audience,
            ["sub"] = user,
            ["iat"] = now,
            ["nbf"] = now,
            ["exp"] = now + 600,
            ["scope"] = "api",
            ["azp"] = "caller-app",
            ["email"] = user + "@example.test",
            ["roles"] = roles.Length == 0 ? ["reader"] : roles,
        };
    }

    protected string Mint(Action<Dictionary<string, object>>? change = null, IDictionary<string, object>? header = null, SigningCredentials? credentials = null, TestIdentityProviderServer? idp = null)
    {
        var claims = Claims();
        change?.Invoke(claims);
        return (idp ?? Idp).MintToken(claims, header, credentials);
    }

    protected static SigningCredentials ForeignKey(string kid)
    {
        var rsa = RSA.Create(2048);
        return new SigningCredentials(new RsaSecurityKey(rsa) { KeyId = kid }, SecurityAlgorithms.RsaSha256);
    }

    /// <summary>An unsigned token (alg none) with the given payload.</summary>
    protected static string UnsignedToken(Dictionary<string, object> claims) =>
        Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""") + "." + Base64UrlEncoder.Encode(JsonSerializer.Serialize(claims)) + ".";

    protected async Task<HttpResponseMessage> CallAsync(HttpMethod method, string path, string? token, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await Api.SendAsync(request);
    }

    protected Task<HttpResponseMessage> GetTokensAsync(string? token) => CallAsync(HttpMethod.Get, "/api/v1/tokens", token);

    protected static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    /// <summary>The WWW-Authenticate header as one string ("" when absent).</summary>
    protected static string Challenge(HttpResponseMessage response) =>
        response.Headers.WwwAuthenticate.Count == 0 ? "" : string.Join(", ", response.Headers.WwwAuthenticate.Select(h => h.ToString()));

    protected static string Utf8(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
