using Microsoft.Extensions.Logging;

namespace TokenAdmin.TestIdentityProvider;

/// <summary>
/// Start-up options of a <see cref="TestIdentityProviderServer"/>.
/// </summary>
public sealed class TestIdentityProviderOptions
{
    /// <summary>The loopback port Kestrel listens on (127.0.0.1). 0 picks a free port.</summary>
    public int Port { get; set; }

    /// <summary>
    /// Path of the SQLite database holding OpenIddict's applications, authorizations and tokens.
    /// <see langword="null"/> uses a fresh temporary file that is deleted when the server is disposed.
    /// </summary>
    public string? DatabasePath { get; set; }

    /// <summary>Whether PKCE (S256) is required for the authorization code flow.</summary>
    public bool RequirePkce { get; set; } = true;

    /// <summary>
    /// How long an already-redeemed refresh token may still be used. <see langword="null"/> (the default here)
    /// means any reuse fails with invalid_grant and revokes the whole token chain.
    /// OpenIddict's own default is 30 seconds.
    /// </summary>
    public TimeSpan? RefreshTokenReuseLeeway { get; set; }

    /// <summary>Audiences (<c>aud</c>) put into every access token. Empty by default (no <c>aud</c> claim).</summary>
    public IList<string> AccessTokenAudiences { get; } = [];

    /// <summary>
    /// Access tokens issued for a user also carry Entra ID's <c>scp</c> claim (delegated permissions): the granted
    /// scopes other than the OpenID Connect ones, each without its resource prefix, space-separated
    /// (<c>https://graph.microsoft.com/Mail.ReadWrite offline_access</c> gives <c>scp = "Mail.ReadWrite"</c>).
    /// </summary>
    public bool DelegatedScpClaim { get; set; }

    /// <summary>Whether the password grant is enabled (and advertised in the discovery document).</summary>
    public bool AllowPasswordFlow { get; set; } = true;

    /// <summary>Opaque (reference) access tokens instead of JWTs: a client can no longer decode them.</summary>
    public bool OpaqueAccessTokens { get; set; }

    /// <summary>
    /// The host name in the issuer and every advertised endpoint instead of 127.0.0.1 (it still listens on 127.0.0.1):
    /// a made-up name that only a test's forward proxy resolves, so clients must reach the provider through the proxy.
    /// </summary>
    public string? PublicHost { get; set; }

    /// <summary>Serves https with this certificate (with its private key) instead of plain http.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ServerCertificate { get; set; }

    /// <summary>
    /// With <see cref="ServerCertificate"/>: every connection must present a client certificate issued by this CA
    /// (mutual TLS); connections without one are refused during the handshake.
    /// </summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? RequireClientCertificateFrom { get; set; }

    /// <summary>
    /// With <see cref="ServerCertificate"/>: OpenIddict's own RFC 8705 <c>tls_client_auth</c> (PKI mutual-TLS client
    /// authentication) against this CA, advertised in the metadata's token_endpoint_auth_methods_supported. The listener
    /// asks every connection for a client certificate but demands none and accepts any in the handshake: a client
    /// registered with <see cref="TestClient.TlsClientAuthSubjectDn"/> (and no secret) is authenticated at the token
    /// endpoint only by a certificate that chains to this CA and carries exactly that subject DN; without a certificate or
    /// with another one it gets invalid_client. Clients with a secret that present no certificate work as before.
    /// Cannot be combined with <see cref="RequireClientCertificateFrom"/>.
    /// </summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? TlsClientAuthenticationCa { get; set; }

    /// <summary>Clients registered when the server starts.</summary>
    public IList<TestClient> Clients { get; } = [];

    /// <summary>Users added when the server starts.</summary>
    public IList<TestUser> Users { get; } = [];

    /// <summary>Minimum log level of the default console logger. Warning keeps test output small.</summary>
    public LogLevel MinimumLogLevel { get; set; } = LogLevel.Warning;

    /// <summary>
    /// Replaces the default console logging (e.g. to route logs to a test output helper).
    /// The builder has no providers when this is called; <see cref="MinimumLogLevel"/> is already applied.
    /// </summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; set; }
}
