using System.Globalization;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Alerts;
using TokenAdmin.Data;
using TokenAdmin.Settings;
using TokenAdmin.WebServices;

namespace TokenAdmin.Dashboard;

public enum AttentionLevel { Error, Warning }

/// <summary>One thing that needs an admin, with the page that fixes it.</summary>
public sealed record AttentionItem(AttentionLevel Level, string Kind, string Name, string Problem, string Link, string LinkText);

/// <summary>Token sources by state. A source is in exactly one of these.</summary>
public sealed record SourceCounts(int Total, int Working, int Failing, int Dead, int NotAuthorized, int Expiring);

public sealed record LastUpdaterRun(DateTime StartedAt, DateTime FinishedAt, int Refreshed, int Failed, int Skipped, bool Cancelled, string TriggeredBy);

/// <summary>What the home page shows, read in a few projected queries (it stays fast with 10,000 sources).</summary>
public sealed record DashboardView(
    IReadOnlyList<AttentionItem> Attention,
    int AttentionTotal,
    SourceCounts Sources,
    int MailAccounts,
    int MailAccountsFailing,
    DateTime? LastMailFetch,
    LastUpdaterRun? LastUpdaterRun,
    int AlertChannels,
    int AlertsPending,
    int AlertsFailedToday,
    string RedirectUri);

/// <summary>
/// Reads the dashboard: first what needs attention (dead sources, failing ones, refresh tokens about to expire, mail
/// accounts whose last fetch failed, web services whose last call failed), then counts by state and the last runs.
/// Each list is cut at <see cref="MaxItemsPerList"/>; the counts are aggregates computed by the database.
/// </summary>
public sealed class DashboardQuery(TokenAdminDb db, SettingsStore settings, AlertOutbox alerts, TimeProvider time)
{
    public const int MaxItemsPerList = 25;

    /// <summary>Outgoing calls looked at for web services whose last call failed (the newest ones).</summary>
    private const int RecentCalls = 500;

    public async Task<DashboardView> ReadAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var horizon = now + alerts.Options.RefreshTokenWarning;
        var attention = new List<AttentionItem>();

        var configs = await db.TokenConfigs.AsNoTracking()
            .Where(c => c.State != null && (c.State.AlertCondition != null || c.State.RefreshTokenRevokedAt != null
                || (c.State.RefreshTokenProtected != null && c.State.RefreshTokenExpiresAt != null && c.State.RefreshTokenExpiresAt <= horizon)))
            .OrderBy(c => c.State!.AlertCondition == AlertConditions.Dead || c.State.RefreshTokenRevokedAt != null ? 0 : c.State.AlertCondition == AlertConditions.Failing ? 1 : 2)
            .ThenBy(c => c.Name)
            .Select(c => new SourceRow(c.Id, c.Name, c.State!.AlertCondition, c.State.RefreshTokenRevokedAt, c.State.RefreshTokenExpiresAt, c.State.LastErrorCode, c.State.LastErrorDescription, c.State.ConsecutiveFailures))
            .Take(MaxItemsPerList).ToListAsync(cancellationToken);
        attention.AddRange(configs.Select(r => Item("Token config", $"/Tokens/Details/{Id(r.Id)}", r, now)));
        var accounts = await db.FunctionalAccounts.AsNoTracking()
            .Where(a => a.State != null && (a.State.AlertCondition != null || a.State.RefreshTokenRevokedAt != null
                || (a.State.RefreshTokenProtected != null && a.State.RefreshTokenExpiresAt != null && a.State.RefreshTokenExpiresAt <= horizon)))
            .OrderBy(a => a.State!.AlertCondition == AlertConditions.Dead || a.State.RefreshTokenRevokedAt != null ? 0 : a.State.AlertCondition == AlertConditions.Failing ? 1 : 2)
            .ThenBy(a => a.Name)
            .Select(a => new SourceRow(a.Id, a.Name, a.State!.AlertCondition, a.State.RefreshTokenRevokedAt, a.State.RefreshTokenExpiresAt, a.State.LastErrorCode, a.State.LastErrorDescription, a.State.ConsecutiveFailures))
            .Take(MaxItemsPerList).ToListAsync(cancellationToken);
        attention.AddRange(accounts.Select(r => Item("Functional account", $"/FunctionalAccounts/Edit/{Id(r.Id)}", r, now)));

