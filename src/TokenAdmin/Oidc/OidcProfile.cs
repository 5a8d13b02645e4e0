using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace TokenAdmin.Oidc;

/// <summary>
/// One OpenID Connect provider as TokenAdmin talks to it (OTOBO's "OIDC profile"): discovery, client credentials,
/// TLS settings, token checks, claim maps and what incoming API tokens must carry. Secrets are stored encrypted.
/// </summary>
public sealed class OidcProfile
{
    public int Id { get; set; }
    public string Name { get; set; } = "";
    public string NormalizedName { get; set; } = "";
    public string DiscoveryUrl { get; set; } = "";
    public string ClientId { get; set; } = "";
    public string? ClientSecretProtected { get; set; }
    /// <summary>When the client secret expires (start of the day entered, UTC); the functional accounts of the profile warn before it.</summary>
    public DateTime? ClientSecretExpiresAt { get; set; }
    public int DiscoveryCacheSeconds { get; set; } = OidcProfileDefaults.DiscoveryCacheSeconds;

    // TLS: a private CA, a client certificate for mutual TLS, and (discouraged) switching verification off.
    public string? CaCertificatePath { get; set; }
    public string? ClientCertificatePath { get; set; }
    public string? ClientKeyPath { get; set; }
    public string? ClientKeyPasswordProtected { get; set; }
    public bool VerifyHostname { get; set; } = true;
    public bool VerifyCertificate { get; set; } = true;

    // Misc, as OTOBO names them.
    public bool UseNonce { get; set; } = true;
    public int RandLength { get; set; } = OidcProfileDefaults.RandLength;
    public int RandTtlSeconds { get; set; } = OidcProfileDefaults.RandTtlSeconds;
    public int LeewaySeconds { get; set; } = OidcProfileDefaults.LeewaySeconds;

    public string UidClaim { get; set; } = OidcProfileDefaults.UidClaim;
    public string? RoleMapYaml { get; set; }
    public string? UserMapYaml { get; set; }

    // Restrictions for incoming tokens.
    public bool AcceptIncomingTokens { get; set; }
    public int IncomingOrder { get; set; }
    /// <summary>Whether an incoming token whose user is not known yet creates the API user (and updates known ones) through the RoleMap and UserMap.</summary>
    public bool CreateApiUsers { get; set; }
    public string? RestrictUserLogin { get; set; }
    public string? RestrictScope { get; set; }
    /// <summary>Accepted audiences, one per line; empty means the client id.</summary>
    public string? RestrictAudience { get; set; }
    public string? RestrictAuthorizedParty { get; set; }

    public DateTime CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTime ChangedAt { get; set; }
    public string ChangedBy { get; set; } = "";
    public string Version { get; set; } = Guid.NewGuid().ToString("N");

    /// <summary>Whether any TLS check is switched off: shown in red on the profile and its list row.</summary>
    public bool TlsVerificationOff => !VerifyHostname || !VerifyCertificate;

    public static string Normalize(string name) => name.Trim().ToUpperInvariant();
}

public static class OidcProfileDefaults
{
    public const int DiscoveryCacheSeconds = 1800;
    public const int RandLength = 22;
    public const int RandTtlSeconds = 300;
    public const int LeewaySeconds = 2;
    public const string UidClaim = "sub";
}

internal sealed class OidcProfileConfiguration : IEntityTypeConfiguration<OidcProfile>
{
    public void Configure(EntityTypeBuilder<OidcProfile> builder)
    {
        builder.HasIndex(p => p.NormalizedName).IsUnique();
        builder.Property(p => p.Name).HasMaxLength(200);
        builder.Property(p => p.NormalizedName).HasMaxLength(200);
        builder.Property(p => p.DiscoveryUrl).HasMaxLength(2000);
        builder.Property(p => p.ClientId).HasMaxLength(500);
        builder.Property(p => p.CaCertificatePath).HasMaxLength(1000);
        builder.Property(p => p.ClientCertificatePath).HasMaxLength(1000);
        builder.Property(p => p.ClientKeyPath).HasMaxLength(1000);
        builder.Property(p => p.UidClaim).HasMaxLength(200);
        builder.Property(p => p.RestrictUserLogin).HasMaxLength(500);
        builder.Property(p => p.RestrictScope).HasMaxLength(1000);
        builder.Property(p => p.RestrictAudience).HasMaxLength(2000);
        builder.Property(p => p.RestrictAuthorizedParty).HasMaxLength(500);
        builder.Property(p => p.CreatedBy).HasMaxLength(200);
        builder.Property(p => p.ChangedBy).HasMaxLength(200);
        builder.Property(p => p.Version).HasMaxLength(32).IsConcurrencyToken();
    }
}
