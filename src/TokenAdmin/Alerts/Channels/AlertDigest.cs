using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Alerts;
using TokenAdmin.Data;
using TokenAdmin.Tokens;

namespace TokenAdmin.Alerts.Channels;

/// <summary>What a daily digest says: the alerts of its 24 hours by type, what is unresolved when it is made, and the deliveries that failed.</summary>
public sealed record AlertDigestContent(
    DateTime From, DateTime To, IReadOnlyList<AlertDigestGroup> Events, IReadOnlyList<AlertDigestItem> Unresolved, IReadOnlyList<AlertDigestFailure> FailedDeliveries)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public bool Quiet => Events.Count == 0 && Unresolved.Count == 0 && FailedDeliveries.Count == 0;

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static AlertDigestContent? FromJson(string? json) => json is null ? null : JsonSerializer.Deserialize<AlertDigestContent>(json, Json);

    /// <summary>The digest's one-line summary (the alert's message, the history's line).</summary>
    public string Summary()
    {
        if (Quiet)
        {
            return $"All good: no alerts between {From:yyyy-MM-dd HH:mm} and {To:yyyy-MM-dd HH:mm} UTC, nothing unresolved, no failed deliveries.";
        }

        var alerts = Events.Sum(e => e.Count);
        return $"Between {From:yyyy-MM-dd HH:mm} and {To:yyyy-MM-dd HH:mm} UTC: {alerts} alert(s), {Unresolved.Count} unresolved now, {FailedDeliveries.Count} failed deliver{(FailedDeliveries.Count == 1 ? "y" : "ies")}.";
    }
}

/// <summary>The alerts of one type in a digest: how many, and about which sources (each once).</summary>
public sealed record AlertDigestGroup(string Type, string Description, int Count, IReadOnlyList<AlertDigestItem> Sources);

/// <summary>A source in a digest: what it is, its state and the page that fixes it (a path below the public base URL).</summary>
public sealed record AlertDigestItem(string Kind, string Name, string State, string? Link, string? Message);

/// <summary>A delivery that finally failed within the digest's 24 hours.</summary>
public sealed record AlertDigestFailure(string Channel, string Type, string Source, DateTime RaisedAt, string? Error);

/// <summary>
/// Raises the daily digest of every enabled channel that has one (<see cref="AlertChannel.DigestMode"/>), once its time of
/// day (UTC, <see cref="AlertChannel.DigestAt"/>) has come. The digest is an alert written with its one delivery (to
/// that channel) and sent by the dispatcher like any other: durable, retried, recorded in the history. Its event id is
/// made from the channel and the day, so of several nodes and restarts exactly one digest per channel and day is
/// written (the unique event id lets the first in). A day with nothing to report gets a short "all good" digest: it
/// shows that TokenAdmin and its alerting still work.
/// </summary>
public sealed partial class AlertDigest(TokenAdminDb db, AlertOutbox outbox, TokenSourceKinds kinds, DatabaseWriteGate writes, TimeProvider time, ILogger<AlertDigest> logger)
{
    /// <summary>At most this many sources named per alert type, unresolved things and failed deliveries.</summary>
    public const int MaxItems = 50;