        var counts = await db.TokenStates.AsNoTracking().GroupBy(_ => 1).Select(g => new
        {
            Dead = g.Count(s => s.AlertCondition == AlertConditions.Dead || s.RefreshTokenRevokedAt != null),
            Failing = g.Count(s => s.AlertCondition == AlertConditions.Failing && s.RefreshTokenRevokedAt == null),
            WithTokens = g.Count(s => s.AccessTokenProtected != null || s.RefreshTokenProtected != null),
            Expiring = g.Count(s => s.AlertCondition == null && s.RefreshTokenRevokedAt == null && s.RefreshTokenProtected != null
                && s.RefreshTokenExpiresAt != null && s.RefreshTokenExpiresAt <= horizon),
            Attention = g.Count(s => s.AlertCondition != null || s.RefreshTokenRevokedAt != null
                || (s.RefreshTokenProtected != null && s.RefreshTokenExpiresAt != null && s.RefreshTokenExpiresAt <= horizon)),
        }).SingleOrDefaultAsync(cancellationToken);
        var total = await db.TokenConfigs.CountAsync(cancellationToken) + await db.FunctionalAccounts.CountAsync(cancellationToken);
        var dead = counts?.Dead ?? 0;
        var failing = counts?.Failing ?? 0;
        var expiring = counts?.Expiring ?? 0;
        var notAuthorized = Math.Max(0, total - (counts?.WithTokens ?? 0));
        var sources = new SourceCounts(total, Math.Max(0, total - dead - failing - notAuthorized - expiring), failing, dead, notAuthorized, expiring);
        var attentionTotal = counts?.Attention ?? 0;

        var mail = await db.MailAccounts.AsNoTracking().Where(a => a.Valid && a.LastError != null).OrderBy(a => a.Login)
            .Select(a => new { a.Id, a.Login, a.Host, a.LastError, a.LastErrorAt, a.ConsecutiveFetchFailures }).Take(MaxItemsPerList).ToListAsync(cancellationToken);
        attention.AddRange(mail.Select(a => new AttentionItem(
            a.ConsecutiveFetchFailures >= alerts.Options.FailingAfterFailures ? AttentionLevel.Error : AttentionLevel.Warning,
            "Mail account", $"{a.Login} at {a.Host}",
            $"The last fetch failed ({a.ConsecutiveFetchFailures} in a row, last at {a.LastErrorAt:yyyy-MM-dd HH:mm} UTC): {a.LastError}",
            $"/MailAccounts/Edit/{Id(a.Id)}", "Check the mail account")));
        var mailCounts = await db.MailAccounts.AsNoTracking().GroupBy(_ => 1)
            .Select(g => new { Total = g.Count(), Failing = g.Count(a => a.Valid && a.LastError != null), LastFetch = g.Max(a => a.LastFetchAt) })
            .SingleOrDefaultAsync(cancellationToken);
        attentionTotal += mailCounts?.Failing ?? 0;

