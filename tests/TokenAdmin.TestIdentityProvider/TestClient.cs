using System.Collections.ObjectModel;

namespace TokenAdmin.TestIdentityProvider;

/// <summary>
/// A client application registered with the test identity provider.
/// </summary>
/// <param name="ClientId">The client identifier.</param>
/// <param name="ClientSecret">The client secret, or <see langword="null"/> for a public client.</param>
/// <param name="RedirectUris">The exact redirect URIs the client may use with the authorization endpoint.</param>
public sealed record TestClient(string ClientId, string? ClientSecret, IReadOnlyList<string> RedirectUris)
{
    /// <summary>Redirect URIs accepted by the end session (logout) endpoint.</summary>
    public IReadOnlyList<string> PostLogoutRedirectUris { get; init; } = [];

    /// <summary>Grant types the client may use at the token endpoint.</summary>
    public IReadOnlyList<string> AllowedGrantTypes { get; init; } =
        ["authorization_code", "refresh_token", "client_credentials", "password"];

    /// <summary>Scopes the client may request; any scope name in this list is accepted.</summary>
    public IReadOnlyList<string> AllowedScopes { get; init; } =
        ["openid", "profile", "email", "roles", "offline_access", "api", "mail"];

    /// <summary>Extra claims put in access tokens issued with the client_credentials grant (e.g. "roles").</summary>
    public IReadOnlyDictionary<string, string[]> ClientCredentialsClaims { get; init; } =
        ReadOnlyDictionary<string, string[]>.Empty;

    /// <summary>
    /// Certificates whose public keys authenticate the client with client assertions (private_key_jwt, RFC 7523): they
    /// go into the client's JSON Web Key Set with kid = the base64url SHA-256 thumbprint (what TokenAdmin sends as kid
    /// and x5t#S256) and x5t = the base64url SHA-1 thumbprint. OpenIddict checks each assertion's signature, iss/sub,
    /// aud (the token endpoint or issuer) and lifetime.
    /// </summary>
    public IReadOnlyList<System.Security.Cryptography.X509Certificates.X509Certificate2> AssertionCertificates { get; init; } = [];

    /// <summary>
    /// RFC 8705 section 2.1.2 <c>tls_client_auth_subject_dn</c> (e.g. <c>CN=tokenadmin-client</c>): the client authenticates
    /// by presenting, in the TLS handshake with the token endpoint, a certificate issued under
    /// <see cref="TestIdentityProviderOptions.TlsClientAuthenticationCa"/> with exactly this subject (compared as
    /// distinguished names). Usually with <see cref="ClientSecret"/> null: the certificate alone authenticates.
    /// </summary>
    public string? TlsClientAuthSubjectDn { get; init; }

    /// <summary>Whether the client is public (no secret, no assertion keys, no mutual-TLS subject).</summary>
    public bool IsPublic => ClientSecret is null && AssertionCertificates.Count == 0 && TlsClientAuthSubjectDn is null;
}
