using System.Collections.Concurrent;
using System.Net.Security;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using TokenAdmin.Providers;
using TokenAdmin.Secrets;

namespace TokenAdmin.Tokens;

/// <summary>
/// HttpClients that present a source's client certificate in the TLS handshake (tls_client_auth, RFC 8705): one per
/// certificate (and per base TLS settings, e.g. an OIDC profile's private CA), with the provider client's rules (no
/// redirects, retries, deadline).
/// </summary>
/// <remarks>
/// Note: a client stays cached until the process ends; a source gets a new one only when its certificate (or the
/// profile's TLS settings) change, which admins do a few times a year.
/// </remarks>
public sealed class ClientCertificateHttp(ISecretProtector protector, IOptions<ProviderHttpOptions> options, OutboundProxy proxy) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<HttpClient>> _clients = new(StringComparer.Ordinal);

    /// <param name="scope">What the base settings belong to ("config", "profile 3 v…"), part of the cache key.</param>
    /// <param name="baseOptions">TLS settings to start from (a profile's CA and verification switches); null = the system's.</param>
    /// <exception cref="SecretUnreadableException">the certificate was stored with another master key</exception>
    public HttpClient For(ClientCertificate certificate, string scope, Func<SslClientAuthenticationOptions>? baseOptions = null)
    {
        var key = scope + "|" + certificate.KeyId;
        var lazy = _clients.GetOrAdd(key, _ => new Lazy<HttpClient>(() => Create(certificate, baseOptions)));
        try
        {
            return lazy.Value;
        }
        catch
        {
            _clients.TryRemove(key, out _);
            throw;
        }
    }

    private HttpClient Create(ClientCertificate certificate, Func<SslClientAuthenticationOptions>? baseOptions)
    {
        var loaded = ClientCertificates.Load(certificate.Protected!, protector.Unprotect);
        var handler = ProviderHttp.CreateHandler(proxy);
        handler.SslOptions = baseOptions?.Invoke() ?? new SslClientAuthenticationOptions();
        handler.SslOptions.ClientCertificates = [loaded];
        var value = options.Value;
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>();
        ProviderHttp.ConfigureRetries(pipeline, value);
        return new HttpClient(new ResilienceHandler(pipeline.Build()) { InnerHandler = ProviderHttp.WithProxyErrors(handler, proxy) })
        {
            Timeout = ProviderHttp.ClientTimeout(value),
        };
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values.Where(c => c.IsValueCreated))
        {
            client.Value.Dispose();
        }

        _clients.Clear();
    }
}
