using System.Linq.Expressions;
using TokenAdmin.Data;
using TokenAdmin.Providers;

namespace TokenAdmin.Tokens;

/// <summary>
/// One token source as the token engine sees it, whatever configured it: a token config (YAML, endpoints written
/// down) or a functional account (an OIDC profile, endpoints from discovery). Everything after this point — grants,
/// the state writer, ID-token checks, leases, the token provider and the updater — is the same code for both.
/// </summary>
public sealed class TokenSourceDefinition
{
    private static readonly IReadOnlyDictionary<string, string> None = new Dictionary<string, string>();

    public required TokenSource Source { get; init; }
    public required string Name { get; init; }
    public required bool Valid { get; init; }

    /// <summary>How the first token is got: one of <see cref="TokenFlows"/>.</summary>
    public required string Flow { get; init; }
    public required string ClientId { get; init; }
    public string? ClientSecretProtected { get; init; }

    /// <summary>How the client authenticates as configured (<see cref="ClientAuthentications"/>, possibly automatic); <see cref="ProviderEndpoints.ClientAuthentication"/> is the resolved one.</summary>
    public string ClientAuthentication { get; init; } = ClientAuthentications.Automatic;

    /// <summary>RS256, PS256 or ES256 for private_key_jwt; null = the key's default.</summary>
    public string? ClientAssertionAlgorithm { get; init; }

    /// <summary>token_endpoint (the default) or issuer: what a client assertion's aud names.</summary>
    public string ClientAssertionAudience { get; init; } = ClientAssertion.AudienceTokenEndpoint;

    /// <summary>The source's client certificate (private_key_jwt, tls_client_auth); empty when none was uploaded.</summary>
    public ClientCertificate Certificate { get; init; } = new();

    // JWT bearer grant (RFC 7523 section 2.1).
    /// <summary>The service-account key that signs the JWT bearer grant's assertion; empty = the client certificate signs it.</summary>
    public ServiceAccountKey ServiceAccountKey { get; init; } = new();

    /// <summary>The JWT bearer assertion's sub (the mailbox to act as); null = its issuer.</summary>
    public string? AssertionSubject { get; init; }

    public string? Username { get; init; }
    public string? PasswordProtected { get; init; }
    public string Scope { get; init; } = "";

    /// <summary>Extra parameters of the authorization request (prompt, access_type, ...).</summary>
    public IReadOnlyDictionary<string, string> AuthorizationParameters { get; init; } = None;
    public IReadOnlyDictionary<string, string> TokenParameters { get; init; } = None;

    /// <summary>prompt, login_hint, domain_hint of the authorization request; set fields win over extra parameters of the same name.</summary>
    public SignInOptions SignIn { get; init; } = new();
    public IReadOnlyDictionary<string, string> RefreshParameters { get; init; } = None;

    /// <summary>Resource indicators (RFC 8707), sent with the authorization request and every grant; a name may repeat.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Resources { get; init; } = [];

    /// <summary>How long before its expiry a token is no longer handed out; null = the token provider's default.</summary>
    public TimeSpan? LeadTime { get; init; }

    /// <summary>Refresh-token lifetime to assume when the provider does not state one; null = unknown.</summary>
    public int? RefreshTokenLifetimeDays { get; init; }

    /// <summary>True when each use of the refresh token starts its lifetime again (Microsoft: 90 days unused).</summary>
    public bool RefreshTokenSliding { get; init; }

    /// <summary>True when the source hands out its ID token instead of its access token.</summary>
    public bool HandsOutIdToken { get; init; }

    /// <summary>Length of the random state (and nonce) in characters; null = 43 (256 bits).</summary>
    public int? StateLength { get; init; }
    public TimeSpan AuthorizationLifetime { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Whether a nonce is sent when the scope asks for openid.</summary>
    public bool UseNonce { get; init; } = true;

    /// <summary>The stored state (tracked when loaded for a change).</summary>
    public TokenState? State { get; set; }

    /// <summary>The configuring entity (token config or functional account), for the per-kind part.</summary>
    public required object Entity { get; init; }

    public required ITokenSourceKind Kind { get; init; }

    /// <summary>True when the source gets a new token with its own credentials, without a person (no refresh token needed).</summary>
    public bool CanStartAfresh => Flow is TokenFlows.ClientCredentials or TokenFlows.Password or TokenFlows.JwtBearer;

    public bool WantsNonce => UseNonce && Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("openid");

    /// <summary>"Token config 'x'" or "Functional account 'x'", for messages.</summary>
    public string Title => $"{char.ToUpperInvariant(Kind.Noun[0])}{Kind.Noun[1..]} '{Name}'";

    public Task<ProviderEndpoints> ResolveAsync(CancellationToken cancellationToken) => Kind.ResolveAsync(this, cancellationToken);
}

/// <summary>
/// The provider side of a source, resolved when it is needed (a functional account's endpoints come from discovery).
/// <see cref="IdTokenChecker"/> is null when the source names no issuer: an ID token that cannot be checked is not kept.
/// <see cref="ClientAuthentication"/> is resolved (never automatic); for tls_client_auth <see cref="Http"/> presents the certificate.
/// <see cref="DeviceAuthorizationEndpoint"/> is resolved for sources of the device code flow only.
/// </summary>
public sealed record ProviderEndpoints(
    string TokenEndpoint,
    string RefreshEndpoint,
    string? AuthorizationEndpoint,
    string? Issuer,
    string ClientAuthentication,
    HttpClient? Http,
    IdTokenChecker? IdTokenChecker)
{
    /// <summary>The device authorization endpoint (RFC 8628): written down, or from the provider's metadata; null = none known.</summary>
    public string? DeviceAuthorizationEndpoint { get; init; }
}

/// <summary>Checks an ID token of one provider for one client: signature (JWKS), iss, aud, exp/iat with leeway, nonce.</summary>
public sealed class IdTokenChecker(ProviderMetadata metadata, string clientId, TimeSpan leeway)
{
    public ProviderMetadata Metadata { get; } = metadata;

