using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Alerts;
using TokenAdmin.Data;
using TokenAdmin.Settings;
using TokenAdmin.Tokens;

namespace TokenAdmin.Alerts.Channels;

/// <summary>Counters of alert deliveries on the meter "TokenAdmin": <c>tokenadmin.alerts.deliveries</c> by channel kind and result.</summary>
public sealed class AlertMetrics
{
    private readonly Counter<long> _deliveries;

    public AlertMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(TokenMetrics.MeterName);
        _deliveries = meter.CreateCounter<long>("tokenadmin.alerts.deliveries", "{delivery}",
            "Alert delivery attempts, by channel kind (email, webhook) and result (sent, retry, failed).");
    }

    public void Record(AlertChannelKind kind, string result) =>
        _deliveries.Add(1, new KeyValuePair<string, object?>("channel", kind == AlertChannelKind.Email ? "email" : "webhook"),
            new KeyValuePair<string, object?>("result", result));
}

/// <summary>
/// Delivers the outbox: hands each new alert to the channels whose filter it passes (one delivery row each), then sends
/// the due deliveries, retrying with backoff. Every node runs it; a conditional update on the alert (fan-out) and a
/// lease on the delivery row (sending) make exactly one node do each step. A delivery whose sender died mid-way is
/// sent again once its lease ends, so alerts arrive at least once; receivers deduplicate by the event id.
/// </summary>
public sealed partial class AlertDispatcher(
    IServiceScopeFactory scopes, AlertOutbox outbox, AlertMetrics metrics, TimeProvider time, ILogger<AlertDispatcher> logger) : BackgroundService
{
    /// <summary>Deliveries and alerts handled per round; the next round follows at once while there is more.</summary>
    private const int Batch = 50;

    private readonly SemaphoreSlim _wake = new(0, 1);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        outbox.Raised += Wake;
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        outbox.Raised -= Wake;
        await base.StopAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken.
        }
        catch (ObjectDisposedException)
        {
            // Stopping.
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!outbox.Options.DispatcherEnabled)
        {
            LogDisabled(logger);
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var more = false;
            try
            {
                more = await RunOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // One failed round (database briefly unreachable) must not end alerting for good.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogRoundFailed(logger, ex);
            }

            if (more)
            {
                continue;
            }

            try
            {
                await _wake.WaitAsync(outbox.Options.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private DateTimeOffset _nextScan = DateTimeOffset.MinValue;

    /// <summary>One round: scan (when due), fan out new alerts, send due deliveries. True when a batch was full (more is waiting).</summary>
    public async Task<bool> RunOnceAsync(CancellationToken cancellationToken)
    {
        if (time.GetUtcNow() >= _nextScan)
        {
            _nextScan = time.GetUtcNow() + outbox.Options.ScanInterval;
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<AlertScanner>().ScanAsync(cancellationToken);
            await scope.ServiceProvider.GetRequiredService<AlertDigest>().RaiseDueAsync(cancellationToken);
        }

        var fannedOut = await FanOutAsync(cancellationToken);
        var sent = await DeliverDueAsync(cancellationToken);
        return fannedOut >= Batch || sent >= Batch;
    }

    private async Task<int> FanOutAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenAdminDb>();
        var writes = scope.ServiceProvider.GetRequiredService<DatabaseWriteGate>();
        var ids = await db.AlertEvents.Where(e => e.DispatchedAt == null).OrderBy(e => e.Id).Select(e => e.Id).Take(Batch).ToListAsync(cancellationToken);
        if (ids.Count == 0)
        {
            return 0;
        }

        var channels = await db.AlertChannels.AsNoTracking().Where(c => c.Enabled).ToListAsync(cancellationToken);
        foreach (var id in ids)
        {
            using (await writes.EnterAsync(cancellationToken))
            {
                await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
                var now = time.GetUtcNow().UtcDateTime;
                // Note: the conditional update is the claim: of two nodes, the second finds DispatchedAt set (on
                // PostgreSQL it waits for the first one's commit, then matches no row) and adds nothing.
                var claimed = await db.AlertEvents.Where(e => e.Id == id && e.DispatchedAt == null)
                    .ExecuteUpdateAsync(u => u.SetProperty(e => e.DispatchedAt, now), cancellationToken);
                if (claimed == 1)
                {
                    var alert = await db.AlertEvents.AsNoTracking().SingleAsync(e => e.Id == id, cancellationToken);
                    foreach (var channel in channels.Where(c => c.Accepts(alert.Type, alert.SourceName)))
                    {
                        db.AlertDeliveries.Add(new AlertDelivery
                        {
                            AlertEventId = id,
                            ChannelId = channel.Id,
                            ChannelName = channel.Name,
                            NextAttemptAt = now,
                            CreatedAt = now,
                        });
                    }

                    await db.SaveChangesAsync(cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
                db.ChangeTracker.Clear();
            }
        }

        return ids.Count;
    }

    private async Task<int> DeliverDueAsync(CancellationToken cancellationToken)
    {
        List<long> due;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TokenAdminDb>();
            var writes = scope.ServiceProvider.GetRequiredService<DatabaseWriteGate>();
            var now = time.GetUtcNow().UtcDateTime;
            due = await db.AlertDeliveries
                .Where(d => d.Status == AlertDeliveryStatus.Pending && d.NextAttemptAt <= now && (d.LeaseUntil == null || d.LeaseUntil < now))
                .OrderBy(d => d.NextAttemptAt).Select(d => d.Id).Take(Batch).ToListAsync(cancellationToken);
            await ReleaseDeadHoldersAsync(db, writes, now, cancellationToken);
        }

        // Note: a few at a time, so one receiver that hangs until its deadline does not hold up the others.
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
            async (id, token) => await DeliverAsync(id, token));
        return due.Count;
    }

    /// <summary>
    /// Gives back the leases of deliveries whose sender is known dead (a process on this machine that no longer runs,
    /// see <see cref="ProcessLiveness"/>), so they are sent at the next round instead of after the lease. Only on the exact
    /// owner read: of two nodes doing this, one wins. A holder on another node is waited for until its lease ends.
    /// </summary>
    private static async Task ReleaseDeadHoldersAsync(TokenAdminDb db, DatabaseWriteGate writes, DateTime now, CancellationToken cancellationToken)
    {
        var leased = await db.AlertDeliveries.Where(d => d.Status == AlertDeliveryStatus.Pending && d.LeaseUntil >= now)
            .Select(d => new { d.Id, d.LeaseOwner }).Take(Batch).ToListAsync(cancellationToken);
        foreach (var row in leased)
        {
            if (LeaseHolder.Parse(row.LeaseOwner) is { } holder && ProcessLiveness.Check(holder) == HolderLiveness.Dead)
            {
                using (await writes.EnterAsync(cancellationToken))
                {
                    await db.AlertDeliveries.Where(d => d.Id == row.Id && d.LeaseOwner == row.LeaseOwner)
                        .ExecuteUpdateAsync(u => u.SetProperty(d => d.LeaseOwner, (string?)null).SetProperty(d => d.LeaseUntil, (DateTime?)null), cancellationToken);
                }
            }
        }
    }

    /// <summary>Claims one delivery (a lease on its row), sends it and records the outcome; false when another node has it.</summary>
    public async Task<bool> DeliverAsync(long deliveryId, CancellationToken cancellationToken)
    {
        var options = outbox.Options;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenAdminDb>();
        var writes = scope.ServiceProvider.GetRequiredService<DatabaseWriteGate>();
        var lease = TokenRowLease.NewOwner(time);
        var now = time.GetUtcNow().UtcDateTime;
        // Note: longer than a delivery may take, so a live sender never loses its lease; a dead one's ends soon after.
        var until = now + options.DeliveryTimeout + TimeSpan.FromSeconds(30);
        using (await writes.EnterAsync(cancellationToken))
        {
            var claimed = await db.AlertDeliveries
                .Where(d => d.Id == deliveryId && d.Status == AlertDeliveryStatus.Pending && (d.LeaseUntil == null || d.LeaseUntil < now))
                .ExecuteUpdateAsync(u => u.SetProperty(d => d.LeaseOwner, lease).SetProperty(d => d.LeaseUntil, until), cancellationToken);
            if (claimed != 1)
            {
                return false;
            }
        }

        var delivery = await db.AlertDeliveries.AsNoTracking().Include(d => d.Event).SingleAsync(d => d.Id == deliveryId, cancellationToken);
        var channel = delivery.ChannelId is { } channelId ? await db.AlertChannels.AsNoTracking().SingleOrDefaultAsync(c => c.Id == channelId, cancellationToken) : null;
        AlertSendResult result;
        if (channel is null || !channel.Enabled)
        {
            result = new AlertSendResult(false, channel is null ? "The channel was deleted." : "The channel is disabled.");
        }
        else
        {
            var settings = await scope.ServiceProvider.GetRequiredService<SettingsStore>().GetAsync(cancellationToken);
            var sender = scope.ServiceProvider.GetRequiredService<AlertSender>();
            result = await sender.SendAsync(channel, delivery.Event!, settings.PublicBaseUrl, options.DeliveryTimeout, cancellationToken);
        }

        await RecordAsync(db, writes, delivery, channel, lease, result, options);
        return true;
    }

    private async Task RecordAsync(TokenAdminDb db, DatabaseWriteGate writes, AlertDelivery delivery, AlertChannel? channel, string lease, AlertSendResult result, AlertOptions options)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var attempts = delivery.Attempts + 1;
        var final = result.Sent || channel is null || !channel.Enabled || attempts >= options.MaxAttempts;
        var status = result.Sent ? AlertDeliveryStatus.Sent : final ? AlertDeliveryStatus.Failed : AlertDeliveryStatus.Pending;
        var next = final ? now : now + options.RetryBackoff * Math.Pow(2, attempts - 1);
        var error = result.Error is { Length: > 2000 } e ? e[..2000] : result.Error;
        // Note: not cancellable: a delivery that went out must be recorded, or it is sent again after the lease.
        using (await writes.EnterAsync(CancellationToken.None))
        {
            await db.AlertDeliveries.Where(d => d.Id == delivery.Id && d.LeaseOwner == lease).ExecuteUpdateAsync(u => u
                .SetProperty(d => d.Status, status)
                .SetProperty(d => d.Attempts, attempts)
                .SetProperty(d => d.NextAttemptAt, next)
                .SetProperty(d => d.LastError, error)
                .SetProperty(d => d.CompletedAt, final ? now : null)
                .SetProperty(d => d.LeaseOwner, (string?)null)
                .SetProperty(d => d.LeaseUntil, (DateTime?)null), CancellationToken.None);
        }

        if (channel is not null)
        {
            metrics.Record(channel.Kind, result.Sent ? "sent" : final ? "failed" : "retry");
        }

        if (result.Sent)
        {
            LogSent(logger, delivery.Event!.EventId, delivery.Event.Type, delivery.ChannelName);
        }
        else
        {
            LogNotSent(logger, delivery.Event!.EventId, delivery.ChannelName, attempts, final, result.Error ?? "");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "This node sends no alerts (TokenAdmin:Alerts:DispatcherEnabled is false); other nodes send the ones it raises.")]
    private static partial void LogDisabled(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Alert dispatch round failed; it is tried again at the next poll.")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Alert {EventId} ({Type}) sent to channel '{Channel}'.")]
    private static partial void LogSent(ILogger logger, string eventId, string type, string channel);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert {EventId} not sent to channel '{Channel}' (attempt {Attempt}, final: {Final}): {Error}")]
    private static partial void LogNotSent(ILogger logger, string eventId, string channel, int attempt, bool final, string error);
}
