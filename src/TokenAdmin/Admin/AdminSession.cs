using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace TokenAdmin.Admin;

/// <summary>
/// One signed-in browser. The sign-in cookie names its row; every request checks that the row still exists and has
/// not reached its absolute end, so signing out, a password change, disabling or removing an admin ends the session
/// on every node at once (the cookie itself cannot be recalled).
/// </summary>
public sealed class AdminSession
{
    /// <summary>Random, 256 bits, base64url; only ever travels inside the encrypted sign-in cookie.</summary>
    public required string Id { get; set; }

    /// <summary>The local admin; null for an admin signed in with OpenID Connect (those have no row).</summary>
    public int? AdminUserId { get; set; }
    public AdminUser? AdminUser { get; set; }

    /// <summary>The name identifier of the signed-in admin ("local:3", "oidc:&lt;sub&gt;").</summary>
    public required string Subject { get; set; }
    public DateTime CreatedAt { get; set; }

    /// <summary>The absolute end: sliding renewals of the cookie never move it.</summary>
    public DateTime ExpiresAt { get; set; }
}

internal sealed class AdminSessionConfiguration : IEntityTypeConfiguration<AdminSession>
{
    public void Configure(EntityTypeBuilder<AdminSession> builder)
    {
        builder.Property(s => s.Id).HasMaxLength(64);
        builder.Property(s => s.Subject).HasMaxLength(300);
        builder.HasOne(s => s.AdminUser).WithMany().HasForeignKey(s => s.AdminUserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(s => s.ExpiresAt);
    }
}
