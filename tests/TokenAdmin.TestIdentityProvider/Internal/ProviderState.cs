using System.Collections.Concurrent;

namespace TokenAdmin.TestIdentityProvider.Internal;

/// <summary>
/// In-memory state shared by the endpoints and the public server object (users, client settings, counters).
/// </summary>
internal sealed class ProviderState(TestIdentityProviderOptions options)
{
    private readonly ConcurrentDictionary<string, int> _tokenRequestsByGrantType = new(StringComparer.Ordinal);
    private int _tokenRequestCount;
    private int _refreshTokenReuseCount;

    public TestIdentityProviderOptions Options { get; } = options;

    public ConcurrentDictionary<string, TestUser> Users { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, TestClient> Clients { get; } = new(StringComparer.Ordinal);

    public TestIdentityProviderFaults Faults { get; } = new();

    /// <summary>
    /// When set, token responses with a refresh token state its lifetime in <c>refresh_token_expires_in</c> (seconds), as
    /// Google does (7 days for apps in "Testing" mode) and Microsoft does for single-page apps; null: not stated.
    /// </summary>
    public TimeSpan? StatedRefreshTokenLifetime
    {
        get => _statedRefreshTokenLifetime is { } ticks and >= 0 ? TimeSpan.FromTicks(ticks) : null;
        set => Interlocked.Exchange(ref _statedRefreshTokenLifetime, value?.Ticks ?? -1);
    }

    private long _statedRefreshTokenLifetime = -1;

    /// <summary>JWT bearer grant (RFC 7523 section 2.1): the public keys that may sign assertions, per issuer (iss), by kid.</summary>
    public ConcurrentDictionary<string, ConcurrentDictionary<string, Microsoft.IdentityModel.Tokens.SecurityKey>> JwtBearerKeys { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<string> AccessTokenAudiences { get; } = [.. options.AccessTokenAudiences];

    public int TokenRequestCount => Volatile.Read(ref _tokenRequestCount);

    public int RefreshTokenReuseCount => Volatile.Read(ref _refreshTokenReuseCount);

    public IReadOnlyDictionary<string, int> TokenRequestsByGrantType =>
        new Dictionary<string, int>(_tokenRequestsByGrantType, StringComparer.Ordinal);

    public void CountTokenRequest(string grantType)
    {
        Interlocked.Increment(ref _tokenRequestCount);
        _tokenRequestsByGrantType.AddOrUpdate(grantType, 1, static (_, count) => count + 1);
    }

    public void CountRefreshTokenReuse() => Interlocked.Increment(ref _refreshTokenReuseCount);

    private IReadOnlyList<KeyValuePair<string, string>> _lastTokenRequest = [];

    /// <summary>The form fields of the last token request, repeated names included, in order (secrets too: tests only).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> LastTokenRequest => Volatile.Read(ref _lastTokenRequest);

    public void RecordTokenRequest(IReadOnlyList<KeyValuePair<string, string>> fields) => Volatile.Write(ref _lastTokenRequest, fields);

    public void ResetCounters()
    {
        Interlocked.Exchange(ref _tokenRequestCount, 0);
        Interlocked.Exchange(ref _refreshTokenReuseCount, 0);
        _tokenRequestsByGrantType.Clear();
    }

    public bool TryValidateUser(string? userName, string? password, out TestUser user)
    {
        if (!string.IsNullOrEmpty(userName) && password is not null &&
            Users.TryGetValue(userName, out var candidate) &&
            string.Equals(candidate.Password, password, StringComparison.Ordinal))
        {
            user = candidate;
            return true;
        }

        user = null!;
        return false;
    }
}
