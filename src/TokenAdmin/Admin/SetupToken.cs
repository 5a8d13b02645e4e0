using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace TokenAdmin.Admin;

/// <summary>A one-time first-run setup link. Only the SHA-256 of the random value is stored.</summary>
public sealed class SetupToken
{
    public int Id { get; set; }
    public required string TokenHash { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
    public DateTime? UsedAt { get; set; }
}

internal sealed class SetupTokenConfiguration : IEntityTypeConfiguration<SetupToken>
{
    public void Configure(EntityTypeBuilder<SetupToken> builder)
    {
        builder.Property(t => t.TokenHash).HasMaxLength(64);
        builder.HasIndex(t => t.TokenHash).IsUnique();
        // Note: a concurrency token, so two posts of one link cannot both create an admin.
        builder.Property(t => t.UsedAt).IsConcurrencyToken();
    }
}
