using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using TokenAdmin.Alerts;
using TokenAdmin.Data;

namespace TokenAdmin.Tokens;

/// <summary>
/// What TokenAdmin holds for one token source: the tokens (encrypted), their expiries and the last error.
/// Column sizes are unbounded on purpose: Microsoft access tokens pass 4 KB (Znuny #289).
/// </summary>
public sealed class TokenState : IDerivedColumns
{
    public int Id { get; set; }
    /// <summary>The token config these tokens belong to, or null for a functional account's.</summary>
    public int? TokenConfigId { get; set; }
    /// <summary>The functional account these tokens belong to, or null for a token config's.</summary>
    public int? FunctionalAccountId { get; set; }
    public string? AccessTokenProtected { get; set; }
    public DateTime? AccessTokenExpiresAt { get; set; }
    public string? TokenType { get; set; }
    public string? GrantedScope { get; set; }
    public string? RefreshTokenProtected { get; set; }
    public DateTime? RefreshTokenExpiresAt { get; set; }
    /// <summary>True when the refresh token expiry is the config's assumed lifetime rather than the provider's word.</summary>
    public bool RefreshTokenExpiryEstimated { get; set; }
    /// <summary>Set when the provider refused the refresh token (invalid_grant): it is dead until a new authorization.</summary>
    public DateTime? RefreshTokenRevokedAt { get; set; }
    public string? IdTokenProtected { get; set; }
    /// <summary>The ID token's validated exp: a functional account that hands out ID tokens renews by it.</summary>
    public DateTime? IdTokenExpiresAt { get; set; }
    public DateTime? ObtainedAt { get; set; }
    public DateTime? LastRefreshAt { get; set; }
    public string? LastErrorCode { get; set; }
    public string? LastErrorDescription { get; set; }
    public DateTime? LastErrorAt { get; set; }
    public int ConsecutiveFailures { get; set; }
    /// <summary>When the current run of failures began (the first of <see cref="ConsecutiveFailures"/>); null while it works.</summary>
    public DateTime? FailingSince { get; set; }
    /// <summary>The condition last alerted (failing, dead); null when fine. Changes of it raise exactly one alert each.</summary>
    public string? AlertCondition { get; set; }
    /// <summary>
    /// Where the source stands, derived from the columns above each time the state is saved (<see cref="DeriveColumns"/>),
    /// so the dashboard counts and lists by an indexed column instead of scanning every state.
    /// </summary>
    public TokenStanding Standing { get; set; } = TokenStanding.NoTokens;
    /// <summary>The process that is spending the refresh token right now, so no other process spends it too.</summary>
    public string? LeaseOwner { get; set; }
    public DateTime? LeaseUntil { get; set; }
    public string Version { get; set; } = Guid.NewGuid().ToString("N");

    public void DeriveColumns() => Standing = StandingOf(AlertCondition, RefreshTokenRevokedAt, AccessTokenProtected is not null || RefreshTokenProtected is not null);

    public static TokenStanding StandingOf(string? alertCondition, DateTime? refreshTokenRevokedAt, bool hasTokens) =>
        alertCondition == AlertConditions.Dead || refreshTokenRevokedAt is not null ? TokenStanding.Dead
        : alertCondition == AlertConditions.Failing ? TokenStanding.Failing
        : hasTokens ? TokenStanding.Working
        : TokenStanding.NoTokens;
}

/// <summary>
/// A token source's standing, in the order the dashboard lists them: dead (the provider refused, a new authorization
/// or new credentials are needed), failing (transient failures past the alert thresholds), working (holds tokens; it
/// may still have a refresh token about to expire), no tokens yet. Stored as its number.
/// </summary>
public enum TokenStanding
{
    Dead = 0,
    Failing = 1,
    Working = 2,
    NoTokens = 3,
}

internal sealed class TokenStateConfiguration : IEntityTypeConfiguration<TokenState>
{
    public void Configure(EntityTypeBuilder<TokenState> builder)
    {
        builder.HasIndex(s => s.TokenConfigId).IsUnique();
        builder.HasIndex(s => s.FunctionalAccountId).IsUnique();
        builder.ToTable(t => t.HasCheckConstraint("CK_TokenStates_OneSource", "(\"TokenConfigId\" IS NULL) <> (\"FunctionalAccountId\" IS NULL)"));
        builder.Property(s => s.TokenType).HasMaxLength(40);
        builder.Property(s => s.LastErrorCode).HasMaxLength(100);
        builder.Property(s => s.LastErrorDescription).HasMaxLength(2000);
        builder.Property(s => s.LeaseOwner).HasMaxLength(100);
        builder.Property(s => s.AlertCondition).HasMaxLength(20);
        // The dashboard: dead and failing ones longest broken first, working ones by the refresh token's expiry, counts by standing.
        builder.HasIndex(s => new { s.Standing, s.FailingSince });
        // Note: only rows that hold a refresh token (a partial index, the same SQL on SQLite and PostgreSQL): the
        // dashboard counts and lists working sources' held refresh tokens by expiry, and with every state in the index
        // each match had to be read from the table to see whether a refresh token is held.
        builder.HasIndex(s => new { s.Standing, s.RefreshTokenExpiresAt }).HasFilter("\"RefreshTokenProtected\" IS NOT NULL");
        builder.Property(s => s.Version).HasMaxLength(32).IsConcurrencyToken();
    }
}

/// <summary>Helpers for loading sources with their states.</summary>
internal static class TokenStates
{
    /// <summary>
    /// Tracks the state of a source read without tracking, so a save stores what changed in it and nothing else (token
    /// operations change only states; the scan for changes before each save is then over a few narrow rows instead of
    /// every source's configuration too). Returns the instance to use: the one this context already tracks for that row
    /// (as a tracking query would), otherwise <paramref name="state"/>, now tracked.
    /// </summary>
    public static TokenState? Track(TokenAdminDb db, TokenState? state)
    {
        if (state is null)
        {
            return null;
        }

        // Note: DbSet.Local and Entries() scan every tracked entity for changes first (what this whole exercise
        // avoids); with automatic detection off they only look.
        var tracker = db.ChangeTracker;
        var autoDetect = tracker.AutoDetectChangesEnabled;
        tracker.AutoDetectChangesEnabled = false;
        try
        {
            foreach (var entry in tracker.Entries<TokenState>())
            {
                if (entry.Entity.Id == state.Id && entry.State != EntityState.Detached)
                {
                    return entry.Entity;
                }
            }
        }
        finally
        {
            tracker.AutoDetectChangesEnabled = autoDetect;
        }

        db.TokenStates.Attach(state);
        return state;
    }
}
