using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace TokenAdmin.Tokens;

/// <summary>
/// One authorization-code request in flight: random state, PKCE verifier, nonce, who started it and from which
/// browser. Used once; expires after a few minutes.
/// </summary>
public sealed class AuthorizationRequest
{
    public int Id { get; set; }
    /// <summary>SHA-256 of the state sent to the provider.</summary>
    public required string StateHash { get; set; }
    /// <summary>The token config the code is for, or null when it is for a functional account.</summary>
    public int? TokenConfigId { get; set; }
    /// <summary>The functional account the code is for, or null when it is for a token config.</summary>
    public int? FunctionalAccountId { get; set; }
    public required string CodeVerifierProtected { get; set; }
    public string? Nonce { get; set; }
    public required string RedirectUri { get; set; }
    public required string AdminId { get; set; }
    /// <summary>SHA-256 of the random value in the browser's binding cookie.</summary>
    public required string BrowserBindingHash { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
    public DateTime? UsedAt { get; set; }
}

internal sealed class AuthorizationRequestConfiguration : IEntityTypeConfiguration<AuthorizationRequest>
{
    public void Configure(EntityTypeBuilder<AuthorizationRequest> builder)
    {
        builder.Property(r => r.StateHash).HasMaxLength(64);
        builder.HasIndex(r => r.StateHash).IsUnique();
        builder.Property(r => r.Nonce).HasMaxLength(100);
        builder.Property(r => r.AdminId).HasMaxLength(200);
        builder.Property(r => r.BrowserBindingHash).HasMaxLength(64);
        builder.Property(r => r.RedirectUri).HasMaxLength(2000);
        builder.Property(r => r.UsedAt).IsConcurrencyToken();
        builder.HasIndex(r => r.ExpiresAt);
        builder.HasOne<TokenConfig>().WithMany().HasForeignKey(r => r.TokenConfigId).OnDelete(DeleteBehavior.Cascade);
    }
}
