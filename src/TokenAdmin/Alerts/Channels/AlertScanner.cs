using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenAdmin.Data;
using TokenAdmin.Refresh;
using TokenAdmin.Settings;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Alerts.Channels;

/// <summary>
/// Raises the alerts that no state change causes, because time passing is the change: a refresh token that will
/// expire within the warning window, and the token store updater that has not finished a run for two of its intervals
/// (dead man's switch). Each such alert has an event id made from what it is about (the source and its expiry, the last
/// run), so every node may scan: the unique event id lets the first one in and the others add nothing.
/// </summary>
public sealed partial class AlertScanner(
    TokenAdminDb db, AlertOutbox outbox, TokenSourceKinds kinds, SettingsStore settings, DatabaseWriteGate writes,
    IOptions<TokenStoreUpdaterOptions> updater, TimeProvider time, ILogger<AlertScanner> logger)
{
    /// <summary>A stated refresh-token lifetime this close to 7 days is Google's for apps in "Testing" mode.</summary>
    private static readonly TimeSpan GoogleTestingLifetime = TimeSpan.FromDays(7);

    /// <summary>The number of alerts raised.</summary>
    public async Task<int> ScanAsync(CancellationToken cancellationToken)
    {
        var raised = await ScanExpiringRefreshTokensAsync(cancellationToken);
        raised += await ScanExpiringCredentialsAsync(cancellationToken);
        raised += await ScanUpdaterAsync(cancellationToken);
        raised += await ScanRemindersAsync(cancellationToken);
        await PurgeAsync(cancellationToken);
        if (raised > 0)
        {
            outbox.Wake();
        }

        return raised;
    }

    private async Task<int> ScanExpiringRefreshTokensAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var horizon = now + outbox.Options.RefreshTokenWarning;
        var expiring = await db.TokenStates.AsNoTracking()
            .Where(s => s.RefreshTokenProtected != null && s.RefreshTokenRevokedAt == null && s.RefreshTokenExpiresAt != null
                && s.RefreshTokenExpiresAt > now && s.RefreshTokenExpiresAt <= horizon)
            .Select(s => new { s.TokenConfigId, s.FunctionalAccountId, ExpiresAt = s.RefreshTokenExpiresAt!.Value, s.RefreshTokenExpiryEstimated, s.ObtainedAt, s.LastRefreshAt })
            .Take(1000).ToListAsync(cancellationToken);
        if (expiring.Count == 0)
        {
            return 0;
        }

        var configIds = expiring.Where(e => e.TokenConfigId != null).Select(e => e.TokenConfigId!.Value).ToList();
        var accountIds = expiring.Where(e => e.FunctionalAccountId != null).Select(e => e.FunctionalAccountId!.Value).ToList();
        var configNames = await db.TokenConfigs.AsNoTracking().Where(c => configIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
        var accountNames = await db.FunctionalAccounts.AsNoTracking().Where(a => accountIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.Name, cancellationToken);
        var raised = 0;
        foreach (var row in expiring)
        {
            var source = row.TokenConfigId is { } c ? TokenSource.Config(c) : TokenSource.Account(row.FunctionalAccountId!.Value);
            var name = source.Kind == TokenSourceKind.TokenConfig ? configNames.GetValueOrDefault(source.Id) : accountNames.GetValueOrDefault(source.Id);
            if (name is null)
            {
                continue;
            }

            var kind = kinds[source.Kind];
            var eventId = EventId($"expiring|{source.Kind}|{source.Id}|{row.ExpiresAt.Ticks}");
            var left = row.ExpiresAt - now;
            var message = new StringBuilder().Append(CultureInfo.InvariantCulture,
                $"The refresh token of the {kind.Noun} '{name}' expires at {row.ExpiresAt:yyyy-MM-dd HH:mm} UTC (in {Describe(left)}){(row.RefreshTokenExpiryEstimated ? ", as assumed from its configured lifetime" : "")}. " +
                $"After that it needs a new authorization: {kind.ReauthorizeHint}.");
            if (!row.RefreshTokenExpiryEstimated && IsAboutSevenDays(row.ExpiresAt, row.ObtainedAt, row.LastRefreshAt))
            {
                message.Append(" A refresh-token lifetime of 7 days is what Google gives apps whose OAuth consent screen is in \"Testing\" mode: " +
                    "publish the app (Publishing status \"In production\" in the Google Cloud console), then authorize again, to get refresh tokens that last.");
            }

            var subject = new AlertSubject(source.Kind.ToString(), source.Id, name, kind.PagePath(source.Id));
            if (await TryRaiseAsync(AlertOutbox.New(subject, AlertTypes.RefreshTokenExpiring, "expiring", message.ToString(), now, eventId), cancellationToken))
            {
                raised++;
            }
        }

        return raised;
    }

    /// <summary>
    /// Client secrets (with an expiry date entered) and client certificates of valid token configs and functional
    /// accounts (their own certificate, their profile's secret) that expire within the warning window
    /// (<see cref="CredentialSettings.WarningDays"/>). Raised once when the window is entered, again once per
    /// reminder interval counted back from the expiry (so every node computes the same event id), and once more when
    /// it has expired.
    /// </summary>
    private async Task<int> ScanExpiringCredentialsAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var warningDays = CredentialSettings.Warning(await settings.GetAsync(cancellationToken));
        var horizon = now.AddDays(warningDays);
        var configs = await db.TokenConfigs.AsNoTracking()
            .Where(c => c.Valid && c.CredentialExpiresAt != null && c.CredentialExpiresAt <= horizon)
            // Note: latest first, so a pile of long-expired credentials (alerted once already) never pushes one that is
            // about to expire past the cut.
            .OrderByDescending(c => c.CredentialExpiresAt)
            .Select(c => new CredentialRow(TokenSourceKind.TokenConfig, c.Id, c.Name, c.ClientSecretProtected != null, c.ClientSecretExpiresAt, c.Certificate.NotAfter, c.Certificate.Thumbprint, null))
            .Take(1000).ToListAsync(cancellationToken);
        var accounts = await db.FunctionalAccounts.AsNoTracking()
            .Where(a => a.Valid && ((a.Certificate.NotAfter != null && a.Certificate.NotAfter <= horizon)
                || (a.Profile!.ClientSecretProtected != null && a.Profile.ClientSecretExpiresAt != null && a.Profile.ClientSecretExpiresAt <= horizon)))
            .Select(a => new CredentialRow(TokenSourceKind.FunctionalAccount, a.Id, a.Name, a.Profile!.ClientSecretProtected != null, a.Profile.ClientSecretExpiresAt, a.Certificate.NotAfter, a.Certificate.Thumbprint, a.Profile.Name))
            .Take(1000).ToListAsync(cancellationToken);
        var every = outbox.Options.ReminderInterval;
        var raised = 0;
        foreach (var row in configs.Concat(accounts))
        {
            var kind = kinds[row.Kind];
            foreach (var credential in CredentialExpiry.Of(row.HasSecret, row.SecretExpiresAt, row.CertificateNotAfter).Where(e => e.ExpiresAt <= horizon))
            {
                var expired = credential.Expired(now);
                // The reminder period this moment falls in, counted back from the expiry; one more alert once expired.
                var period = expired ? -1 : every > TimeSpan.Zero ? (long)Math.Floor((credential.ExpiresAt - now) / every) : 0;
                var eventId = EventId($"credential|{row.Kind}|{row.Id}|{credential.What}|{credential.ExpiresAt.Ticks}|{period}");
                var subject = new AlertSubject(row.Kind.ToString(), row.Id, row.Name, kind.PagePath(row.Id));
                var message = CredentialMessage(kind.Noun, row, credential, now);
                if (await TryRaiseAsync(AlertOutbox.New(subject, AlertTypes.CredentialExpiring, expired ? "expired" : "expiring", message, now, eventId), cancellationToken))
                {
                    raised++;
                }
            }
        }

        return raised;
    }

    private sealed record CredentialRow(
        TokenSourceKind Kind, int Id, string Name, bool HasSecret, DateTime? SecretExpiresAt, DateTime? CertificateNotAfter, string? Thumbprint, string? ProfileName);

    private static string CredentialMessage(string noun, CredentialRow row, CredentialExpiry credential, DateTime now)
    {
        var when = credential.Expired(now)
            ? $"expired on {credential.ExpiresAt:yyyy-MM-dd HH:mm} UTC"
            : $"expires on {credential.ExpiresAt:yyyy-MM-dd HH:mm} UTC (in {Describe(credential.ExpiresAt - now)})";
        if (credential.What == CredentialExpiry.Certificate)
        {
            return $"The client certificate ({row.Thumbprint}) of the {noun} '{row.Name}' {when}. " +
                "Create a new certificate, register it at the provider (Microsoft Entra: Certificates & secrets → Certificates) and upload it with its key on the Edit page; " +
                "after the expiry the provider refuses the client and no token can be got.";
        }

        var owner = row.ProfileName is null ? $"the {noun} '{row.Name}'" : $"the OIDC profile '{row.ProfileName}' (used by the {noun} '{row.Name}')";
        return $"The client secret of {owner} {when}. " +
            $"Create a new secret at the provider and enter it, with its expiry date, on the Edit page of {(row.ProfileName is null ? $"the {noun}" : "the OIDC profile")}; " +
            "after the expiry the provider refuses the client (Microsoft: AADSTS7000222) and no token can be got.";
    }

    private static bool IsAboutSevenDays(DateTime expiresAt, DateTime? obtainedAt, DateTime? lastRefreshAt) =>
        new[] { obtainedAt, lastRefreshAt }.Any(from => from is { } f && (expiresAt - f - GoogleTestingLifetime).Duration() <= TimeSpan.FromHours(12));

    /// <summary>The dead man's switch: stalled when the last finished run is older than two intervals; recovered after the next run.</summary>
    private async Task<int> ScanUpdaterAsync(CancellationToken cancellationToken)
    {
        if (!updater.Value.Enabled)
        {
            return 0;
        }

        var last = await db.UpdaterRuns.AsNoTracking().Where(r => !r.Cancelled).OrderByDescending(r => r.FinishedAt)
            .Select(r => new { r.Id, r.FinishedAt }).FirstOrDefaultAsync(cancellationToken);
        if (last is null)
        {
            return 0; // never ran yet: nothing has stopped
        }

        var nowOffset = time.GetUtcNow();
        var now = nowOffset.UtcDateTime;
        var period = Period(RefreshSchedule.From(await settings.GetAsync(cancellationToken)), nowOffset);
        var latest = await db.AlertEvents.AsNoTracking().Where(e => e.SourceKind == UpdaterKind && (e.Type == AlertTypes.UpdaterStalled || e.Type == AlertTypes.UpdaterRecovered))
            .OrderByDescending(e => e.Id).Select(e => new { e.Type, e.EventId, e.CreatedAt }).FirstOrDefaultAsync(cancellationToken);
        var subject = new AlertSubject(UpdaterKind, null, "Token store updater", "/Scheduler/Index");
        if (now - last.FinishedAt > 2 * period)
        {
            var eventId = EventId($"updater-stalled|{last.Id}");
            var message = $"The token store updater has not finished a run since {last.FinishedAt:yyyy-MM-dd HH:mm} UTC, more than two of its intervals ({Describe(period)} each). " +
                "Tokens are not kept alive in the background; check that TokenAdmin runs and look at the Scheduler page and the log.";
            return await TryRaiseAsync(AlertOutbox.New(subject, AlertTypes.UpdaterStalled, AlertConditions.Failing, message, now, eventId), cancellationToken) ? 1 : 0;
        }

        if (latest is { Type: AlertTypes.UpdaterStalled } stalled && last.FinishedAt > stalled.CreatedAt)
        {
            var message = $"The token store updater runs again: a run finished at {last.FinishedAt:yyyy-MM-dd HH:mm} UTC.";
            return await TryRaiseAsync(AlertOutbox.New(subject, AlertTypes.UpdaterRecovered, AlertConditions.Ok, message, now, EventId($"updater-recovered|{stalled.EventId}")), cancellationToken) ? 1 : 0;
        }

        return 0;
    }

    public const string UpdaterKind = "Updater";

    private const string ReminderPrefix = "Reminder: ";

    /// <summary>
    /// While a token source, mail account or web service stays failing or dead, its last alert is raised again (same type, so the
    /// same channels get it) once per <see cref="AlertOptions.ReminderInterval"/>. The reminder's event id is made from
    /// the alert it repeats, so of several nodes one raises it.
    /// </summary>
    private async Task<int> ScanRemindersAsync(CancellationToken cancellationToken)
    {
        var every = outbox.Options.ReminderInterval;
        if (every <= TimeSpan.Zero)
        {
            return 0;
        }

        var now = time.GetUtcNow().UtcDateTime;
        var stuck = await db.TokenStates.AsNoTracking().Where(s => s.AlertCondition != null)
            .Select(s => new { Kind = s.TokenConfigId != null ? nameof(TokenSourceKind.TokenConfig) : nameof(TokenSourceKind.FunctionalAccount), Id = s.TokenConfigId ?? s.FunctionalAccountId, Condition = s.AlertCondition })
            .Take(1000).ToListAsync(cancellationToken);
        var mail = await db.MailAccounts.AsNoTracking().Where(a => a.AlertCondition != null)
            .Select(a => new { Kind = "MailAccount", Id = (int?)a.Id, Condition = a.AlertCondition }).Take(1000).ToListAsync(cancellationToken);
        var services = await db.WebServices.AsNoTracking().Where(w => w.AlertCondition != null)
            .Select(w => new { Kind = "WebService", Id = (int?)w.Id, Condition = w.AlertCondition }).Take(1000).ToListAsync(cancellationToken);
        var raised = 0;
        foreach (var row in stuck.Concat(mail).Concat(services))
        {
            var last = await db.AlertEvents.AsNoTracking().Where(e => e.SourceKind == row.Kind && e.SourceId == row.Id)
                .OrderByDescending(e => e.Id).FirstOrDefaultAsync(cancellationToken);
            if (last is null || last.State != row.Condition || now - last.CreatedAt < every)
            {
                continue;
            }

            var message = ReminderPrefix + $"still {last.State} (alerted first at {FirstRaisedAt(last):yyyy-MM-dd HH:mm} UTC). "
                + (last.Message.StartsWith(ReminderPrefix, StringComparison.Ordinal) ? last.Message[(last.Message.IndexOf(") ", StringComparison.Ordinal) + 2)..] : last.Message);
            var reminder = AlertOutbox.New(new AlertSubject(last.SourceKind, last.SourceId, last.SourceName, last.Link), last.Type, last.State, message, now, EventId("reminder|" + last.EventId));
            if (await TryRaiseAsync(reminder, cancellationToken))
            {
                raised++;
            }
        }

        return raised;
    }

    /// <summary>When the condition was first alerted: the reminder chain's first alert (its date is kept in the message).</summary>
    private static DateTime FirstRaisedAt(AlertEvent last)
    {
        if (last.Message.StartsWith(ReminderPrefix, StringComparison.Ordinal))
        {
            var at = last.Message.IndexOf("at ", StringComparison.Ordinal);
            if (at > 0 && DateTime.TryParseExact(last.Message.Substring(at + 3, 16), "yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var first))
            {
                return first;
            }
        }

        return last.CreatedAt;
    }

    /// <summary>The time between two runs: the longer of the configured interval and the schedule's gap.</summary>
    private static TimeSpan Period(RefreshSchedule schedule, DateTimeOffset now)
    {
        var gap = schedule.NextRunAfter(now) is { } next && schedule.NextRunAfter(next) is { } after ? after - next : TimeSpan.FromHours(1);
        return gap > schedule.Interval ? gap : schedule.Interval;
    }

    private async Task<bool> TryRaiseAsync(AlertEvent alert, CancellationToken cancellationToken)
    {
        var id = alert.EventId;
        if (await db.AlertEvents.AnyAsync(e => e.EventId == id, cancellationToken))
        {
            return false;
        }

        db.AlertEvents.Add(alert);
        try
        {
            using (await writes.EnterAsync(cancellationToken))
            {
                await db.SaveChangesAsync(cancellationToken);
            }

            LogRaised(logger, alert.Type, alert.SourceName);
            return true;
        }
        catch (DbUpdateException)
        {
            // Another node raised the same alert (same event id) first.
            return false;
        }
        finally
        {
            db.Entry(alert).State = EntityState.Detached;
        }
    }

    /// <summary>Removes alerts older than the retention whose deliveries have all ended.</summary>
    private async Task PurgeAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var before = now - outbox.Options.Retention;
        // Note: a digest stays at least two days whatever the retention: the next digest starts where it ended, and its
        // event id keeps a second one of the same day out.
        var digestsBefore = now - (outbox.Options.Retention > TimeSpan.FromDays(2) ? outbox.Options.Retention : TimeSpan.FromDays(2));
        using (await writes.EnterAsync(cancellationToken))
        {
            await db.AlertEvents.Where(e => (e.Type == AlertTypes.DailyDigest ? e.CreatedAt < digestsBefore : e.CreatedAt < before) && e.DispatchedAt != null
                    && !db.AlertDeliveries.Any(d => d.AlertEventId == e.Id && d.Status == AlertDeliveryStatus.Pending))
                .ExecuteDeleteAsync(cancellationToken);
        }
    }

    /// <summary>An event id made from what the alert is about: the same on every node.</summary>
    private static string EventId(string about) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(about)))[..32];

    private static string Describe(TimeSpan span) =>
        span.TotalDays >= 2 ? $"{Math.Floor(span.TotalDays).ToString(CultureInfo.InvariantCulture)} days"
        : span.TotalHours >= 2 ? $"{Math.Floor(span.TotalHours).ToString(CultureInfo.InvariantCulture)} hours"
        : $"{Math.Max(1, Math.Floor(span.TotalMinutes)).ToString(CultureInfo.InvariantCulture)} minutes";

    [LoggerMessage(Level = LogLevel.Information, Message = "Alert {Type} raised for {Source}.")]
    private static partial void LogRaised(ILogger logger, string type, string source);
}
