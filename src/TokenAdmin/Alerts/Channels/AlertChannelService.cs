using Microsoft.EntityFrameworkCore;
using TokenAdmin.Admin;
using TokenAdmin.Alerts;
using TokenAdmin.Data;
using TokenAdmin.Hosting;
using TokenAdmin.Secrets;
using TokenAdmin.Settings;

namespace TokenAdmin.Alerts.Channels;

/// <summary>What an admin enters for an alert channel. The webhook secret is write-only: empty keeps the stored one.</summary>
public sealed class AlertChannelInput
{
    public string Name { get; set; } = "";
    public AlertChannelKind Kind { get; set; } = AlertChannelKind.Email;
    public string Target { get; set; } = "";
    public string? Secret { get; set; }
    /// <summary>The event types sent; none ticked: all.</summary>
    public List<string> EventTypes { get; set; } = [];
    public string? Sources { get; set; }
    public bool Enabled { get; set; } = true;
    /// <summary>Off, each alert at once plus a daily digest, or the digest only.</summary>
    public AlertDigestMode DigestMode { get; set; } = AlertDigestMode.Off;
    /// <summary>The digest's time of day, UTC, as HH:MM (24-hour).</summary>
    public string? DigestAt { get; set; } = "08:00";

    public static AlertChannelInput From(AlertChannel c) => new()
    {
        Name = c.Name,
        Kind = c.Kind,
        Target = c.Target,
        EventTypes = [.. c.EventTypeList],
        Sources = c.Sources,
        Enabled = c.Enabled,
        DigestMode = c.DigestMode,
        DigestAt = c.DigestAt.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture),
    };
}

public sealed record AlertChannelSaveResult(Dictionary<string, string> Errors, AlertChannel? Channel = null)
{
    public bool Succeeded => Errors.Count == 0;
    public static AlertChannelSaveResult Fail(string field, string message) => new(new Dictionary<string, string> { [field] = message });
}

/// <summary>One line of the alert history: an alert, a channel, the outcome.</summary>
public sealed record AlertHistoryRow(
    long DeliveryId, string EventId, string Type, string SourceName, string Message, string? Link, DateTime RaisedAt,
    string ChannelName, AlertDeliveryStatus Status, int Attempts, string? LastError, DateTime? CompletedAt, DateTime NextAttemptAt);

/// <summary>Creates, changes, deletes and tests alert channels (validated, audited, the secret encrypted); reads the history.</summary>
public sealed class AlertChannelService(TokenAdminDb db, ISecretProtector protector, AlertSender sender, AlertOutbox outbox, SettingsStore settings, DatabaseWriteGate writes, TimeProvider time)
{
    public const int MinSecretLength = 16;
    public const int HistoryPageSize = 100;

    public Task<List<AlertChannel>> ListAsync(CancellationToken cancellationToken) =>
        db.AlertChannels.AsNoTracking().OrderBy(c => c.Name).ToListAsync(cancellationToken);

