using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Polly;
using TokenAdmin.Providers;
using TokenAdmin.Secrets;

namespace TokenAdmin.Oidc;

/// <summary>What "Test" found at a profile's provider, or the exact failure.</summary>
/// <param name="SecretRefused">The provider refused the client secret (a client_credentials probe answered invalid_client).</param>
public sealed record DiscoveryReport(
    bool Succeeded, string? Error, string? Issuer = null, string? AuthorizationEndpoint = null, string? TokenEndpoint = null,
    string? JwksUri = null, IReadOnlyList<string>? GrantTypes = null, IReadOnlyList<string>? KeyIds = null, bool SecretRefused = false);

/// <summary>
/// Per profile: its own HttpClient (private CA, client certificate, retries) and its own discovery + JWKS cache
/// (<see cref="ProviderMetadata"/>, with the profile's TTL). Rebuilt when the profile is saved.
/// </summary>
public sealed class OidcProfileRuntime(ISecretProtector protector, IOptions<ProviderHttpOptions> httpOptions, OutboundProxy proxy) : IDisposable
{
    private readonly ConcurrentDictionary<int, Entry> _entries = new();

    private sealed record Entry(string Version, HttpClient Http, ProviderMetadata Metadata);

    /// <exception cref="ProfileTlsException">a TLS setting of the profile cannot be used</exception>
    public HttpClient HttpClientFor(OidcProfile profile) => EntryFor(profile).Http;

    /// <summary>The profile's TLS settings (CA, verification switches, its client certificate), for a client built on them.</summary>
    /// <exception cref="ProfileTlsException">a TLS setting of the profile cannot be used</exception>
    public System.Net.Security.SslClientAuthenticationOptions TlsOptionsFor(OidcProfile profile) =>
        ProfileTls.Options(profile, profile.ClientKeyPasswordProtected is null ? null : protector.Unprotect(profile.ClientKeyPasswordProtected));

    /// <summary>The provider's discovery document and keys, cached for the profile's TTL.</summary>
    /// <exception cref="ProfileTlsException">a TLS setting of the profile cannot be used</exception>
    public ProviderMetadata MetadataFor(OidcProfile profile) => EntryFor(profile).Metadata;

    private Entry EntryFor(OidcProfile profile)
    {
        if (_entries.TryGetValue(profile.Id, out var entry) && entry.Version == profile.Version)
        {
            return entry;
        }

        var http = CreateHttpClient(profile);
        var retriever = new ProviderDocumentRetriever(http, httpOptions.Value, profile.DiscoveryUrl, ProviderHttp.RequiresHttps(profile.DiscoveryUrl));
        var created = new Entry(profile.Version, http, new ProviderMetadata(profile.DiscoveryUrl, retriever,
            TimeSpan.FromSeconds(Math.Max(profile.DiscoveryCacheSeconds, 60)), ProviderMetadata.MinimumRefetchInterval, TimeProvider.System));
        if (_entries.TryGetValue(profile.Id, out var replaced))
        {
            Retire(replaced);
        }

        _entries[profile.Id] = created;
        return created;
    }

    /// <summary>
    /// A replaced client may still be sending a request: it is disposed a few minutes later, not at once.
    /// </summary>
    private void Retire(Entry entry)
    {
        var now = DateTimeOffset.UtcNow;
        lock (_retired)
        {
            _retired.Add((now, entry));
            foreach (var old in _retired.Where(r => now - r.At > RetiredLifetime).ToList())
            {
                old.Entry.Http.Dispose();
                old.Entry.Metadata.Dispose();
                _retired.Remove(old);
            }
        }
    }

    private static readonly TimeSpan RetiredLifetime = TimeSpan.FromMinutes(5);
    private readonly List<(DateTimeOffset At, Entry Entry)> _retired = [];

    private long _generation;

    /// <summary>Changes whenever a profile is created, changed or deleted: caches built from profiles (incoming API tokens) compare it.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>Tells caches built from the profiles that a profile was created, changed or deleted.</summary>
    public void ProfilesChanged() => Interlocked.Increment(ref _generation);

    /// <summary>Forgets a deleted or changed profile's client and cache.</summary>
    public void Forget(int profileId)
    {
        ProfilesChanged();
        if (_entries.TryRemove(profileId, out var entry))
        {
            Retire(entry);
        }
    }

    private HttpClient CreateHttpClient(OidcProfile profile)
    {
        var password = profile.ClientKeyPasswordProtected is null ? null : protector.Unprotect(profile.ClientKeyPasswordProtected);
        var handler = ProviderHttp.CreateHandler(proxy);
        handler.SslOptions = ProfileTls.Options(profile, password);
        var options = httpOptions.Value;
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>();
        ProviderHttp.ConfigureRetries(pipeline, options);
        return new HttpClient(new ResilienceHandler(pipeline.Build()) { InnerHandler = ProviderHttp.WithProxyErrors(handler, proxy) })
        {
            Timeout = ProviderHttp.ClientTimeout(options),
        };
    }

