using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace TokenAdmin.Providers;

/// <summary>
/// One provider's discovery document and signing keys (read by Microsoft.IdentityModel's OpenIdConnectConfigurationRetriever),
/// cached for the profile's TTL. <see cref="RefetchAsync"/> fetches them again at once, at most once per interval: a token
/// signed with a key id the cache does not know waits for the provider's current keys (key rotation).
/// </summary>
/// <remarks>
/// Not Microsoft.IdentityModel's ConfigurationManager: since 8.x it refreshes in the background, so after RequestRefresh the
/// next GetConfigurationAsync still answers the old keys and the token that met the new key id was refused.
/// </remarks>
public sealed class ProviderMetadata(string address, IDocumentRetriever retriever, TimeSpan timeToLive, TimeSpan minimumRefetchInterval, TimeProvider time) : IDisposable
{
    /// <summary>Shortest time between two refetches asked for by an unknown key id: a stream of forged tokens cannot hammer the provider.</summary>
    public static readonly TimeSpan MinimumRefetchInterval = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _fetch = new(1, 1);
    private OpenIdConnectConfiguration? _current;
    private DateTimeOffset _fetchedAt;
    private DateTimeOffset _lastRefetch = DateTimeOffset.MinValue;

    /// <summary>The cached document, fetched first when there is none or it is older than the TTL.</summary>
    /// <exception cref="InvalidOperationException">the document or keys could not be fetched or read (the message says why)</exception>
    public async Task<OpenIdConnectConfiguration> GetAsync(CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _current);
        if (current is not null && time.GetUtcNow() < _fetchedAt + timeToLive)
        {
            return current;
        }

        return await FetchAsync(stale: current, cancellationToken);
    }

    /// <summary>Fetches again now unless that was done less than the minimum interval ago; returns what is current then.</summary>
    public async Task<OpenIdConnectConfiguration> RefetchAsync(CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _current);
        if (current is not null && time.GetUtcNow() < _lastRefetch + minimumRefetchInterval)
        {
            return current;
        }

        return await FetchAsync(stale: current, cancellationToken, refetch: true);
    }

    private async Task<OpenIdConnectConfiguration> FetchAsync(OpenIdConnectConfiguration? stale, CancellationToken cancellationToken, bool refetch = false)
    {
        await _fetch.WaitAsync(cancellationToken);
        try
        {
            // Another caller may have fetched while this one waited.
            if (!ReferenceEquals(Volatile.Read(ref _current), stale) && _current is not null)
            {
                return _current;
            }

            if (refetch)
            {
                _lastRefetch = time.GetUtcNow();
            }

            OpenIdConnectConfiguration configuration;
            try
            {
                configuration = await OpenIdConnectConfigurationRetriever.GetAsync(address, retriever, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or ArgumentException or InvalidOperationException or System.Text.Json.JsonException
                && !cancellationToken.IsCancellationRequested)
            {
                // Note: a provider that is down for a moment must not break tokens checked with the keys already known.
                if (stale is not null)
                {
                    return stale;
                }

                throw new InvalidOperationException($"The discovery document at {address} could not be fetched or read: {Describe(ex)}", ex);
            }

            _fetchedAt = time.GetUtcNow();
            Volatile.Write(ref _current, configuration);
            return configuration;
        }
        finally
        {
            _fetch.Release();
        }
    }

    public void Dispose() => _fetch.Dispose();

    private static string Describe(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException or IOException or System.Text.Json.JsonException)
            {
                return e.Message;
            }
        }

        return exception.Message;
    }
}
