using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace TokenAdmin.Tests.Infrastructure;

/// <summary>
/// A real HTTP token endpoint on loopback that answers what the test scripts, for provider behaviour the test
/// identity provider does not show (a refresh response without refresh_token, odd bodies). It is also a minimal
/// OpenID provider (discovery at <see cref="Issuer"/>/.well-known/openid-configuration, JWKS), so OIDC profiles can
/// use it and ID tokens signed with its key (<see cref="IdToken"/>) or another (<c>forged: true</c>) can be scripted.
/// </summary>
public sealed class ScriptedTokenEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<(int Status, string Body)> _answers = new();

    private ScriptedTokenEndpoint(WebApplication app) => _app = app;

    private static readonly string[] Code = ["code"];
    private static readonly string[] Public = ["public"];
    private static readonly string[] Rs256 = ["RS256"];
    private static readonly string[] Grants = ["authorization_code", "refresh_token", "client_credentials", "password"];
    private static readonly RsaSecurityKey SigningKey = new(RSA.Create(2048)) { KeyId = "scripted-key" };
    private static readonly RsaSecurityKey ForgeryKey = new(RSA.Create(2048)) { KeyId = "scripted-key" };

    public string Url { get; private set; } = "";

    /// <summary>The issuer (the server's base address) its discovery document names.</summary>
    public string Issuer { get; private set; } = "";

    public string MetadataAddress => Issuer + "/.well-known/openid-configuration";

    /// <summary>
    /// An ID token for <paramref name="clientId"/> signed with this provider's key, or with another key of the same key
    /// id when <paramref name="forged"/> (its signature then does not verify).
    /// </summary>
    public string IdToken(string clientId, string? nonce = null, bool forged = false, TimeSpan? lifetime = null)
    {
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object> { ["sub"] = "robot", ["iat"] = EpochTime.GetIntDate(now) };
        if (nonce is not null)
        {
            claims["nonce"] = nonce;
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = clientId,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + (lifetime ?? TimeSpan.FromHours(1)),
            Claims = claims,
            SigningCredentials = new SigningCredentials(forged ? ForgeryKey : SigningKey, SecurityAlgorithms.RsaSha256),
        });
    }
    public ConcurrentQueue<IReadOnlyDictionary<string, string>> Requests { get; } = new();

    public static async Task<ScriptedTokenEndpoint> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var endpoint = new ScriptedTokenEndpoint(app);
        app.MapPost("/token", async context =>
        {
            var form = await context.Request.ReadFormAsync();
            endpoint.Requests.Enqueue(form.ToDictionary(f => f.Key, f => f.Value.ToString()));
            var (status, body) = endpoint._answers.TryDequeue(out var next) ? next : (500, "no answer scripted");
            context.Response.StatusCode = status;
            context.Response.ContentType = body.StartsWith('{') ? "application/json" : "text/plain";
            await context.Response.WriteAsync(body);
        });
        app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = endpoint.Issuer,
            ["authorization_endpoint"] = endpoint.Issuer + "/authorize",
            ["token_endpoint"] = endpoint.Url,
            ["jwks_uri"] = endpoint.Issuer + "/jwks",
            ["response_types_supported"] = Code,
            ["subject_types_supported"] = Public,
            ["id_token_signing_alg_values_supported"] = Rs256,
            ["grant_types_supported"] = Grants,
        }));
        app.MapGet("/jwks", () =>
        {
            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(SigningKey.Rsa.ExportParameters(false)) { KeyId = SigningKey.KeyId });
            return Results.Json(new { keys = new[] { new { kty = "RSA", use = "sig", alg = "RS256", kid = jwk.Kid, n = jwk.N, e = jwk.E } } });
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        endpoint.Issuer = address.TrimEnd('/');
        endpoint.Url = endpoint.Issuer + "/token";
        return endpoint;
    }

    public void Answer(int status, string body) => _answers.Enqueue((status, body));

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
