using System.Globalization;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Alerts;
using TokenAdmin.Data;
using TokenAdmin.Settings;
using TokenAdmin.Tokens;
using TokenAdmin.WebServices;

namespace TokenAdmin.Dashboard;

public enum AttentionLevel { Error, Warning }

/// <summary>One thing that needs an admin, with the page that fixes it.</summary>
public sealed record AttentionItem(AttentionLevel Level, string Kind, string Name, string Problem, string Link, string LinkText);

/// <summary>Token sources by state. A source is in exactly one of these.</summary>
public sealed record SourceCounts(int Total, int Working, int Failing, int Dead, int NotAuthorized, int Expiring);

/// <summary>A client secret or certificate that expires within the warning window (or has expired), with the page where it is renewed.</summary>
public sealed record ExpiringCredential(string Kind, string Name, string What, DateTime ExpiresAt, string Link, string LinkText)
{
    public bool Expired(DateTime now) => ExpiresAt <= now;
}

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
    string RedirectUri,
    IReadOnlyList<ExpiringCredential> Credentials,
    int CredentialWarningDays,
    DateTime Now);

/// <summary>
/// Reads the dashboard: first what needs attention (dead sources, failing ones, refresh tokens about to expire, mail
/// accounts whose last fetch failed, web services whose last call failed), then counts by state and the last runs.
/// Each list is cut at <see cref="MaxItemsPerList"/>; the counts are aggregates computed by the database.
/// </summary>
public sealed class DashboardQuery(TokenAdminDb db, SettingsStore settings, AlertOutbox alerts, TimeProvider time)
{
    public const int MaxItemsPerList = 25;

    public async Task<DashboardView> ReadAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var horizon = now + alerts.Options.RefreshTokenWarning;
        var attention = new List<AttentionItem>();

        // Note: every count of the page in one statement (one round trip instead of about a dozen). A bare
        // `db.X.Count()` here would be run as a query of its own before this one (EF Core evaluates it as a
        // parameter); `Select(x => x.Id).Count()` keeps it a subquery of the statement. Each subquery
        // reads an index or a small table: states by standing (TokenState.Standing, kept by each save) and, for the
        // working ones, held refresh tokens by expiry (a partial index). The whole-table counts (configs, accounts,
        // states) read no rows on SQLite (it counts the smallest index's pages); on PostgreSQL each is a count over
        // the table, as the overview's count is (not measured there). Nothing sorts all sources.
        var dayAgo = now.AddDays(-1);
        var counts = await OneRow().Select(_ => new
        {
            Configs = db.TokenConfigs.Select(c => c.Id).Count(),
            Accounts = db.FunctionalAccounts.Select(a => a.Id).Count(),
            Dead = db.TokenStates.Count(s => s.Standing == TokenStanding.Dead),
            Failing = db.TokenStates.Count(s => s.Standing == TokenStanding.Failing),
            States = db.TokenStates.Select(s => s.Id).Count(),
            NoTokens = db.TokenStates.Count(s => s.Standing == TokenStanding.NoTokens),
            Expiring = db.TokenStates.Count(s => s.Standing == TokenStanding.Working && s.RefreshTokenExpiresAt <= horizon && s.RefreshTokenProtected != null),
            MailAccounts = db.MailAccounts.Select(a => a.Id).Count(),
            MailFailing = db.MailAccounts.Count(a => a.Valid && a.LastError != null),
            LastMailFetch = db.MailAccounts.Max(a => a.LastFetchAt),
            ServicesFailing = db.WebServices.Count(w => w.ConsecutiveCallFailures > 0),
            UpdaterRuns = db.UpdaterRuns.Select(r => r.Id).Count(),
            Channels = db.AlertChannels.Count(c => c.Enabled),
            DeliveriesPending = db.AlertDeliveries.Count(d => d.Status == AlertDeliveryStatus.Pending),
            EventsUndispatched = db.AlertEvents.Count(e => e.DispatchedAt == null),
            FailedToday = db.AlertDeliveries.Count(d => d.Status == AlertDeliveryStatus.Failed && d.CompletedAt >= dayAgo),
        }).SingleAsync(cancellationToken);
        var configCount = counts.Configs;
        var accountCount = counts.Accounts;
        var dead = counts.Dead;
        var failing = counts.Failing;
        var expiring = counts.Expiring;
        var total = configCount + accountCount;
        // Note: working ones are what is left of the states: counting the few that are not reads a few index entries,
        // counting the working ones (most of them, on a healthy installation) read them all.
        var working = Math.Max(0, counts.States - dead - failing - counts.NoTokens);
        var notAuthorized = Math.Max(0, total - dead - failing - working);
        var sources = new SourceCounts(total, Math.Max(0, working - expiring), failing, dead, notAuthorized, expiring);
        var attentionTotal = dead + failing + expiring;

