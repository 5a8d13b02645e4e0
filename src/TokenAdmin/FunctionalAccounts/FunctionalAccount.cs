using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using TokenAdmin.Oidc;
using TokenAdmin.Tokens;

namespace TokenAdmin.FunctionalAccounts;

/// <summary>
/// A technical account at an OIDC profile's provider (OTOBO's "OAuth functional account"): how its tokens are got
/// (grant type, scope, resources) and which token it hands out. Its tokens live in <see cref="TokenState"/> like a
/// token config's and are served by the same token provider.
/// </summary>
public sealed class FunctionalAccount
{
    public int Id { get; set; }
    public string Name { get; set; } = "";
    public string NormalizedName { get; set; } = "";
    public int OidcProfileId { get; set; }
    public OidcProfile? Profile { get; set; }
    public string GrantType { get; set; } = AccountGrantTypes.ClientCredentials;
    public string Scope { get; set; } = FunctionalAccountDefaults.Scope;
    public string? Username { get; set; }
    public string? PasswordProtected { get; set; }
    /// <summary>Space-separated resource indicators (RFC 8707), e.g. an App ID URI.</summary>
    public string? Resources { get; set; }
    public string ResourceParameterName { get; set; } = FunctionalAccountDefaults.ResourceParameterName;
    /// <summary>True: one parameter per resource (RFC 8707); false: one parameter with the resources space-joined.</summary>
    public bool ResourcePerParameter { get; set; } = true;
    public string TokenType { get; set; } = AccountTokenTypes.AccessToken;
    /// <summary>Refresh-token lifetime to assume when the provider does not state one (Microsoft: 90 days); null = unknown.</summary>
    public int? RefreshTokenLifetimeDays { get; set; }
    /// <summary>True when each use of the refresh token starts its lifetime again: the updater then uses it before it goes idle.</summary>
    public bool RefreshTokenSliding { get; set; }
    public bool Valid { get; set; } = true;
    /// <summary>Whether the token broker of the API (/api/v1) may hand this account's token to a caller with the tokens.broker role. Off by default.</summary>
    public bool SharedThroughApi { get; set; }
    public TokenState? State { get; set; }

    /// <summary>How the client authenticates at the token endpoint (<see cref="ClientAuthentications"/>); automatic = from the provider's metadata.</summary>
    public string ClientAuthentication { get; set; } = ClientAuthentications.Automatic;

    /// <summary>RS256, PS256 or ES256 for private_key_jwt; null = the key's default.</summary>
    public string? ClientAssertionAlgorithm { get; set; }

    /// <summary>token_endpoint (null, the default) or issuer: what a client assertion's aud names.</summary>
    public string? ClientAssertionAudience { get; set; }

    /// <summary>The account's own client certificate (private_key_jwt, tls_client_auth); without one, mutual TLS uses the profile's.</summary>
    public ClientCertificate Certificate { get; set; } = new();

    // JWT bearer grant (RFC 7523 section 2.1).
    /// <summary>The mailbox (user) the service account acts as: the assertion's sub; null = the service account itself.</summary>
    public string? AssertionSubject { get; set; }

    /// <summary>The service-account key that signs the JWT bearer assertion; empty = the account's client certificate signs it.</summary>
    public ServiceAccountKey ServiceAccountKey { get; set; } = new();
    /// <summary>prompt, login_hint, domain_hint of the authorization request (authorization code accounts).</summary>
    public SignInOptions SignIn { get; set; } = new();

    public DateTime CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTime ChangedAt { get; set; }
    public string ChangedBy { get; set; } = "";
    public string Version { get; set; } = Guid.NewGuid().ToString("N");

    public static string Normalize(string name) => name.Trim().ToUpperInvariant();
}

