using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace TokenAdmin.Admin;

/// <summary>A local administrator. OIDC admins have no row: their rights come from the provider's claims.</summary>
public sealed class AdminUser
{
    public int Id { get; set; }
    public required string UserName { get; set; }
    /// <summary>Lower-cased user name: unique, so "Alice" and "alice" are one admin on every database.</summary>
    public required string NormalizedUserName { get; set; }
    public required string PasswordHash { get; set; }
    public int FailedSignIns { get; set; }
    public DateTime? LockedUntil { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? LastSignInAt { get; set; }
    /// <summary>Changes with the password; a cookie issued before the change stops working.</summary>
    public string SecurityStamp { get; set; } = Guid.NewGuid().ToString("N");
    /// <summary>A disabled admin cannot sign in, and the sessions it had end with the next request.</summary>
    public bool Disabled { get; set; }

    public static string Normalize(string userName) => userName.Trim().ToLowerInvariant();
}

internal sealed class AdminUserConfiguration : IEntityTypeConfiguration<AdminUser>
{
    public void Configure(EntityTypeBuilder<AdminUser> builder)
    {
        builder.Property(u => u.UserName).HasMaxLength(100);
        builder.Property(u => u.NormalizedUserName).HasMaxLength(100);
        builder.HasIndex(u => u.NormalizedUserName).IsUnique();
        builder.Property(u => u.PasswordHash).HasMaxLength(200);
        builder.Property(u => u.SecurityStamp).HasMaxLength(64).IsConcurrencyToken();
    }
}
