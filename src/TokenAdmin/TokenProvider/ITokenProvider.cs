using TokenAdmin.Tokens;

namespace TokenAdmin.TokenProvider;

/// <summary>A bearer token handed to mail and web-service code. Never logged, never rendered.</summary>
public sealed class BearerToken(string value, string type, DateTimeOffset? expiresAt)
{
    public string Value { get; } = value;
    public string Type { get; } = type;
    public DateTimeOffset? ExpiresAt { get; } = expiresAt;

    /// <summary>The Authorization header's scheme: "Bearer" for a bearer token (in whatever case the provider wrote it), else the token type.</summary>
    public string Scheme => Type.Equals("bearer", StringComparison.OrdinalIgnoreCase) ? "Bearer" : Type;

    /// <summary>The Authorization header value, e.g. "Bearer eyJ...".</summary>
    public string AuthorizationHeader => $"{Scheme} {Value}";

    /// <summary>
    /// The Authorization header for a request. Note: built from its parts, not parsed from <see cref="AuthorizationHeader"/>,
    /// which copied the token (often over a kilobyte) twice per request.
    /// </summary>
    public System.Net.Http.Headers.AuthenticationHeaderValue ToAuthenticationHeader() => new(Scheme, Value);

    public override string ToString() => $"{Type} token (expires {ExpiresAt:u})";
}

public enum TokenUnavailableReason
{
    NotFound,
    ConfigDisabled,
    ConfigInvalid,
    NotAuthorizedYet,
    RefreshTokenExpired,
    RefreshTokenRevoked,
    ProviderUnavailable,
    ProviderRefused,
}

/// <summary>Why no token could be had, in words fit to show an admin (never a token or secret).</summary>
public sealed class TokenUnavailableException(TokenSource source, string sourceName, TokenUnavailableReason reason, string message, TimeSpan? retryAfter = null)
    : Exception(message)
{
    public TokenSource TokenSource { get; } = source;
    public string SourceName { get; } = sourceName;
    public TokenUnavailableReason Reason { get; } = reason;
    /// <summary>When the provider may be asked again (backoff after failures, or the provider's Retry-After).</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>
/// The one way mail and web-service code get bearer tokens, in-process. A cached token with more than the lead time
/// left is answered from memory; otherwise one refresh per source at a time, shared by all callers.
/// </summary>
public interface ITokenProvider
{
    /// <exception cref="TokenUnavailableException">no valid token can be had now</exception>
    ValueTask<BearerToken> GetTokenAsync(TokenSource source, CancellationToken cancellationToken);

    /// <summary>For a caller whose token was refused (401): refreshes even if the cached token looks valid.</summary>
    /// <exception cref="TokenUnavailableException">no valid token can be had now</exception>
    Task<BearerToken> ForceRefreshAsync(TokenSource source, CancellationToken cancellationToken);
}
