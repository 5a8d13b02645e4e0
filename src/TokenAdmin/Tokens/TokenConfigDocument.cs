namespace TokenAdmin.Tokens;

/// <summary>The grant a token config uses to obtain its first token.</summary>
public static class TokenFlows
{
    public const string AuthorizationCode = "AuthorizationCode";
    public const string ClientCredentials = "ClientCredentials";
    public const string Password = "Password";

    // JWT bearer grant (RFC 7523 section 2.1): an assertion signed with a service-account key (Google) or the client certificate.
    public const string JwtBearer = "JwtBearer";

    // Device authorization grant (RFC 8628): a person enters a user code on another device; TokenAdmin polls.
    public const string DeviceCode = "DeviceCode";

    public static readonly IReadOnlyList<string> All = [AuthorizationCode, ClientCredentials, Password, JwtBearer, DeviceCode];

    /// <summary>True for the flows whose first token needs a person (a sign-in); renewals then need a refresh token.</summary>
    public static bool NeedsPerson(string flow) => flow is AuthorizationCode or DeviceCode;
}

/// <summary>How the client authenticates at the token endpoint (RFC 6749 section 2.3, RFC 7523, RFC 8705).</summary>
public static class ClientAuthentications
{
    public const string Post = "client_secret_post";
    public const string Basic = "client_secret_basic";

    /// <summary>A client assertion signed with the source's certificate (RFC 7523 section 2.2).</summary>
    public const string PrivateKeyJwt = "private_key_jwt";

    /// <summary>Mutual TLS with the source's (or the OIDC profile's) client certificate (RFC 8705).</summary>
    public const string TlsClientAuth = "tls_client_auth";

    /// <summary>Chosen when a token is requested, from what the provider's metadata lists and what the source holds.</summary>
    public const string Automatic = "automatic";

    public static readonly IReadOnlyList<string> All = [Automatic, Post, Basic, PrivateKeyJwt, TlsClientAuth];

    public static bool UsesCertificate(string method) => method is PrivateKeyJwt or TlsClientAuth;

    /// <summary>
    /// The method a source uses: the configured one, or for <see cref="Automatic"/> the best the provider lists in
    /// token_endpoint_auth_methods_supported (null or empty = not known): with a certificate private_key_jwt, else
    /// tls_client_auth; without one client_secret_basic (the default of RFC 6749), else client_secret_post.
    /// </summary>
    public static string Resolve(string configured, ICollection<string>? supported, bool hasCertificate)
    {
        if (configured != Automatic)
        {
            return configured;
        }

        var known = supported is { Count: > 0 };
        if (hasCertificate)
        {
            return !known || supported!.Contains(PrivateKeyJwt) ? PrivateKeyJwt
                : supported!.Contains(TlsClientAuth) ? TlsClientAuth
                : PrivateKeyJwt;
        }

        return !known || supported!.Contains(Basic) ? Basic : supported!.Contains(Post) ? Post : Basic;
    }

    /// <summary>For forms: what each method means.</summary>
    public static string Describe(string method) => method switch
    {
        Automatic => "automatic (from the provider's metadata)",
        Post => "client_secret_post (secret in the form)",
        Basic => "client_secret_basic (secret in the Authorization header)",
        PrivateKeyJwt => "private_key_jwt (signed with the certificate)",
        TlsClientAuth => "tls_client_auth (certificate in mutual TLS)",
        _ => method,
    };
}

/// <summary>
/// A token config as admins write it in YAML (docs/token-config.md). Holds no secret: the client secret and the
/// password of the password grant are kept encrypted beside it.
/// </summary>
public sealed class TokenConfigDocument
{
    public string Name { get; set; } = "";
    public string Template { get; set; } = TokenTemplates.Custom;
    public bool Valid { get; set; } = true;

    /// <summary>Whether the token broker of the API (/api/v1) may hand this config's access token to a caller with the tokens.broker role. Off by default.</summary>
    public bool SharedThroughApi { get; set; }

    public string Flow { get; set; } = TokenFlows.AuthorizationCode;
    public string ClientId { get; set; } = "";
    public string ClientAuthentication { get; set; } = ClientAuthentications.Post;

    /// <summary>The day the client secret expires (Microsoft Entra shows it beside the secret); warned about before. Not a secret.</summary>
    public DateOnly? ClientSecretExpires { get; set; }

    /// <summary>RS256, PS256 or ES256 for private_key_jwt; null = the key's default (RS256 for RSA, ES256 for EC).</summary>
    public string? ClientAssertionAlgorithm { get; set; }

    /// <summary>What a client assertion's aud names: token_endpoint (null, the default) or issuer.</summary>
    public string? ClientAssertionAudience { get; set; }
    public string Scope { get; set; } = "";

    /// <summary>Directory (tenant) ID or domain for Microsoft endpoints; replaces {tenant} in the endpoint URLs.</summary>
    public string? Tenant { get; set; }

    /// <summary>The provider's issuer; when set, an authorization response's iss must match it (RFC 9207).</summary>
    public string? Issuer { get; set; }

    /// <summary>The OIDC discovery document the issuer and endpoints are read from when the config is saved (Oidc template).</summary>
    public string? DiscoveryUrl { get; set; }

    /// <summary>User name for the password grant; its password is a secret kept beside the document.</summary>
    public string? Username { get; set; }

    /// <summary>JWT bearer flow: the mailbox (user) the service account acts as, the assertion's sub; null = the service account itself.</summary>
    public string? AssertionSubject { get; set; }

    /// <summary>Seconds a token must have left to be handed out from the cache (default 60).</summary>
    public int? LeadTimeSeconds { get; set; }

    public TokenEndpoints Endpoints { get; set; } = new();

    /// <summary>prompt, login_hint and domain_hint of the authorization request (authorization code only); null = none set.</summary>
    public SignInOptions? SignIn { get; set; }
    public RequestParameters Parameters { get; set; } = new();
    public RefreshTokenPolicy RefreshToken { get; set; } = new();
    public TokenNotifications Notifications { get; set; } = new();

    public TokenConfigDocument Clone() => TokenConfigYaml.Parse(TokenConfigYaml.Write(this));
}

public sealed class TokenEndpoints
{
    public string? Authorization { get; set; }
    public string Token { get; set; } = "";

    /// <summary>Token endpoint for the refresh_token grant when it differs from <see cref="Token"/>.</summary>
    public string? Refresh { get; set; }

    /// <summary>Device authorization endpoint (RFC 8628) of the device code flow; empty = from the provider's metadata.</summary>
    public string? DeviceAuthorization { get; set; }
}

/// <summary>Extra parameters sent with each kind of request (prompt, access_type, response_mode, login_hint, resource, ...).</summary>
public sealed class RequestParameters
{
    public Dictionary<string, string> Authorization { get; set; } = [];
    public Dictionary<string, string> Token { get; set; } = [];
    public Dictionary<string, string> Refresh { get; set; } = [];
}

public sealed class RefreshTokenPolicy
{
    /// <summary>Lifetime to assume when the provider does not say (Microsoft: 90 days); null = unknown.</summary>
    public int? LifetimeDays { get; set; }

    /// <summary>True when each use of the refresh token starts its lifetime again (Microsoft).</summary>
    public bool Sliding { get; set; }
}

public sealed class TokenNotifications
{
    public bool TokenExpired { get; set; } = true;
    public bool RefreshTokenExpired { get; set; } = true;

    /// <summary>Warn this many days before the refresh token expires; 0 = never.</summary>
    public int ExpiringSoonDays { get; set; } = 7;
}
