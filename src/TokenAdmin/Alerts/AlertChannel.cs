using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace TokenAdmin.Alerts;

public enum AlertChannelKind { Email = 1, Webhook = 2 }

/// <summary>Whether a channel gets a daily digest, and whether it still gets each alert at once.</summary>
public enum AlertDigestMode
{
    /// <summary>Each alert at once, no digest (the default).</summary>
    Off = 0,
    /// <summary>Each alert at once, and a digest once a day.</summary>
    WithAlerts = 1,
    /// <summary>Only the digest once a day; no alert at once.</summary>
    DigestOnly = 2,
}

/// <summary>Where alerts go: mail to addresses through the SMTP sending settings, or a signed webhook.</summary>
public sealed class AlertChannel
{
    public int Id { get; set; }
    public required string Name { get; set; }
    public AlertChannelKind Kind { get; set; }
    /// <summary>Email: the recipients (comma-separated); webhook: the URL (https, or http to this machine).</summary>
    public required string Target { get; set; }
    /// <summary>The webhook's signing secret, encrypted; null for email.</summary>
    public string? SecretProtected { get; set; }
    /// <summary>The event types sent (space-separated <see cref="AlertTypes"/>); empty: all.</summary>
    public string EventTypes { get; set; } = "";
    /// <summary>The source names sent (comma-separated, case-insensitive); empty: all.</summary>
    public string Sources { get; set; } = "";
    public bool Enabled { get; set; } = true;
    /// <summary>Whether this channel gets a daily digest (<see cref="AlertTypes.DailyDigest"/>) and still each alert at once.</summary>
    public AlertDigestMode DigestMode { get; set; }
    /// <summary>The time of day (UTC) the daily digest is sent at, covering the 24 hours before it.</summary>
    public TimeOnly DigestAt { get; set; } = new(8, 0);
    public DateTime CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTime ChangedAt { get; set; }
    public string ChangedBy { get; set; } = "";
    public string Version { get; set; } = Guid.NewGuid().ToString("N");

    public IReadOnlyList<string> EventTypeList => EventTypes.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    public IReadOnlyList<string> SourceList => Sources.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Whether an alert of <paramref name="type"/> about <paramref name="sourceName"/> goes to this channel.</summary>
    public bool Accepts(string type, string sourceName) =>
        DigestMode != AlertDigestMode.DigestOnly && Matches(type, sourceName);

    /// <summary>Whether the filter (event types, sources) lets <paramref name="type"/> about <paramref name="sourceName"/> through, digest or not.</summary>
    public bool Matches(string type, string sourceName) =>
        (EventTypes.Length == 0 || EventTypeList.Contains(type, StringComparer.Ordinal))
        && (Sources.Length == 0 || SourceList.Contains(sourceName, StringComparer.OrdinalIgnoreCase));
}

internal sealed class AlertChannelConfiguration : IEntityTypeConfiguration<AlertChannel>
{
    public void Configure(EntityTypeBuilder<AlertChannel> builder)
    {
        builder.HasIndex(c => c.Name).IsUnique();
        builder.Property(c => c.Name).HasMaxLength(100);
        builder.Property(c => c.Target).HasMaxLength(2000);
        builder.Property(c => c.EventTypes).HasMaxLength(1000);
        builder.Property(c => c.Sources).HasMaxLength(2000);
        builder.Property(c => c.CreatedBy).HasMaxLength(200);
        builder.Property(c => c.ChangedBy).HasMaxLength(200);
        builder.Property(c => c.Version).HasMaxLength(32).IsConcurrencyToken();
    }
}