    public Task<TokenCheck> CheckAsync(string idToken, string? expectedNonce, DateTime now) =>
        ProviderTokenValidator.ValidateIdTokenAsync(idToken, clientId, leeway, Metadata, expectedNonce, now);
}

/// <summary>A source whose stored configuration cannot be read (a token config's YAML): the message names it and says why.</summary>
public sealed class TokenSourceUnreadableException(string message) : Exception(message);

/// <summary>A source whose provider side cannot be used now (discovery failed, plain http, TLS settings): the message says why.</summary>
public sealed class ProviderConfigurationException(string message, bool unreachable = false) : Exception(message)
{
    /// <summary>True when the provider could not be reached (discovery), so trying later may help.</summary>
    public bool Unreachable { get; } = unreachable;
}

/// <summary>
/// The per-kind part of the token engine: how a source of this kind is read from the database and how its provider
/// side is resolved. Everything else is shared.
/// </summary>
public interface ITokenSourceKind
{
    TokenSourceKind Kind { get; }

    /// <summary>"token config" or "functional account".</summary>
    string Noun { get; }

    /// <summary>What an admin must do to authorize a source of the authorization code flow again.</summary>
    string ReauthorizeHint { get; }

    /// <summary>The page (path below the public base URL) where an admin sees the source and requests a new token.</summary>
    string PagePath(int id);

    /// <summary>Audit action for a successful (or, with <paramref name="failed"/>, a failed) token request of <paramref name="grantType"/>.</summary>
    string AuditAction(string grantType, bool failed);

    Task<bool> ExistsAsync(TokenAdminDb db, int id, CancellationToken cancellationToken);

    /// <summary>Every source of this kind with what decides whether it is due (the updater), by name.</summary>
    Task<IReadOnlyList<TokenSourceWatch>> WatchAsync(TokenAdminDb db, CancellationToken cancellationToken);

    /// <summary>Every source of this kind for a picker (mail accounts, SMTP, web services), by name.</summary>
    Task<IReadOnlyList<TokenSourceChoice>> ChoicesAsync(TokenAdminDb db, CancellationToken cancellationToken);

    /// <summary>
    /// The source with its state. With <paramref name="tracking"/> the state (only the state: token operations change
    /// nothing else) is tracked, to be saved; otherwise nothing is. Null when it does not exist.
    /// </summary>
    /// <exception cref="TokenSourceUnreadableException">its stored configuration cannot be read</exception>
    Task<TokenSourceDefinition?> LoadAsync(TokenAdminDb db, int id, bool tracking, CancellationToken cancellationToken);

    /// <summary>Several sources with their states tracked (the updater's batches); one that cannot be read is left out.</summary>
    Task<IReadOnlyList<TokenSourceDefinition>> LoadManyAsync(TokenAdminDb db, IReadOnlyCollection<int> ids, CancellationToken cancellationToken);

    Task<ProviderEndpoints> ResolveAsync(TokenSourceDefinition source, CancellationToken cancellationToken);

    /// <summary>The source's state row.</summary>
    Expression<Func<TokenState, bool>> StateRow(int id);

    /// <summary>The state rows of several sources of this kind.</summary>
    Expression<Func<TokenState, bool>> StateRows(IReadOnlyCollection<int> ids);

    /// <summary>A new, empty state row for the source.</summary>
    TokenState NewState(int id);

    /// <summary>Tells the in-process caches that the source's tokens changed.</summary>
    void Changed(TokenStateEvents events, int id);
}

/// <summary>The registered kinds, by <see cref="TokenSourceKind"/>.</summary>
public sealed class TokenSourceKinds(IEnumerable<ITokenSourceKind> kinds)
{
    private readonly Dictionary<TokenSourceKind, ITokenSourceKind> _kinds = kinds.ToDictionary(k => k.Kind);

    public ITokenSourceKind this[TokenSourceKind kind] => _kinds[kind];

    public IEnumerable<ITokenSourceKind> All => _kinds.Values;
}