/// <summary>The expiring credentials of an account: its profile's client secret (when an expiry date is entered there) and its own certificate.</summary>
public static class FunctionalAccountCredentials
{
    /// <summary><paramref name="account"/> with its <see cref="FunctionalAccount.Profile"/> loaded.</summary>
    public static IReadOnlyList<CredentialExpiry> Of(FunctionalAccount account) =>
        CredentialExpiry.Of(account.Profile?.ClientSecretProtected is not null, account.Profile?.ClientSecretExpiresAt, account.Certificate.NotAfter);
}

public static class AccountGrantTypes
{
    public const string ClientCredentials = "client_credentials";
    public const string Password = "password";
    public const string AuthorizationCode = "authorization_code";

    /// <summary>The JWT bearer grant (RFC 7523 section 2.1); sent as <see cref="JwtBearerGrant.GrantType"/>.</summary>
    public const string JwtBearer = "jwt_bearer";

    /// <summary>The device authorization grant (RFC 8628); sent as <see cref="DeviceCodeGrant.GrantType"/>.</summary>
    public const string DeviceCode = "device_code";

    public static readonly IReadOnlyList<string> All = [ClientCredentials, Password, AuthorizationCode, JwtBearer, DeviceCode];

    /// <summary>The grant_type value a provider lists in grant_types_supported.</summary>
    public static string OAuthName(string grantType) => grantType switch
    {
        JwtBearer => JwtBearerGrant.GrantType,
        DeviceCode => DeviceCodeGrant.GrantType,
        _ => grantType,
    };
}

public static class AccountTokenTypes
{
    public const string AccessToken = "access_token";
    public const string IdToken = "id_token";

    public static readonly IReadOnlyList<string> All = [AccessToken, IdToken];
}

public static class FunctionalAccountDefaults
{
    public const string Scope = "openid offline_access";
    public const string ResourceParameterName = "resource";
}

internal sealed class FunctionalAccountConfiguration : IEntityTypeConfiguration<FunctionalAccount>
{
    public void Configure(EntityTypeBuilder<FunctionalAccount> builder)
    {
        builder.HasIndex(a => a.NormalizedName).IsUnique();
        builder.Property(a => a.Name).HasMaxLength(200);
        builder.Property(a => a.NormalizedName).HasMaxLength(200);
        builder.Property(a => a.GrantType).HasMaxLength(40);
        builder.Property(a => a.Scope).HasMaxLength(2000);
        builder.Property(a => a.Username).HasMaxLength(500);
        builder.Property(a => a.Resources).HasMaxLength(2000);
        builder.Property(a => a.ResourceParameterName).HasMaxLength(100);
        builder.Property(a => a.TokenType).HasMaxLength(20);
        builder.Property(a => a.CreatedBy).HasMaxLength(200);
        builder.Property(a => a.ChangedBy).HasMaxLength(200);
        builder.Property(a => a.Version).HasMaxLength(32).IsConcurrencyToken();
        builder.Property(a => a.ClientAuthentication).HasMaxLength(40);
        builder.Property(a => a.ClientAssertionAlgorithm).HasMaxLength(10);
        builder.Property(a => a.ClientAssertionAudience).HasMaxLength(20);
        builder.ComplexProperty(a => a.Certificate, ClientCertificateColumns.Configure);
        builder.Property(a => a.AssertionSubject).HasMaxLength(320);
        builder.ComplexProperty(a => a.ServiceAccountKey, ServiceAccountKeyColumns.Configure);
        builder.ComplexProperty(a => a.SignIn, SignInOptions.Configure);
        // Note: a profile in use cannot be deleted (the service says so first; the database enforces it too).
        builder.HasOne(a => a.Profile).WithMany().HasForeignKey(a => a.OidcProfileId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne(a => a.State).WithOne().HasForeignKey<TokenState>(s => s.FunctionalAccountId).OnDelete(DeleteBehavior.Cascade);
        // An authorization started for the account ends with it.
        builder.HasMany<AuthorizationRequest>().WithOne().HasForeignKey(r => r.FunctionalAccountId).OnDelete(DeleteBehavior.Cascade);
    }
}