    /// <summary>
    /// Fetches the discovery document and the JWKS through the profile's own HTTP settings, bypassing the cache, and
    /// reports what an admin needs to see: issuer, endpoints, grant types, key ids, or exactly what went wrong.
    /// </summary>
    /// <param name="probeSecret">When set and the provider offers client_credentials, a token request checks the client ID and this secret.</param>
    public async Task<DiscoveryReport> TestAsync(OidcProfile profile, CancellationToken cancellationToken, string? probeSecret = null)
    {
        if (!Uri.TryCreate(profile.DiscoveryUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
        {
            return new DiscoveryReport(false, "Discovery URL: must be an absolute http(s) URL.");
        }

        HttpClient http;
        try
        {
            http = CreateHttpClient(profile);
        }
        catch (ProfileTlsException ex)
        {
            return new DiscoveryReport(false, $"{ex.Field}: {ex.Message}");
        }
        catch (SecretUnreadableException)
        {
            return new DiscoveryReport(false, "Client key password: it was stored with another master key; enter it again.");
        }

        using (http)
        {
            var (document, error) = await GetJsonAsync(http, uri, "discovery document", cancellationToken);
            if (document is null)
            {
                return new DiscoveryReport(false, error);
            }

            using (document)
            {
                var root = document.RootElement;
                var issuer = Text(root, "issuer");
                var token = Text(root, "token_endpoint");
                var jwks = Text(root, "jwks_uri");
                if (issuer is null || jwks is null)
                {
                    return new DiscoveryReport(false, $"The document at {uri} has no issuer or jwks_uri: is this an OpenID Connect discovery URL (…/.well-known/openid-configuration)?");
                }

                var grants = root.TryGetProperty("grant_types_supported", out var g) && g.ValueKind == JsonValueKind.Array
                    ? g.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList()
                    : ["authorization_code", "implicit (not stated: the OpenID Connect default)"];
                if (!Uri.TryCreate(jwks, UriKind.Absolute, out var jwksUri))
                {
                    return new DiscoveryReport(false, $"jwks_uri '{jwks}' is not an absolute URL.", issuer, Text(root, "authorization_endpoint"), token, jwks, grants);
                }

                var (keys, keysError) = await GetJsonAsync(http, jwksUri, "JWKS", cancellationToken);
                if (keys is null)
                {
                    return new DiscoveryReport(false, keysError, issuer, Text(root, "authorization_endpoint"), token, jwks, grants);
                }

                using (keys)
                {
                    var kids = keys.RootElement.TryGetProperty("keys", out var k) && k.ValueKind == JsonValueKind.Array
                        ? k.EnumerateArray().Select(key => Text(key, "kid") ?? "(no kid)").ToList()
                        : null;
                    if (kids is null)
                    {
                        return new DiscoveryReport(false, $"The JWKS at {jwksUri} has no \"keys\" array.", issuer, Text(root, "authorization_endpoint"), token, jwks, grants);
                    }

                    if (probeSecret is not null && token is not null && grants.Contains("client_credentials")
                        && await ClientRefusedAsync(http, token, profile.ClientId, probeSecret, cancellationToken) is { } refusal)
                    {
                        return new DiscoveryReport(false, refusal, issuer, Text(root, "authorization_endpoint"), token, jwks, grants, kids, SecretRefused: true);
                    }

                    return new DiscoveryReport(true, null, issuer, Text(root, "authorization_endpoint"), token, jwks, grants, kids);
                }
            }
        }
    }

    /// <summary>
    /// A client_credentials request with the client ID and secret: only invalid_client (or a 401) counts, as a wrong
    /// secret; any other answer (a client not allowed this grant, a scope) says nothing about the secret.
    /// </summary>
    private async Task<string?> ClientRefusedAsync(HttpClient http, string tokenEndpoint, string clientId, string secret, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(tokenEndpoint, UriKind.Absolute, out var uri) || (ProviderHttp.RequiresHttps(tokenEndpoint) && uri.Scheme != "https"))
        {
            return null;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Content = new FormUrlEncodedContent([new("grant_type", "client_credentials"), new("client_id", clientId), new("client_secret", secret)]),
        };
        try
        {
            using var answer = await ProviderExchange.SendAsync(http, request, httpOptions.Value.Deadline, cancellationToken);
            if (answer.Response.StatusCode == System.Net.HttpStatusCode.Unauthorized)
            {
                return "Client secret: the provider refused the client ID and secret (HTTP 401).";
            }

            return answer.Body?.Contains("\"invalid_client\"", StringComparison.Ordinal) == true
                ? "Client secret: the provider refused the client ID and secret (invalid_client)."
                : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or TaskCanceledException or Polly.Timeout.TimeoutRejectedException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private async Task<(JsonDocument? Document, string? Error)> GetJsonAsync(HttpClient http, Uri uri, string what, CancellationToken cancellationToken)
    {
        if (ProviderHttp.RequiresHttps(uri.ToString()) && uri.Scheme != "https")
        {
            return (null, $"The {what} URL {uri} uses plain http; only a provider on this machine may. Use https.");
        }

        string body;
        try
        {
            body = await ProviderExchange.GetDocumentAsync(http, uri, what, httpOptions.Value.Deadline, httpOptions.Value.Timeout, cancellationToken);
        }
        catch (ProviderDocumentException ex)
        {
            return (null, ex.Message);
        }

        try
        {
            var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                return (null, $"The {what} at {uri} is JSON but not an object.");
            }

            return (document, null);
        }
        catch (JsonException ex)
        {
            return (null, $"The {what} at {uri} is not valid JSON: {ex.Message}");
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;

    public void Dispose()
    {
        foreach (var entry in _entries.Values.Concat(_retired.Select(r => r.Entry)))
        {
            entry.Http.Dispose();
            entry.Metadata.Dispose();
        }

        _entries.Clear();
        _retired.Clear();
    }
}