        // Note: the newest outgoing calls only (the debugger holds up to its size limit): a web service whose newest
        // call there failed is listed; one that has not been called lately is not judged.
        var calls = await db.CallLogEntries.AsNoTracking().Where(c => c.Direction == CallDirection.Outgoing && c.WebService != null)
            .OrderByDescending(c => c.Id).Take(RecentCalls).Select(c => new { c.Id, c.WebService, c.StatusCode, c.Error, c.At }).ToListAsync(cancellationToken);
        var failedServices = calls.GroupBy(c => c.WebService!, StringComparer.Ordinal).Select(g => g.First())
            .Where(c => c.Error != null || c.StatusCode is null or >= 500).OrderBy(c => c.WebService, StringComparer.Ordinal).ToList();
        attention.AddRange(failedServices.Take(MaxItemsPerList).Select(c => new AttentionItem(AttentionLevel.Warning, "Web service", c.WebService!,
            $"The last call ({c.At:yyyy-MM-dd HH:mm} UTC) failed: {c.Error ?? $"HTTP {c.StatusCode}"}",
            $"/WebServices/Debugger?WebService={Uri.EscapeDataString(c.WebService!)}", "Open the debugger")));
        attentionTotal += failedServices.Count;

        var run = await db.UpdaterRuns.AsNoTracking().OrderByDescending(r => r.Id)
            .Select(r => new LastUpdaterRun(r.StartedAt, r.FinishedAt, r.Refreshed, r.Failed, r.Skipped, r.Cancelled, r.TriggeredBy)).FirstOrDefaultAsync(cancellationToken);
        var dayAgo = now.AddDays(-1);
        var channels = await db.AlertChannels.CountAsync(c => c.Enabled, cancellationToken);
        var pending = await db.AlertDeliveries.CountAsync(d => d.Status == AlertDeliveryStatus.Pending, cancellationToken)
            + await db.AlertEvents.CountAsync(e => e.DispatchedAt == null, cancellationToken);
        var failedToday = await db.AlertDeliveries.CountAsync(d => d.Status == AlertDeliveryStatus.Failed && d.CompletedAt >= dayAgo, cancellationToken);
        var snapshot = await settings.GetAsync(cancellationToken);

        var ordered = attention.OrderBy(a => a.Level).ToList();
        return new DashboardView(ordered, Math.Max(attentionTotal, ordered.Count), sources, mailCounts?.Total ?? 0, mailCounts?.Failing ?? 0, mailCounts?.LastFetch,
            run, channels, pending, failedToday, snapshot.RedirectUri);
    }

    private sealed record SourceRow(int Id, string Name, string? Condition, DateTime? RevokedAt, DateTime? RefreshTokenExpiresAt, string? ErrorCode, string? ErrorDescription, int Failures);

    private static AttentionItem Item(string kind, string link, SourceRow row, DateTime now)
    {
        if (row.Condition == AlertConditions.Dead || row.RevokedAt is not null)
        {
            return new AttentionItem(AttentionLevel.Error, kind, row.Name,
                $"Cannot get tokens: the provider refused ({row.ErrorCode ?? "refresh token revoked"}{(row.ErrorDescription is null ? "" : ": " + row.ErrorDescription)}).",
                link, "Request a new token");
        }

        if (row.Condition == AlertConditions.Failing)
        {
            return new AttentionItem(AttentionLevel.Error, kind, row.Name,
                $"Renewals fail ({row.Failures} in a row): {row.ErrorCode}{(row.ErrorDescription is null ? "" : ": " + row.ErrorDescription)}", link, "Open it");
        }

        var left = row.RefreshTokenExpiresAt!.Value - now;
        return new AttentionItem(left <= TimeSpan.Zero ? AttentionLevel.Error : AttentionLevel.Warning, kind, row.Name,
            left <= TimeSpan.Zero
                ? $"The refresh token expired at {row.RefreshTokenExpiresAt:yyyy-MM-dd HH:mm} UTC."
                : $"The refresh token expires at {row.RefreshTokenExpiresAt:yyyy-MM-dd HH:mm} UTC (in {(left.TotalDays >= 1 ? $"{Math.Floor(left.TotalDays).ToString(CultureInfo.InvariantCulture)} days" : $"{Math.Ceiling(left.TotalHours).ToString(CultureInfo.InvariantCulture)} hours")}).",
            link, "Request a new token");
    }

    private static string Id(int id) => id.ToString(CultureInfo.InvariantCulture);
}