    public Task<AlertChannel?> FindAsync(int id, CancellationToken cancellationToken) =>
        db.AlertChannels.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, cancellationToken);

    public async Task<AlertChannelSaveResult> CreateAsync(AlertChannelInput input, string actor, CancellationToken cancellationToken)
    {
        var errors = await ValidateAsync(input, null, cancellationToken);
        if (errors.Count > 0)
        {
            return new AlertChannelSaveResult(errors);
        }

        var now = time.GetUtcNow().UtcDateTime;
        var channel = new AlertChannel { Name = "", Target = "", CreatedAt = now, CreatedBy = actor };
        Apply(channel, input, actor, now);
        db.AlertChannels.Add(channel);
        AuditLog.Add(db, time, actor, "alert-channel.created", channel.Name, Describe(channel));
        using (await writes.EnterAsync(cancellationToken))
        {
            await db.SaveChangesAsync(cancellationToken);
        }

        return new AlertChannelSaveResult([], channel);
    }

    public async Task<AlertChannelSaveResult> UpdateAsync(int id, string version, AlertChannelInput input, string actor, CancellationToken cancellationToken)
    {
        var channel = await db.AlertChannels.SingleOrDefaultAsync(c => c.Id == id, cancellationToken);
        if (channel is null)
        {
            return AlertChannelSaveResult.Fail("", "This alert channel no longer exists.");
        }

        if (channel.Version != version)
        {
            return AlertChannelSaveResult.Fail("", $"{channel.ChangedBy} changed this channel at {channel.ChangedAt:yyyy-MM-dd HH:mm:ss} UTC while you were editing. Reload it and make your change again.");
        }

        var errors = await ValidateAsync(input, channel, cancellationToken);
        if (errors.Count > 0)
        {
            return new AlertChannelSaveResult(errors);
        }

        var before = Describe(channel);
        Apply(channel, input, actor, time.GetUtcNow().UtcDateTime);
        var after = Describe(channel);
        AuditLog.Add(db, time, actor, "alert-channel.updated", channel.Name,
            (before == after ? "" : $"{before} → {after}") + (string.IsNullOrEmpty(input.Secret) ? "" : " (secret changed)"));
        try
        {
            using (await writes.EnterAsync(cancellationToken))
            {
                await db.SaveChangesAsync(cancellationToken);
            }
        }
        catch (DbUpdateConcurrencyException)
        {
            return AlertChannelSaveResult.Fail("", "Someone changed this channel at the same moment. Reload it and make your change again.");
        }

        return new AlertChannelSaveResult([], channel);
    }

    public async Task<(bool Deleted, string Message)> DeleteAsync(int id, string actor, CancellationToken cancellationToken)
    {
        var channel = await db.AlertChannels.SingleOrDefaultAsync(c => c.Id == id, cancellationToken);
        if (channel is null)
        {
            return (false, "This alert channel no longer exists.");
        }

        db.AlertChannels.Remove(channel);
        AuditLog.Add(db, time, actor, "alert-channel.deleted", channel.Name);
        using (await writes.EnterAsync(cancellationToken))
        {
            await db.SaveChangesAsync(cancellationToken);
        }

        return (true, $"Alert channel '{channel.Name}' deleted. Its past deliveries stay in the history.");
    }

    /// <summary>
    /// Sends a test alert to the channel now (not through the queue, so the admin sees the answer) and records it in
    /// the history like any delivery.
    /// </summary>
    public async Task<AlertSendResult> TestAsync(int id, string actor, CancellationToken cancellationToken)
    {
        var channel = await FindAsync(id, cancellationToken);
        if (channel is null)
        {
            return new AlertSendResult(false, "This alert channel no longer exists.");
        }

        var now = time.GetUtcNow().UtcDateTime;
        var alert = AlertOutbox.New(new AlertSubject("Channel", channel.Id, channel.Name, "/Alerts/Channels"), AlertTypes.Test, "test",
            $"A test of the alert channel '{channel.Name}', sent by {actor}. If you read this, alerts reach you here.", now);
        var snapshot = await settings.GetAsync(cancellationToken);
        var result = await sender.SendAsync(channel, alert, snapshot.PublicBaseUrl, outbox.Options.DeliveryTimeout, cancellationToken);
        var done = time.GetUtcNow().UtcDateTime;
        alert.DispatchedAt = now;
        db.AlertEvents.Add(alert);
        db.AlertDeliveries.Add(new AlertDelivery
        {
            Event = alert,
            ChannelId = channel.Id,
            ChannelName = channel.Name,
            Status = result.Sent ? AlertDeliveryStatus.Sent : AlertDeliveryStatus.Failed,
            Attempts = 1,
            NextAttemptAt = done,
            CreatedAt = now,
            CompletedAt = done,
            LastError = result.Error is { Length: > 2000 } e ? e[..2000] : result.Error,
        });
        AuditLog.Add(db, time, actor, "alert-channel.tested", channel.Name, result.Sent ? "sent" : result.Error ?? "");
        using (await writes.EnterAsync(CancellationToken.None))
        {
            await db.SaveChangesAsync(CancellationToken.None);
        }

        return result;
    }

    /// <summary>The newest deliveries first, optionally only those of one channel or one outcome.</summary>
    public Task<List<AlertHistoryRow>> HistoryAsync(int? channelId, AlertDeliveryStatus? status, CancellationToken cancellationToken)
    {
        var query = db.AlertDeliveries.AsNoTracking();
        if (channelId is { } c)
        {
            query = query.Where(d => d.ChannelId == c);
        }

        if (status is { } s)
        {
            query = query.Where(d => d.Status == s);
        }

        return query.OrderByDescending(d => d.Id).Take(HistoryPageSize)
            .Select(d => new AlertHistoryRow(d.Id, d.Event!.EventId, d.Event.Type, d.Event.SourceName, d.Event.Message, d.Event.Link, d.Event.CreatedAt,
                d.ChannelName, d.Status, d.Attempts, d.LastError, d.CompletedAt, d.NextAttemptAt))
            .ToListAsync(cancellationToken);
    }

    /// <summary>Every problem of <paramref name="input"/> by field name; empty when it can be saved.</summary>
    public async Task<Dictionary<string, string>> ValidateAsync(AlertChannelInput input, AlertChannel? existing, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var errors = new Dictionary<string, string>();
        var name = input.Name?.Trim() ?? "";
        if (name.Length is 0 or > 100)
        {
            errors[nameof(input.Name)] = "Enter a name of 1 to 100 characters.";
        }
        else if (await db.AlertChannels.AnyAsync(c => c.Name == name && (existing == null || c.Id != existing.Id), cancellationToken))
        {
            errors[nameof(input.Name)] = $"A channel named '{name}' exists already.";
        }

        if (!Enum.IsDefined(input.Kind))
        {
            errors[nameof(input.Kind)] = "Choose email or webhook.";
        }

        var target = input.Target?.Trim() ?? "";
        if (input.Kind == AlertChannelKind.Email)
        {
            var addresses = target.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (addresses.Length == 0)
            {
                errors[nameof(input.Target)] = "Enter the recipients' mail addresses, separated by commas.";
            }
            else if (addresses.FirstOrDefault(a => !MimeKit.MailboxAddress.TryParse(a, out var m) || !m.Address.Contains('@', StringComparison.Ordinal)) is { } bad)
            {
                errors[nameof(input.Target)] = $"'{bad}' is not a mail address.";
            }
            else if (target.Length > 2000)
            {
                errors[nameof(input.Target)] = "The recipients are longer than 2000 characters.";
            }

            if (!string.IsNullOrEmpty(input.Secret))
            {
                errors[nameof(input.Secret)] = "Only webhooks have a signing secret.";
            }
        }
        else if (input.Kind == AlertChannelKind.Webhook)
        {
            if (!Uri.TryCreate(target, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp) || target.Length > 2000)
            {
                errors[nameof(input.Target)] = "Enter the webhook's URL, starting with https://.";
            }
            else if (url.Scheme == Uri.UriSchemeHttp && !Loopback.IsLoopback(url))
            {
                errors[nameof(input.Target)] = "A webhook must use https (http only to this machine): alerts name your sources and their failures.";
            }
            else if (!string.IsNullOrEmpty(url.UserInfo))
            {
                errors[nameof(input.Target)] = "Put no user name or password in the URL; the signature authenticates TokenAdmin to the receiver.";
            }

            if (!string.IsNullOrEmpty(input.Secret) && (input.Secret.Length < MinSecretLength || input.Secret.Length > 500))
            {
                errors[nameof(input.Secret)] = $"The signing secret must be {MinSecretLength} to 500 characters long.";
            }
            else if (string.IsNullOrEmpty(input.Secret) && existing?.SecretProtected is null)
            {
                errors[nameof(input.Secret)] = $"Enter a signing secret of at least {MinSecretLength} characters; the receiver checks the signature with it.";
            }
        }

        if (input.EventTypes.FirstOrDefault(t => !AlertTypes.All.Contains(t, StringComparer.Ordinal)) is { } unknown)
        {
            errors[nameof(input.EventTypes)] = $"'{unknown}' is not an alert type.";
        }

        if (!Enum.IsDefined(input.DigestMode))
        {
            errors[nameof(input.DigestMode)] = "Choose off, alerts and a daily digest, or the daily digest only.";
        }

        if (ParseDigestAt(input.DigestAt) is null && (input.DigestMode != AlertDigestMode.Off || !string.IsNullOrWhiteSpace(input.DigestAt)))
        {
            errors[nameof(input.DigestAt)] = $"Digest time (UTC): '{input.DigestAt?.Trim()}' is not a time of day. Enter it as HH:MM, 24-hour, in UTC (for example 08:00 or 17:30).";
        }

        if ((input.Sources?.Length ?? 0) > 2000)
        {
            errors[nameof(input.Sources)] = "The source names are longer than 2000 characters.";
        }

        return errors;
    }

    private void Apply(AlertChannel channel, AlertChannelInput input, string actor, DateTime now)
    {
        channel.Name = input.Name.Trim();
        channel.Kind = input.Kind;
        channel.Target = input.Target.Trim();
        if (input.Kind == AlertChannelKind.Email)
        {
            channel.SecretProtected = null;
        }
        else if (!string.IsNullOrEmpty(input.Secret))
        {
            channel.SecretProtected = protector.Protect(input.Secret);
        }

        channel.EventTypes = string.Join(' ', input.EventTypes.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
        channel.Sources = string.Join(", ", (input.Sources ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        channel.Enabled = input.Enabled;
        channel.DigestMode = input.DigestMode;
        channel.DigestAt = ParseDigestAt(input.DigestAt) ?? channel.DigestAt;
        channel.ChangedAt = now;
        channel.ChangedBy = actor;
    }

    private static string Describe(AlertChannel c) =>
        $"{c.Kind} {c.Target}; events: {(c.EventTypes.Length == 0 ? "all" : c.EventTypes)}; sources: {(c.Sources.Length == 0 ? "all" : c.Sources)}; {DescribeDigest(c)}; {(c.Enabled ? "enabled" : "disabled")}";

    /// <summary>The channel's digest setting in words: "no digest", "alerts + daily digest at 08:00 UTC", "daily digest only at 08:00 UTC".</summary>
    public static string DescribeDigest(AlertChannel c)
    {
        ArgumentNullException.ThrowIfNull(c);
        var at = c.DigestAt.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture);
        return c.DigestMode switch
        {
            AlertDigestMode.WithAlerts => $"alerts + daily digest at {at} UTC",
            AlertDigestMode.DigestOnly => $"daily digest only at {at} UTC",
            _ => "no digest",
        };
    }

    /// <summary>"HH:MM" (or "H:MM", 24-hour) as a time of day; null when it is not one.</summary>
    public static TimeOnly? ParseDigestAt(string? value) =>
        TimeOnly.TryParseExact(value?.Trim(), ["HH:mm", "H:mm"], System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var at) ? at : null;
}
