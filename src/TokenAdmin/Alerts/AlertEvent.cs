using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace TokenAdmin.Alerts;

/// <summary>
/// One alert in the outbox: written in the same transaction as the state change that causes it, then handed to the
/// channels whose filter it passes (<see cref="AlertDelivery"/>). <see cref="EventId"/> is what receivers deduplicate by.
/// </summary>
public sealed class AlertEvent
{
    public long Id { get; set; }
    /// <summary>Globally unique (32 hex digits); the same in every delivery of this alert, on every channel and attempt.</summary>
    public required string EventId { get; set; }
    /// <summary>One of <see cref="AlertTypes"/>.</summary>
    public required string Type { get; set; }
    /// <summary>What the alert is about: TokenConfig, FunctionalAccount, MailAccount, WebService or Updater.</summary>
    public required string SourceKind { get; set; }
    public int? SourceId { get; set; }
    public required string SourceName { get; set; }
    /// <summary>The state the source is in now: failing, dead, ok, expiring.</summary>
    public required string State { get; set; }
    public required string Message { get; set; }
    /// <summary>The path (below the public base URL) of the page that fixes it, e.g. /Tokens/Details/4.</summary>
    public string? Link { get; set; }
    /// <summary>A daily digest's content (JSON, see <c>Alerts.Channels.AlertDigestContent</c>); null for other alerts.</summary>
    public string? Details { get; set; }
    public DateTime CreatedAt { get; set; }
    /// <summary>Set once its deliveries (one per matching channel) are written; null while it waits for that.</summary>
    public DateTime? DispatchedAt { get; set; }
}

/// <summary>One alert to one channel: pending until sent, retried with backoff, finally sent or failed.</summary>
public sealed class AlertDelivery
{
    public long Id { get; set; }
    public long AlertEventId { get; set; }
    public AlertEvent? Event { get; set; }
    /// <summary>The channel; null once the channel is deleted (the history keeps its name).</summary>
    public int? ChannelId { get; set; }
    public required string ChannelName { get; set; }
    public AlertDeliveryStatus Status { get; set; }
    public int Attempts { get; set; }
    public DateTime NextAttemptAt { get; set; }
    /// <summary>The process sending it right now (see <see cref="Tokens.LeaseHolder"/>), so no other node sends it too.</summary>
    public string? LeaseOwner { get; set; }
    public DateTime? LeaseUntil { get; set; }
    public string? LastError { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? CompletedAt { get; set; }
}

public enum AlertDeliveryStatus { Pending = 0, Sent = 1, Failed = 2 }

/// <summary>The event types; channel filters name them.</summary>
public static class AlertTypes
{
    public const string SourceFailing = "source.failing";
    public const string SourceDead = "source.dead";
    public const string SourceRecovered = "source.recovered";
    public const string RefreshTokenExpiring = "source.refresh-token-expiring";
    /// <summary>A client secret (with an expiry date entered) or a client certificate of a source expires within the warning window, or has expired.</summary>
    public const string CredentialExpiring = "source.credential-expiring";
    public const string MailFetchFailing = "mail.fetch-failing";
    public const string MailFetchRecovered = "mail.fetch-recovered";
    /// <summary>Calls of a web service fail (no answer, timeout, no token, HTTP 5xx or 401) N times in a row or for M minutes.</summary>
    public const string WebServiceFailing = "webservice.calls-failing";
    public const string WebServiceRecovered = "webservice.calls-recovered";
    public const string UpdaterStalled = "updater.stalled";
    public const string UpdaterRecovered = "updater.recovered";
    public const string Test = "test";
    /// <summary>A channel's daily digest: the alerts of the last 24 hours, what is unresolved now, failed deliveries. Not a filter choice.</summary>
    public const string DailyDigest = "digest.daily";

    public static IReadOnlyList<string> All { get; } =
        [SourceFailing, SourceDead, SourceRecovered, RefreshTokenExpiring, CredentialExpiring, MailFetchFailing, MailFetchRecovered, WebServiceFailing, WebServiceRecovered, UpdaterStalled, UpdaterRecovered];

    public static string Describe(string type) => type switch
    {
        SourceFailing => "Token source failing",
        SourceDead => "Token source cannot get tokens",
        SourceRecovered => "Token source recovered",
        RefreshTokenExpiring => "Refresh token expires soon",
        CredentialExpiring => "Client secret or certificate will expire",
        MailFetchFailing => "Mail fetch failing",
        MailFetchRecovered => "Mail fetch recovered",
        WebServiceFailing => "Web service calls failing",
        WebServiceRecovered => "Web service calls recovered",
        UpdaterStalled => "Token store updater stalled",
        UpdaterRecovered => "Token store updater running again",
        Test => "Test",
        DailyDigest => "Daily digest",
        _ => type,
    };
}

internal sealed class AlertEventConfiguration : IEntityTypeConfiguration<AlertEvent>
{
    public void Configure(EntityTypeBuilder<AlertEvent> builder)
    {
        builder.HasIndex(e => e.EventId).IsUnique();
        builder.HasIndex(e => e.DispatchedAt);
        builder.HasIndex(e => e.CreatedAt);
        builder.Property(e => e.EventId).HasMaxLength(32);
        builder.Property(e => e.Type).HasMaxLength(60);
        builder.Property(e => e.SourceKind).HasMaxLength(40);
        builder.Property(e => e.SourceName).HasMaxLength(300);
        builder.Property(e => e.State).HasMaxLength(40);
        builder.Property(e => e.Message).HasMaxLength(4000);
        builder.Property(e => e.Link).HasMaxLength(300);
    }
}

internal sealed class AlertDeliveryConfiguration : IEntityTypeConfiguration<AlertDelivery>
{
    public void Configure(EntityTypeBuilder<AlertDelivery> builder)
    {
        builder.HasOne(d => d.Event).WithMany().HasForeignKey(d => d.AlertEventId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<AlertChannel>().WithMany().HasForeignKey(d => d.ChannelId).OnDelete(DeleteBehavior.SetNull);
        builder.HasIndex(d => new { d.AlertEventId, d.ChannelId }).IsUnique();
        builder.HasIndex(d => new { d.Status, d.NextAttemptAt });
        builder.Property(d => d.ChannelName).HasMaxLength(100);
        builder.Property(d => d.LeaseOwner).HasMaxLength(100);
        builder.Property(d => d.LastError).HasMaxLength(2000);
    }
}
