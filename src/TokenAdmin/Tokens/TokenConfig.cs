using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using TokenAdmin.Data;

namespace TokenAdmin.Tokens;

/// <summary>A stored token config: its YAML document plus the encrypted secrets that never go into the YAML.</summary>
public sealed class TokenConfig : IDerivedColumns
{
    public int Id { get; set; }
    public required string Name { get; set; }
    /// <summary>Lower-cased name, unique on every database.</summary>
    public required string NormalizedName { get; set; }
    public required string Template { get; set; }
    public bool Valid { get; set; } = true;
    /// <summary>Copied from the YAML (sharedThroughApi): whether the API's token broker may hand out this config's access token.</summary>
    public bool SharedThroughApi { get; set; }
    public required string Flow { get; set; }
    public required string Yaml { get; set; }
    /// <summary>Copied from the YAML (notifications.expiringSoonDays) so lists and banners need not parse it.</summary>
    public int ExpiringSoonDays { get; set; }
    public string? ClientSecretProtected { get; set; }
    /// <summary>Copied from the YAML (clientSecretExpires, start of that day UTC) so banners and alerts need not parse it.</summary>
    public DateTime? ClientSecretExpiresAt { get; set; }
    public string? PasswordProtected { get; set; }
    /// <summary>The client certificate for private_key_jwt and tls_client_auth (never in the YAML).</summary>
    public ClientCertificate Certificate { get; set; } = new();
    /// <summary>The service-account key of the JWT bearer flow (never in the YAML).</summary>
    public ServiceAccountKey ServiceAccountKey { get; set; } = new();
    /// <summary>
    /// When the first of its credentials expires: the earlier of the certificate's NotAfter and, when a client secret is
    /// held, <see cref="ClientSecretExpiresAt"/>; null when neither. Derived each time the config is saved
    /// (<see cref="DeriveColumns"/>), so the dashboard, banners and alert scanner find expiring credentials by an index
    /// instead of reading every config (EF Core cannot index the certificate's complex-type column).
    /// </summary>
    public DateTime? CredentialExpiresAt { get; set; }
    public DateTime CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTime ChangedAt { get; set; }
    public string ChangedBy { get; set; } = "";
    public string Version { get; set; } = Guid.NewGuid().ToString("N");
    public TokenState? State { get; set; }

    public static string Normalize(string name) => name.Trim().ToLowerInvariant();

    public void DeriveColumns() => CredentialExpiresAt = CredentialExpiry.Soonest(ClientSecretProtected is not null, ClientSecretExpiresAt, Certificate.NotAfter)?.ExpiresAt;
}

internal sealed class TokenConfigConfiguration : IEntityTypeConfiguration<TokenConfig>
{
    public void Configure(EntityTypeBuilder<TokenConfig> builder)
    {
        builder.Property(c => c.Name).HasMaxLength(100);
        builder.Property(c => c.NormalizedName).HasMaxLength(100);
        builder.HasIndex(c => c.NormalizedName).IsUnique();
        builder.Property(c => c.Template).HasMaxLength(60);
        builder.Property(c => c.Flow).HasMaxLength(30);
        builder.Property(c => c.CreatedBy).HasMaxLength(200);
        builder.Property(c => c.ChangedBy).HasMaxLength(200);
        builder.Property(c => c.Version).HasMaxLength(32).IsConcurrencyToken();
        builder.ComplexProperty(c => c.Certificate, ClientCertificateColumns.Configure);
        builder.HasIndex(c => c.CredentialExpiresAt);
        builder.ComplexProperty(c => c.ServiceAccountKey, ServiceAccountKeyColumns.Configure);
        builder.HasOne(c => c.State).WithOne().HasForeignKey<TokenState>(s => s.TokenConfigId).OnDelete(DeleteBehavior.Cascade);
    }
}
