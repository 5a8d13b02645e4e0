using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenAdmin.Data;
using TokenAdmin.Settings;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Refresh;

/// <summary>Configuration (appsettings TokenAdmin:TokenStoreUpdater) of what admins do not tune in the settings.</summary>
public sealed class TokenStoreUpdaterOptions
{
    /// <summary>False keeps the scheduler from starting with the web app (runs then come only from the console verb).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>An access token that expires less than this after the next run is refreshed now.</summary>
    public TimeSpan Margin { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// A sliding refresh token (Microsoft: 90 days unused) is used this long before it would go idle, so one failed
    /// run or a few days of downtime do not lose it.
    /// </summary>
    public TimeSpan IdleSafety { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// How long the run waits for one source it refreshes one by one (waiting for its lease, the exchange with the
    /// provider, saving): a source stuck longer is reported as failed and the run goes on with the others. Keep it above
    /// TokenAdmin:Providers:Deadline, which bounds each exchange with a provider.
    /// </summary>
    public TimeSpan SourceDeadline { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>Refresh now (<paramref name="Due"/>) or leave alone, and why, in words for the run summary.</summary>
public readonly record struct UpdaterDecision(bool Due, string Why);

/// <summary>
/// One pass of the token store updater (OTOBO's TokenStoreUpdater): refreshes, through <see cref="ITokenProvider"/>,
/// the tokens that would expire before the next run and the idle refresh tokens a provider would drop, a few at a
/// time, and records what it did. The Quartz job, "Run now" and `jobs run token-store-updater` all end up here.
/// </summary>
public sealed partial class TokenStoreUpdater(
    TokenAdminDb db,
    TokenSourceKinds kinds,
    ITokenProvider provider,
    SettingsStore settings,
    UpdaterRunLog log,
    UpdaterMetrics metrics,
    IOptions<TokenStoreUpdaterOptions> options,
    TimeProvider time,
    IServiceScopeFactory scopes,
    ILogger<TokenStoreUpdater> logger)
{
    /// <summary>Batches refreshed at the same time (each with half the parallelism), so one's database work overlaps the other's requests.</summary>
    private const int BatchWorkers = 2;

    public async Task<UpdaterRunSummary> RunAsync(string triggeredBy, CancellationToken cancellationToken)
    {
        var startedAt = time.GetUtcNow();
        var started = time.GetTimestamp();
        var schedule = RefreshSchedule.From(await settings.GetAsync(cancellationToken));
        var now = startedAt.UtcDateTime;
        var nextRun = now + schedule.LookAhead(startedAt);

        var skipped = new List<UpdaterSkip>();
        var due = new List<(TokenSourceWatch Config, string Why)>();
        foreach (var candidate in await LoadCandidatesAsync(cancellationToken))
        {
            var decision = Decide(candidate, now, nextRun, options.Value.Margin, options.Value.IdleSafety);
            if (decision.Due)
            {
                due.Add((candidate, decision.Why));
            }
            else
            {
                skipped.Add(new UpdaterSkip(candidate.Name, decision.Why));
            }
        }

        var refreshed = new ConcurrentQueue<UpdaterRefresh>();
        var failed = new ConcurrentQueue<UpdaterFailure>();
        var cancelled = false;
        try
        {
            // Sources with a refresh token go in batches (one lease statement, one read, one save per batch); what a
            // batch leaves alone and sources without a refresh token go one by one through the token provider, which
            // knows every other case.
            var oneByOne = await RefreshInBatchesAsync(due, now, schedule.Parallelism, refreshed, failed, cancellationToken);
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = schedule.Parallelism, CancellationToken = cancellationToken };
            var sourceDeadline = options.Value.SourceDeadline;
            await Parallel.ForEachAsync(oneByOne, parallel, async (item, token) =>
            {
                // Note: each source has a deadline of its own, so one that hangs (a provider, a lease another process
                // keeps) delays the others by that much at most and never keeps the run, and so the next scheduled run
                // (DisallowConcurrentExecution), from ending. The refresh itself runs on in the token provider until
                // the provider's deadline ends it: a rotated refresh token must still be stored.
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token);
                deadline.CancelAfter(sourceDeadline);
                try
                {
                    await provider.ForceRefreshAsync(item.Config.Source, deadline.Token);
                    refreshed.Enqueue(new UpdaterRefresh(item.Config.Name, item.Why));
                }
                catch (TokenUnavailableException ex)
                {
                    failed.Enqueue(new UpdaterFailure(item.Config.Name, ex.Reason.ToString(), ex.Message));
                    LogRefreshFailed(logger, item.Config.Name, ex.Reason.ToString(), ex.Message);
                }
                catch (OperationCanceledException) when (deadline.IsCancellationRequested && !token.IsCancellationRequested)
                {
                    var message = $"The refresh did not finish within {sourceDeadline.TotalSeconds:0.#} seconds; the run went on with the others.";
                    failed.Enqueue(new UpdaterFailure(item.Config.Name, "Timeout", message));
                    LogRefreshFailed(logger, item.Config.Name, "Timeout", message);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !token.IsCancellationRequested)
                {
                    // Note: one token config failing in an unexpected way (a bug, a database hiccup) must not keep the
                    // others from being refreshed; it is collected with the provider failures and shown in the summary.
                    failed.Enqueue(new UpdaterFailure(item.Config.Name, "Error", ex.Message));
                    LogRefreshError(logger, item.Config.Name, ex);
                }
            });
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            cancelled = true;
        }

        var summary = new UpdaterRunSummary(now, time.GetElapsedTime(started), triggeredBy,
            [.. refreshed.OrderBy(r => r.Name, StringComparer.OrdinalIgnoreCase)],
            [.. failed.OrderBy(f => f.Name, StringComparer.OrdinalIgnoreCase)],
            skipped, cancelled);
        metrics.Record(summary);
        LogRun(logger, triggeredBy, summary.Headline);
        if (!cancelled)
        {
            await log.RecordAsync(summary, cancellationToken);
            return summary;
        }

        // Note: a run stopped by shutdown is still recorded (the admin sees what it did), without the cancelled token.
        try
        {
            await log.RecordAsync(summary, CancellationToken.None);
        }
        catch (Exception ex) when (ex is DbUpdateException or InvalidOperationException)
        {
            LogRecordFailed(logger, ex);
        }

        cancellationToken.ThrowIfCancellationRequested();
        return summary;
    }

    private async Task<List<(TokenSourceWatch Config, string Why)>> RefreshInBatchesAsync(
        List<(TokenSourceWatch Config, string Why)> due, DateTime runStartedAt, int parallelism,
        ConcurrentQueue<UpdaterRefresh> refreshed, ConcurrentQueue<UpdaterFailure> failed, CancellationToken cancellationToken)
    {
        var batchable = due.Where(d => d.Config.HasRefreshToken && d.Config.RefreshTokenRevokedAt is null).ToList();
        var rest = due.Except(batchable).ToList();
        var workers = parallelism >= BatchWorkers ? BatchWorkers : 1;
        var perBatch = Math.Max(1, parallelism / workers);
        var leftOver = new ConcurrentQueue<(TokenSourceWatch Config, string Why)>();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(batchable.Chunk(perBatch), parallel, async (batch, token) =>
        {
            token.ThrowIfCancellationRequested();
            IReadOnlyList<(TokenSource Source, TokenOperationResult? Result)> results;
            try
            {
                // Note: a batch, once started, runs to its end in its own scope, whether or not this run still waits
                // (shutdown): refresh tokens the provider has rotated must be stored.
                var sources = batch.Select(b => b.Config.Source).ToList();
                var work = Task.Run(async () =>
                {
                    using var scope = scopes.CreateScope();
                    return await scope.ServiceProvider.GetRequiredService<TokenEngine>()
                        .RefreshManyAsync(sources, runStartedAt, "token-store-updater", perBatch, CancellationToken.None);
                }, CancellationToken.None);
                results = await work.WaitAsync(token);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !token.IsCancellationRequested)
            {
                // Note: a batch that failed as a whole (the database) is tried again one by one, where each gets its own message.
                LogBatchError(logger, batch.Length, ex);
                foreach (var item in batch)
                {
                    leftOver.Enqueue(item);
                }

                return;
            }

            foreach (var (item, (_, result)) in batch.Zip(results))
            {
                if (result is null)
                {
                    leftOver.Enqueue(item);
                }
                else if (result.Succeeded)
                {
                    refreshed.Enqueue(new UpdaterRefresh(item.Config.Name, item.Why));
                }
                else
                {
                    // The same reasons the token provider gives for these answers.
                    var reason = result.Failure switch
                    {
                        { Kind: TokenFailureKind.Unavailable } => TokenUnavailableReason.ProviderUnavailable,
                        { RefreshTokenDead: true } when TokenFlows.NeedsPerson(item.Config.Flow) => TokenUnavailableReason.RefreshTokenRevoked,
                        _ => TokenUnavailableReason.ProviderRefused,
                    };
                    failed.Enqueue(new UpdaterFailure(item.Config.Name, reason.ToString(), result.Message));
                    LogRefreshFailed(logger, item.Config.Name, reason.ToString(), result.Message);
                }
            }
        });

        rest.AddRange(leftOver);
        return rest;
    }

    /// <summary>
    /// Whether a token config is due. <paramref name="nextRun"/> is when the next run will have happened at the latest
    /// (the schedule's next fire time, or now + Interval when that is later).
    /// </summary>
    public static UpdaterDecision Decide(TokenSourceWatch c, DateTime now, DateTime nextRun, TimeSpan margin, TimeSpan idleSafety)
    {
        if (!c.Valid)
        {
            return new(false, "set to invalid");
        }

        if (!c.HasAccessToken && !c.HasRefreshToken)
        {
            return new(false, "no token yet: request one first");
        }

        var authorizationCode = TokenFlows.NeedsPerson(c.Flow);
        if (authorizationCode)
        {
            // Note: these need an admin to sign in at the provider again; refreshing would only repeat the refusal.
            if (!c.HasRefreshToken)
            {
                return new(false, "no refresh token: request a new token");
            }

            if (c.RefreshTokenRevokedAt is { } revoked)
            {
                return new(false, $"refresh token refused by the provider since {revoked:yyyy-MM-dd HH:mm} UTC: request a new token");
            }

            if (c.RefreshTokenExpiresAt is { } expired && expired <= now)
            {
                return new(false, $"refresh token expired {expired:yyyy-MM-dd HH:mm} UTC: request a new token");
            }
        }

        var dueBefore = nextRun + margin;
        if (!c.HasAccessToken)
        {
            return new(true, "no access token");
        }

        if (c.AccessTokenExpiresAt is { } at && at < dueBefore)
        {
            return new(true, at <= now ? $"access token expired {at:yyyy-MM-dd HH:mm} UTC" : $"access token expires {at:yyyy-MM-dd HH:mm} UTC, before the next run");
        }

        if (authorizationCode)
        {
            // Microsoft drops a refresh token unused for 90 days (AADSTS700082): using it in time keeps it alive.
            if (c.RefreshTokenSliding && c.RefreshTokenLifetimeDays is { } days && (c.LastRefreshAt ?? c.ObtainedAt) is { } lastUse
                && lastUse.AddDays(days) - idleSafety < nextRun)
            {
                return new(true, $"refresh token unused since {lastUse:yyyy-MM-dd HH:mm} UTC; the provider drops it after {days} days unused");
            }

            // A provider that states the refresh token's expiry (Keycloak: its idle timeout) may renew it when it is used.
            if (c.RefreshTokenExpiresAt is { } rt && !c.RefreshTokenExpiryEstimated && rt < dueBefore)
            {
                return new(true, $"refresh token expires {rt:yyyy-MM-dd HH:mm} UTC, before the next run");
            }
        }

        return new(false, c.AccessTokenExpiresAt is { } until ? $"not due: access token valid until {until:yyyy-MM-dd HH:mm} UTC" : "not due: access token without stated expiry");
    }

    /// <summary>Every source of every kind, as the updater decides on it (one projected query per kind).</summary>
    private async Task<List<TokenSourceWatch>> LoadCandidatesAsync(CancellationToken cancellationToken)
    {
        var candidates = new List<TokenSourceWatch>();
        foreach (var kind in kinds.All.OrderBy(k => k.Kind))
        {
            candidates.AddRange(await kind.WatchAsync(db, cancellationToken));
        }

        return candidates;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Token store updater ({TriggeredBy}): {Headline}")]
    private static partial void LogRun(ILogger logger, string triggeredBy, string headline);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Token store updater could not refresh '{Config}': {Reason}: {Message}")]
    private static partial void LogRefreshFailed(ILogger logger, string config, string reason, string message);

    [LoggerMessage(Level = LogLevel.Error, Message = "Token store updater failed on '{Config}'.")]
    private static partial void LogRefreshError(ILogger logger, string config, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Token store updater could not refresh a batch of {Count} token sources; they are tried one by one.")]
    private static partial void LogBatchError(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Token store updater could not record the summary of a stopped run.")]
    private static partial void LogRecordFailed(ILogger logger, Exception exception);
}
