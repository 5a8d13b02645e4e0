using System.Collections.Concurrent;

namespace TokenAdmin.Providers;

/// <summary>
/// Discovery documents and signing keys of the providers token configs name (by issuer or discovery URL), one
/// <see cref="ProviderMetadata"/> per address, fetched through the shared provider HttpClient. Functional accounts have
/// theirs per OIDC profile (Oidc/OidcProfileRuntime.cs), with the profile's own TLS settings.
/// </summary>
public sealed class ProviderMetadataCache(IHttpClientFactory httpClients, Microsoft.Extensions.Options.IOptions<ProviderHttpOptions> options, TimeProvider time) : IDisposable
{
    /// <summary>How long a document is used before it is fetched again (a new key id makes it refetch sooner).</summary>
    public static readonly TimeSpan TimeToLive = TimeSpan.FromHours(1);

    /// <summary>Distinct providers kept; far more than any installation has, so a flood of configs cannot grow it without end.</summary>
    private const int MaxEntries = 1000;

    private readonly ConcurrentDictionary<string, ProviderMetadata> _entries = new(StringComparer.Ordinal);

    /// <summary>The discovery address of a config: its discovery URL, or the issuer's well-known document.</summary>
    public static string? DiscoveryAddress(string? discoveryUrl, string? issuer) =>
        !string.IsNullOrWhiteSpace(discoveryUrl) ? discoveryUrl
        : !string.IsNullOrWhiteSpace(issuer) ? issuer.TrimEnd('/') + "/.well-known/openid-configuration"
        : null;

    public ProviderMetadata For(string address)
    {
        if (_entries.TryGetValue(address, out var existing))
        {
            return existing;
        }

        if (_entries.Count >= MaxEntries)
        {
            // Note: entries are not disposed here: a caller may still use one; each holds only a semaphore.
            _entries.Clear();
        }

        // Note: the same door as every provider exchange: one deadline, no redirects, at most 1 MiB.
        var retriever = new ProviderDocumentRetriever(httpClients.CreateClient(ProviderHttp.ClientName), options.Value, address, ProviderHttp.RequiresHttps(address));
        return _entries.GetOrAdd(address, a => new ProviderMetadata(a, retriever, TimeToLive, ProviderMetadata.MinimumRefetchInterval, time));
    }

    public void Dispose()
    {
        foreach (var entry in _entries.Values)
        {
            entry.Dispose();
        }
    }
}