        if (configCount > 0)
        {
            var rows = await ListAsync(
                db.TokenStates.AsNoTracking().Join(db.TokenConfigs, s => s.TokenConfigId, c => (int?)c.Id, (s, c) => new Joined { State = s, Id = c.Id, Name = c.Name }),
                dead + failing > 0, expiring > 0, horizon, cancellationToken);
            attention.AddRange(rows.Select(r => Item("Token config", $"/Tokens/Details/{Id(r.Id)}", r, now)));
        }

        if (accountCount > 0)
        {
            var rows = await ListAsync(
                db.TokenStates.AsNoTracking().Join(db.FunctionalAccounts, s => s.FunctionalAccountId, a => (int?)a.Id, (s, a) => new Joined { State = s, Id = a.Id, Name = a.Name }),
                dead + failing > 0, expiring > 0, horizon, cancellationToken);
            attention.AddRange(rows.Select(r => Item("Functional account", $"/FunctionalAccounts/Edit/{Id(r.Id)}", r, now)));
        }

        var mail = counts.MailFailing == 0 ? [] : await db.MailAccounts.AsNoTracking().Where(a => a.Valid && a.LastError != null).OrderBy(a => a.Login)
            .Select(a => new FailingMailAccount(a.Id, a.Login, a.Host, a.LastError, a.LastErrorAt, a.ConsecutiveFetchFailures)).Take(MaxItemsPerList).ToListAsync(cancellationToken);
        attention.AddRange(mail.Select(a => new AttentionItem(
            a.ConsecutiveFetchFailures >= alerts.Options.FailingAfterFailures ? AttentionLevel.Error : AttentionLevel.Warning,
            "Mail account", $"{a.Login} at {a.Host}",
            $"The last fetch failed ({a.ConsecutiveFetchFailures} in a row, last at {a.LastErrorAt:yyyy-MM-dd HH:mm} UTC): {a.LastError}",
            $"/MailAccounts/Edit/{Id(a.Id)}", "Check the mail account")));
        attentionTotal += counts.MailFailing;

        // Note: each web service keeps its own call health (CallHealth, updated by every failed call and the next one
        // that works), so this reads the few web services, not the debugger's calls.
        var failedServices = counts.ServicesFailing == 0 ? [] : await db.WebServices.AsNoTracking().Where(w => w.ConsecutiveCallFailures > 0).OrderBy(w => w.Name)
            .Select(w => new FailingWebService(w.Name, w.ConsecutiveCallFailures, w.LastCallFailedAt, w.LastCallError, w.AlertCondition)).Take(MaxItemsPerList).ToListAsync(cancellationToken);
        attention.AddRange(failedServices.Select(w => new AttentionItem(
            w.AlertCondition == AlertConditions.Failing ? AttentionLevel.Error : AttentionLevel.Warning, "Web service", w.Name,
            $"The last call failed ({w.ConsecutiveCallFailures} in a row, last at {w.LastCallFailedAt:yyyy-MM-dd HH:mm} UTC): {w.LastCallError}",
            CallHealth.Link(w.Name), "Open the debugger")));
        attentionTotal += counts.ServicesFailing;

        var run = counts.UpdaterRuns == 0 ? null : await db.UpdaterRuns.AsNoTracking().OrderByDescending(r => r.Id)
            .Select(r => new LastUpdaterRun(r.StartedAt, r.FinishedAt, r.Refreshed, r.Failed, r.Skipped, r.Cancelled, r.TriggeredBy)).FirstOrDefaultAsync(cancellationToken);
        var snapshot = await settings.GetAsync(cancellationToken);

