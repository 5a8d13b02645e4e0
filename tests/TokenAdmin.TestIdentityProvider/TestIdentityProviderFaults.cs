namespace TokenAdmin.TestIdentityProvider;

/// <summary>Faults the token endpoint can simulate.</summary>
public enum TokenEndpointFault
{
    /// <summary>No fault: requests are handled by OpenIddict.</summary>
    None,

    /// <summary>500 with an HTML body (not OAuth JSON).</summary>
    ServerError500,

    /// <summary>Delays the response by <see cref="TestIdentityProviderFaults.HangDuration"/>, then handles the request normally.</summary>
    Hang,

    /// <summary>400 <c>{"error":"invalid_grant",...}</c>.</summary>
    InvalidGrant,

    /// <summary>401 <c>{"error":"invalid_client",...}</c> with a <c>WWW-Authenticate: Basic</c> header.</summary>
    InvalidClient,

    /// <summary>503 <c>{"error":"temporarily_unavailable",...}</c> (+ Retry-After when <see cref="TestIdentityProviderFaults.RetryAfterSeconds"/> is set).</summary>
    TemporarilyUnavailable503,

    /// <summary>429 with a plain-text body (+ Retry-After when <see cref="TestIdentityProviderFaults.RetryAfterSeconds"/> is set).</summary>
    TooManyRequests429,

    /// <summary>400 <c>{"error":"slow_down",...}</c>: a device-code poll came too soon (RFC 8628 section 3.5).</summary>
    SlowDown,

    /// <summary>400 <c>{"error":"expired_token",...}</c>: the device code expired (RFC 8628 section 3.5).</summary>
    ExpiredToken,
}

/// <summary>
/// Faults injected by a middleware that runs before OpenIddict. All members are thread-safe and take
/// effect for the next request.
/// </summary>
public sealed class TestIdentityProviderFaults
{
    private static readonly TimeSpan DefaultHangDuration = TimeSpan.FromSeconds(30);

    private readonly Lock _gate = new();
    private TokenEndpointFault _tokenEndpoint;
    private int? _remaining;
    private TimeSpan _hangDuration = DefaultHangDuration;
    private bool _discoveryServerError500;
    private int? _retryAfterSeconds;
    private int _faultedTokenRequests;

    /// <summary>
    /// The fault applied to every token-endpoint request while set. Setting it clears any limit set by
    /// <see cref="FailNextTokenRequests"/>; reading it returns <see cref="TokenEndpointFault.None"/> once such a limit is used up.
    /// </summary>
    public TokenEndpointFault TokenEndpoint
    {
        get
        {
            lock (_gate)
            {
                return _remaining is 0 ? TokenEndpointFault.None : _tokenEndpoint;
            }
        }
        set
        {
            lock (_gate)
            {
                _tokenEndpoint = value;
                _remaining = null;
            }
        }
    }

    /// <summary>How long <see cref="TokenEndpointFault.Hang"/> delays the response (honours request abort and server shutdown).</summary>
    public TimeSpan HangDuration
    {
        get { lock (_gate) { return _hangDuration; } }
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            lock (_gate) { _hangDuration = value; }
        }
    }

    /// <summary>When set, the discovery document answers 500 (HTML body).</summary>
    public bool DiscoveryServerError500
    {
        get { lock (_gate) { return _discoveryServerError500; } }
        set { lock (_gate) { _discoveryServerError500 = value; } }
    }

    /// <summary>
    /// When set, the discovery document names this issuer instead of the provider's own (the rest is unchanged), to
    /// imitate documents such as Microsoft Entra's multi-tenant one (<c>https://login.microsoftonline.com/{tenantid}/v2.0</c>).
    /// Tokens the provider issues still carry its own issuer; tests mint tokens with <see cref="TestIdentityProviderServer.MintToken"/>.
    /// </summary>
    public string? AdvertisedIssuer { get; set; }

    /// <summary>When set, the discovery document answers 200 with an HTML page instead of JSON (a captive portal, a wrong URL).</summary>
    public bool DiscoveryNotJson { get; set; }

    /// <summary>When set, the discovery document names no device_authorization_endpoint (a provider without the device flow).</summary>
    public bool HideDeviceAuthorizationEndpoint { get; set; }

    /// <summary>
    /// When set, the device authorization endpoint answers 200 with this body (<see cref="DeviceAuthorizationContentType"/>)
    /// instead of handling the request: a broken or foreign answer.
    /// </summary>
    public string? DeviceAuthorizationBody { get; set; }

    /// <summary>Content type of <see cref="DeviceAuthorizationBody"/> (default application/json).</summary>
    public string DeviceAuthorizationContentType { get; set; } = "application/json";

    /// <summary>Value of the Retry-After header sent with 429 (and 503) faults; none when <see langword="null"/>.</summary>
    public int? RetryAfterSeconds
    {
        get { lock (_gate) { return _retryAfterSeconds; } }
        set { lock (_gate) { _retryAfterSeconds = value; } }
    }

    /// <summary>Number of token-endpoint requests answered with a fault (Hang included) since start or the last <see cref="Reset"/>.</summary>
    public int FaultedTokenRequests => Volatile.Read(ref _faultedTokenRequests);

    /// <summary>Applies <paramref name="fault"/> to the next <paramref name="count"/> token-endpoint requests only.</summary>
    public void FailNextTokenRequests(TokenEndpointFault fault, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_gate)
        {
            _tokenEndpoint = fault;
            _remaining = count;
        }
    }

    /// <summary>Clears every fault and restores the defaults.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _tokenEndpoint = TokenEndpointFault.None;
            _remaining = null;
            _hangDuration = DefaultHangDuration;
            _discoveryServerError500 = false;
            _retryAfterSeconds = null;
        }

        HideDeviceAuthorizationEndpoint = false;
        DeviceAuthorizationBody = null;
        Interlocked.Exchange(ref _faultedTokenRequests, 0);
    }

    internal TokenEndpointFault TakeTokenEndpointFault(out TimeSpan hangDuration, out int? retryAfterSeconds)
    {
        lock (_gate)
        {
            hangDuration = _hangDuration;
            retryAfterSeconds = _retryAfterSeconds;
            if (_tokenEndpoint == TokenEndpointFault.None || _remaining is 0)
            {
                return TokenEndpointFault.None;
            }

            if (_remaining is { } remaining)
            {
                _remaining = remaining - 1;
            }

            Interlocked.Increment(ref _faultedTokenRequests);
            return _tokenEndpoint;
        }
    }
}
