using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace TokenAdmin.WebServices.Api;

/// <summary>
/// A user of TokenAdmin's API, named by a token's UID claim and created through a profile's RoleMap and UserMap
/// (`import-user`, or an incoming API call). Roles from the map and roles an admin gave by hand are kept apart, so an
/// import never removes a hand-given role.
/// </summary>
public sealed class ApiUser
{
    public int Id { get; set; }
    public string Login { get; set; } = "";
    public string NormalizedLogin { get; set; } = "";
    public int? OidcProfileId { get; set; }
    public string? Email { get; set; }
    public string? FirstName { get; set; }
    public string? LastName { get; set; }
    public string? DisplayName { get; set; }
    /// <summary>Space-separated roles the RoleMap gave at the last import.</summary>
    public string MappedRoles { get; set; } = "";
    /// <summary>Space-separated roles an admin gave by hand.</summary>
    public string ManualRoles { get; set; } = "";
    public bool Valid { get; set; } = true;
    public DateTime CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTime ChangedAt { get; set; }
    public string ChangedBy { get; set; } = "";
    public DateTime? LastImportedAt { get; set; }

    public IReadOnlyList<string> Roles =>
        [.. MappedRoles.Split(' ', StringSplitOptions.RemoveEmptyEntries).Concat(ManualRoles.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    public static string Normalize(string login) => login.Trim().ToUpperInvariant();
}

internal sealed class ApiUserConfiguration : IEntityTypeConfiguration<ApiUser>
{
    public void Configure(EntityTypeBuilder<ApiUser> builder)
    {
        builder.HasIndex(u => u.NormalizedLogin).IsUnique();
        builder.Property(u => u.Login).HasMaxLength(300);
        builder.Property(u => u.NormalizedLogin).HasMaxLength(300);
        builder.Property(u => u.Email).HasMaxLength(300);
        builder.Property(u => u.FirstName).HasMaxLength(200);
        builder.Property(u => u.LastName).HasMaxLength(200);
        builder.Property(u => u.DisplayName).HasMaxLength(300);
        builder.Property(u => u.MappedRoles).HasMaxLength(1000);
        builder.Property(u => u.ManualRoles).HasMaxLength(1000);
        builder.Property(u => u.CreatedBy).HasMaxLength(200);
        builder.Property(u => u.ChangedBy).HasMaxLength(200);
        builder.HasOne<Oidc.OidcProfile>().WithMany().HasForeignKey(u => u.OidcProfileId).OnDelete(DeleteBehavior.SetNull);
    }
}