    /// <summary>The number of digests written.</summary>
    public async Task<int> RaiseDueAsync(CancellationToken cancellationToken)
    {
        var channels = await db.AlertChannels.AsNoTracking().Where(c => c.Enabled && c.DigestMode != AlertDigestMode.Off).ToListAsync(cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        var raised = 0;
        foreach (var channel in channels)
        {
            var due = LastDue(channel.DigestAt, now);
            var eventId = EventId(channel.Id, due);
            if (await db.AlertEvents.AnyAsync(e => e.EventId == eventId, cancellationToken))
            {
                continue;
            }

            // Note: the window starts where this channel's last digest ended (a day back at most), so a changed digest
            // time neither leaves hours out nor repeats them; a time moved earlier than the last digest's end waits a day.
            var lastTo = await LastDigestEndAsync(channel.Id, cancellationToken);
            if (lastTo >= due)
            {
                continue;
            }

            var from = lastTo is { } end && end > due.AddDays(-1) ? end : due.AddDays(-1);
            var content = await BuildAsync(channel, from, due, now, cancellationToken);
            if (await TryWriteAsync(channel, content, eventId, now, cancellationToken))
            {
                raised++;
            }
        }

        if (raised > 0)
        {
            outbox.Wake();
        }

        return raised;
    }

    private async Task<DateTime?> LastDigestEndAsync(int channelId, CancellationToken cancellationToken)
    {
        var details = await db.AlertEvents.AsNoTracking()
            .Where(e => e.Type == AlertTypes.DailyDigest && e.SourceKind == DigestSourceKind && e.SourceId == channelId)
            .OrderByDescending(e => e.Id).Select(e => e.Details).FirstOrDefaultAsync(cancellationToken);
        try
        {
            return AlertDigestContent.FromJson(details)?.To;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The latest moment at or before <paramref name="now"/> that is <paramref name="at"/> o'clock UTC.</summary>
    public static DateTime LastDue(TimeOnly at, DateTime now)
    {
        var today = DateTime.SpecifyKind(now.Date + at.ToTimeSpan(), DateTimeKind.Utc);
        return today <= now ? today : today.AddDays(-1);
    }

    /// <summary>The digest's event id: the same on every node for one channel and due time.</summary>
    public static string EventId(int channelId, DateTime due) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"digest|{channelId}|{due:yyyy-MM-ddTHH:mm}"))))[..32];

    /// <summary>The <see cref="AlertEvent.SourceKind"/> of a digest: the channel it is for.</summary>
    public const string DigestSourceKind = "Channel";

    /// <summary>The content of <paramref name="channel"/>'s digest for the 24 hours [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public async Task<AlertDigestContent> BuildAsync(AlertChannel channel, DateTime from, DateTime to, DateTime now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var events = await db.AlertEvents.AsNoTracking()
            .Where(e => e.CreatedAt >= from && e.CreatedAt < to && e.Type != AlertTypes.Test && e.Type != AlertTypes.DailyDigest)
            .OrderBy(e => e.Id).Take(5000)
            .Select(e => new { e.Type, e.SourceKind, e.SourceId, e.SourceName, e.State, e.Link, e.Message })
            .ToListAsync(cancellationToken);
        var groups = events.Where(e => channel.Matches(e.Type, e.SourceName))
            .GroupBy(e => e.Type)
            .OrderBy(g => AlertTypes.All.ToList().IndexOf(g.Key))
            .Select(g => new AlertDigestGroup(g.Key, AlertTypes.Describe(g.Key), g.Count(),
                [.. g.GroupBy(e => (e.SourceKind, e.SourceId, e.SourceName)).Select(s => s.Last())
                    .Take(MaxItems).Select(e => new AlertDigestItem(e.SourceKind, e.SourceName, e.State, e.Link, null))]))
            .ToList();

        var unresolved = await UnresolvedAsync(
            name => channel.Sources.Length == 0 || channel.SourceList.Contains(name, StringComparer.OrdinalIgnoreCase), now, cancellationToken);

        // Note: failed deliveries of alerts this channel follows (type and source filter), without the receiver's answer:
        // a channel kept to a few sources learns nothing of the others, and a receiver cannot put its text into the mail.
        var failures = (await db.AlertDeliveries.AsNoTracking()
            .Where(d => d.Status == AlertDeliveryStatus.Failed && d.CompletedAt >= from && d.CompletedAt < to && d.Event!.Type != AlertTypes.Test)
            .OrderBy(d => d.Id).Take(5000)
            .Select(d => new { d.ChannelName, d.Event!.Type, d.Event.SourceName, d.Event.CreatedAt, d.Attempts })
            .ToListAsync(cancellationToken))
            .Where(d => channel.Matches(d.Type, d.SourceName)).Take(MaxItems)
            .Select(d => new AlertDigestFailure(d.ChannelName, d.Type, d.SourceName, d.CreatedAt, $"not delivered after {d.Attempts} attempt(s); the answer is in the alert history"))
            .ToList();
        return new AlertDigestContent(from, to, groups, unresolved, failures);
    }

    /// <summary>
    /// What needs attention now: token sources, mail accounts and web services that are failing or dead (with their
    /// latest alert's name, link and message), refresh tokens that expire within the warning window, and a stalled updater.
    /// </summary>
    /// <remarks>
    /// Note: the channel's source filter (<paramref name="follows"/>) is applied before the list is cut at
    /// <see cref="MaxItems"/>, so a channel kept to a few sources sees them however many others fail.
    /// </remarks>
    private async Task<List<AlertDigestItem>> UnresolvedAsync(Func<string, bool> follows, DateTime now, CancellationToken cancellationToken)
    {
        var items = new List<AlertDigestItem>();
        var stuck = await db.TokenStates.AsNoTracking().Where(s => s.AlertCondition != null)
            .Select(s => new { Kind = s.TokenConfigId != null ? nameof(TokenSourceKind.TokenConfig) : nameof(TokenSourceKind.FunctionalAccount), Id = s.TokenConfigId ?? s.FunctionalAccountId, Condition = s.AlertCondition })
            .ToListAsync(cancellationToken);
        var mail = await db.MailAccounts.AsNoTracking().Where(a => a.AlertCondition != null)
            .Select(a => new { Kind = "MailAccount", Id = (int?)a.Id, Condition = a.AlertCondition }).ToListAsync(cancellationToken);
        var services = await db.WebServices.AsNoTracking().Where(w => w.AlertCondition != null)
            .Select(w => new { Kind = "WebService", Id = (int?)w.Id, Condition = w.AlertCondition }).ToListAsync(cancellationToken);
        foreach (var row in stuck.Concat(mail).Concat(services))
        {
            if (items.Count >= MaxItems)
            {
                break;
            }

            var last = await db.AlertEvents.AsNoTracking().Where(e => e.SourceKind == row.Kind && e.SourceId == row.Id && e.Type != AlertTypes.DailyDigest)
                .OrderByDescending(e => e.Id).Select(e => new { e.SourceName, e.Link, e.Message }).FirstOrDefaultAsync(cancellationToken);
            if (last is not null)
            {
                if (follows(last.SourceName))
                {
                    items.Add(new AlertDigestItem(row.Kind, last.SourceName, row.Condition!, last.Link, last.Message));
                }
            }
            else if (row.Id is { } id && Enum.TryParse<TokenSourceKind>(row.Kind, out var sourceKind))
            {
                // Its alert is older than the retention (reminders off): named from the source itself.
                var source = sourceKind == TokenSourceKind.TokenConfig ? TokenSource.Config(id) : TokenSource.Account(id);
                var name = source.Kind == TokenSourceKind.TokenConfig
                    ? await db.TokenConfigs.AsNoTracking().Where(x => x.Id == id).Select(x => x.Name).FirstOrDefaultAsync(cancellationToken)
                    : await db.FunctionalAccounts.AsNoTracking().Where(x => x.Id == id).Select(x => x.Name).FirstOrDefaultAsync(cancellationToken);
                if (name is not null && follows(name))
                {
                    items.Add(new AlertDigestItem(row.Kind, name, row.Condition!, kinds[source.Kind].PagePath(id), null));
                }
            }
        }

        var horizon = now + outbox.Options.RefreshTokenWarning;
        var expiring = await db.TokenStates.AsNoTracking()
            .Where(s => s.RefreshTokenProtected != null && s.RefreshTokenRevokedAt == null && s.AlertCondition == null && s.RefreshTokenExpiresAt != null
                && s.RefreshTokenExpiresAt > now && s.RefreshTokenExpiresAt <= horizon)
            .OrderBy(s => s.RefreshTokenExpiresAt)
            .Select(s => new { s.TokenConfigId, s.FunctionalAccountId, ExpiresAt = s.RefreshTokenExpiresAt!.Value })
            .ToListAsync(cancellationToken);
        foreach (var row in expiring)
        {
            if (items.Count >= MaxItems)
            {
                break;
            }

            var source = row.TokenConfigId is { } c ? TokenSource.Config(c) : TokenSource.Account(row.FunctionalAccountId!.Value);
            var name = source.Kind == TokenSourceKind.TokenConfig
                ? await db.TokenConfigs.AsNoTracking().Where(x => x.Id == source.Id).Select(x => x.Name).FirstOrDefaultAsync(cancellationToken)
                : await db.FunctionalAccounts.AsNoTracking().Where(x => x.Id == source.Id).Select(x => x.Name).FirstOrDefaultAsync(cancellationToken);
            if (name is not null && follows(name))
            {
                var kind = kinds[source.Kind];
                items.Add(new AlertDigestItem(source.Kind.ToString(), name, "expiring", kind.PagePath(source.Id),
                    $"The refresh token expires at {row.ExpiresAt:yyyy-MM-dd HH:mm} UTC; then it needs a new authorization: {kind.ReauthorizeHint}."));
            }
        }

        var updater = await db.AlertEvents.AsNoTracking()
            .Where(e => e.SourceKind == AlertScanner.UpdaterKind && (e.Type == AlertTypes.UpdaterStalled || e.Type == AlertTypes.UpdaterRecovered))
            .OrderByDescending(e => e.Id).Select(e => new { e.Type, e.SourceName, e.Link, e.Message }).FirstOrDefaultAsync(cancellationToken);
        if (updater is { Type: AlertTypes.UpdaterStalled } && items.Count < MaxItems && follows(updater.SourceName))
        {
            items.Add(new AlertDigestItem(AlertScanner.UpdaterKind, updater.SourceName, AlertConditions.Failing, updater.Link, updater.Message));
        }

        return items;
    }

    /// <summary>Writes the digest and its one delivery in one transaction; false when another node wrote it first.</summary>
    private async Task<bool> TryWriteAsync(AlertChannel channel, AlertDigestContent content, string eventId, DateTime now, CancellationToken cancellationToken)
    {
        var alert = AlertOutbox.New(new AlertSubject(DigestSourceKind, channel.Id, channel.Name, "/"), AlertTypes.DailyDigest,
            content.Quiet ? AlertConditions.Ok : "attention", content.Summary(), now, eventId);
        alert.Details = content.ToJson();
        // Note: handed out already: a digest goes to its own channel only, never through the filters' fan-out.
        alert.DispatchedAt = now;
        var delivery = new AlertDelivery { Event = alert, ChannelId = channel.Id, ChannelName = channel.Name, NextAttemptAt = now, CreatedAt = now };
        db.AlertEvents.Add(alert);
        db.AlertDeliveries.Add(delivery);
        try
        {
            using (await writes.EnterAsync(cancellationToken))
            {
                await db.SaveChangesAsync(cancellationToken);
            }

            LogRaised(logger, channel.Name, content.To);
            return true;
        }
        catch (DbUpdateException ex)
        {
            db.ChangeTracker.Clear();
            if (!await db.AlertEvents.AnyAsync(e => e.EventId == eventId, cancellationToken))
            {
                // Not another node's digest: the database refused the write; the next scan tries again.
                LogWriteFailed(logger, channel.Name, ex);
            }

            // Otherwise another node wrote this channel's digest first (same event id).
            return false;
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The daily digest for channel '{Channel}' could not be written; the next scan tries again.")]
    private static partial void LogWriteFailed(ILogger logger, string channel, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Daily digest for channel '{Channel}' up to {To:yyyy-MM-dd HH:mm} UTC raised.")]
    private static partial void LogRaised(ILogger logger, string channel, DateTime to);
}
