namespace TokenAdmin.Tokens;

/// <summary>The grant a token config uses to obtain its first token.</summary>
public static class TokenFlows
{
    public const string AuthorizationCode = "AuthorizationCode";
    public const string ClientCredentials = "ClientCredentials";
    public const string Password = "Password";
    public static readonly IReadOnlyList<string> All = [AuthorizationCode, ClientCredentials, Password];
}

/// <summary>How the client authenticates at the token endpoint (RFC 6749 section 2.3.1).</summary>
public static class ClientAuthentications
{
    public const string Post = "client_secret_post";
    public const string Basic = "client_secret_basic";
    public static readonly IReadOnlyList<string> All = [Post, Basic];
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
    public string Scope { get; set; } = "";

    /// <summary>Directory (tenant) ID or domain for Microsoft endpoints; replaces {tenant} in the endpoint URLs.</summary>
    public string? Tenant { get; set; }

    /// <summary>The provider's issuer; when set, an authorization response's iss must match it (RFC 9207).</summary>
    public string? Issuer { get; set; }

    /// <summary>The OIDC discovery document the issuer and endpoints are read from when the config is saved (Oidc template).</summary>
    public string? DiscoveryUrl { get; set; }

    /// <summary>User name for the password grant; its password is a secret kept beside the document.</summary>
    public string? Username { get; set; }

    /// <summary>Seconds a token must have left to be handed out from the cache (default 60).</summary>
    public int? LeadTimeSeconds { get; set; }

    public TokenEndpoints Endpoints { get; set; } = new();
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