        var ordered = attention.OrderBy(a => a.Level).ToList();
        return new DashboardView(ordered, Math.Max(attentionTotal, ordered.Count), sources, counts.MailAccounts, counts.MailFailing, counts.LastMailFetch,
            run, counts.Channels, counts.DeliveriesPending + counts.EventsUndispatched, counts.FailedToday, snapshot.RedirectUri, await CredentialsAsync(snapshot, now, accountCount > 0, cancellationToken), CredentialSettings.Warning(snapshot), now);
    }

    /// <summary>
    /// Client secrets (with an expiry date entered) and client certificates that expire within the warning window
    /// (<see cref="CredentialSettings.WarningDays"/>) or have expired, soonest first: of valid token configs (their
    /// Edit page), valid functional accounts (their own certificate) and OIDC profiles (their secret; the profile's page).
    /// </summary>
    private async Task<IReadOnlyList<ExpiringCredential>> CredentialsAsync(SettingsSnapshot snapshot, DateTime now, bool anyAccount, CancellationToken cancellationToken)
    {
        var horizon = now.AddDays(CredentialSettings.Warning(snapshot));
        var list = new List<ExpiringCredential>();
        // Note: CredentialExpiresAt (the earlier of the certificate's end and the held secret's expiry, derived on each
        // save) is indexed: SQLite walks that index from the soonest and stops at the cut, instead of reading every
        // token config and sorting by a computed key.
        var configs = await db.TokenConfigs.AsNoTracking()
            .Where(c => c.Valid && c.CredentialExpiresAt != null && c.CredentialExpiresAt <= horizon)
            .OrderBy(c => c.CredentialExpiresAt)
            .Select(c => new { c.Id, c.Name, HasSecret = c.ClientSecretProtected != null, c.ClientSecretExpiresAt, c.Certificate.NotAfter })
            .Take(MaxItemsPerList).ToListAsync(cancellationToken);
        foreach (var c in configs)
        {
            list.AddRange(CredentialExpiry.Of(c.HasSecret, c.ClientSecretExpiresAt, c.NotAfter).Where(e => e.ExpiresAt <= horizon)
                .Select(e => new ExpiringCredential("Token config", c.Name, e.What, e.ExpiresAt, $"/Tokens/Edit/{Id(c.Id)}", $"Renew the {e.What}")));
        }

        var accounts = !anyAccount ? [] : await db.FunctionalAccounts.AsNoTracking().Where(a => a.Valid && a.Certificate.NotAfter != null && a.Certificate.NotAfter <= horizon)
            .OrderBy(a => a.Certificate.NotAfter).Select(a => new AccountCertificate(a.Id, a.Name, a.Certificate.NotAfter!.Value)).Take(MaxItemsPerList).ToListAsync(cancellationToken);
        list.AddRange(accounts.Select(a => new ExpiringCredential("Functional account", a.Name, CredentialExpiry.Certificate, a.NotAfter,
            $"/FunctionalAccounts/Edit/{Id(a.Id)}", "Renew the certificate")));
        var profiles = await db.OidcProfiles.AsNoTracking().Where(p => p.ClientSecretProtected != null && p.ClientSecretExpiresAt != null && p.ClientSecretExpiresAt <= horizon)
            .OrderBy(p => p.ClientSecretExpiresAt).Select(p => new { p.Id, p.Name, ExpiresAt = p.ClientSecretExpiresAt!.Value }).Take(MaxItemsPerList).ToListAsync(cancellationToken);
        list.AddRange(profiles.Select(p => new ExpiringCredential("OIDC profile", p.Name, CredentialExpiry.Secret, p.ExpiresAt,
            $"/OidcProfiles/Edit/{Id(p.Id)}", "Renew the secret")));
        return [.. list.OrderBy(c => c.ExpiresAt).Take(MaxItemsPerList)];
    }

    /// <summary>A state with its source's id and name (member-initialized, so EF Core can filter and order by it).</summary>
    private sealed class Joined
    {
        public required TokenState State { get; init; }
        public required int Id { get; init; }
        public required string Name { get; init; }
    }

    /// <summary>
    /// Up to <see cref="MaxItemsPerList"/> sources of one kind: dead ones, then failing ones (each longest broken first),
    /// then working ones whose refresh token expires within the window (soonest first). Each part walks an index of
    /// TokenStates in its order and stops at the limit.
    /// </summary>
    private static async Task<List<SourceRow>> ListAsync(IQueryable<Joined> joined, bool broken, bool expiring, DateTime horizon, CancellationToken cancellationToken)
    {
        var rows = new List<SourceRow>();
        if (broken)
        {
            rows.AddRange(await joined.Where(j => j.State.Standing < TokenStanding.Working)
                .OrderBy(j => j.State.Standing).ThenBy(j => j.State.FailingSince)
                .Select(j => new SourceRow(j.Id, j.Name, j.State.AlertCondition, j.State.RefreshTokenRevokedAt, j.State.RefreshTokenExpiresAt, j.State.LastErrorCode, j.State.LastErrorDescription, j.State.ConsecutiveFailures))
                .Take(MaxItemsPerList).ToListAsync(cancellationToken));
        }

        if (expiring && rows.Count < MaxItemsPerList)
        {
            rows.AddRange(await joined.Where(j => j.State.Standing == TokenStanding.Working && j.State.RefreshTokenExpiresAt <= horizon && j.State.RefreshTokenProtected != null)
                .OrderBy(j => j.State.RefreshTokenExpiresAt)
                .Select(j => new SourceRow(j.Id, j.Name, j.State.AlertCondition, j.State.RefreshTokenRevokedAt, j.State.RefreshTokenExpiresAt, j.State.LastErrorCode, j.State.LastErrorDescription, j.State.ConsecutiveFailures))
                .Take(MaxItemsPerList - rows.Count).ToListAsync(cancellationToken));
        }

        return rows;
    }

    private sealed record FailingMailAccount(int Id, string Login, string Host, string? LastError, DateTime? LastErrorAt, int ConsecutiveFetchFailures);

    private sealed record FailingWebService(string Name, int ConsecutiveCallFailures, DateTime? LastCallFailedAt, string? LastCallError, string? AlertCondition);

    private sealed record AccountCertificate(int Id, string Name, DateTime NotAfter);

    /// <summary>One row to hang the counts on: <c>SELECT 1</c>, the same on SQLite and PostgreSQL.</summary>
    private IQueryable<int> OneRow() => db.Database.SqlQueryRaw<int>("SELECT 1 AS \"Value\"");

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
