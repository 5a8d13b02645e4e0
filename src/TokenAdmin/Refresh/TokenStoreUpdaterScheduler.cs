using Microsoft.Extensions.Options;
using Quartz;
using TokenAdmin.Admin;
using TokenAdmin.Data;
using TokenAdmin.Settings;

namespace TokenAdmin.Refresh;

/// <summary>What the Scheduler page shows of the updater's schedule.</summary>
public sealed record UpdaterScheduleView(
    RefreshSchedule Schedule, bool Enabled, TimeSpan Margin, SchedulerStatus Status, IReadOnlyList<DateTimeOffset> NextFireTimes)
{
    public bool Running => Status == SchedulerStatus.Running;
}

/// <summary>
/// Keeps the Quartz trigger of the token store updater in line with the settings, and fires the job on request.
/// The trigger is (re)built from the settings at start, when settings change in this process, and after every run
/// (which picks up changes made by another process).
/// </summary>
public sealed partial class TokenStoreUpdaterScheduler(
    ISchedulerFactory schedulers,
    SettingsStore settings,
    IServiceScopeFactory scopes,
    IOptions<TokenStoreUpdaterOptions> options,
    TimeProvider time,
    ILogger<TokenStoreUpdaterScheduler> logger) : IHostedService, IDisposable
{
    private readonly SemaphoreSlim _applyLock = new(1, 1);

    /// <summary>Raised with the new schedule's description after the trigger was replaced.</summary>
    public event Action<string>? Rescheduled;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        settings.Changed += OnSettingsChanged;
        try
        {
            await ApplyScheduleAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Note: the web app starts anyway; the Scheduler page shows the missing trigger and the next change retries.
            LogApplyFailed(logger, ex);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        settings.Changed -= OnSettingsChanged;
        return Task.CompletedTask;
    }

    /// <summary>Replaces the trigger when the settings describe another schedule than the stored trigger; idempotent.</summary>
    public async Task<RefreshSchedule> ApplyScheduleAsync(CancellationToken cancellationToken)
    {
        await _applyLock.WaitAsync(cancellationToken);
        try
        {
            var schedule = RefreshSchedule.From(await settings.GetAsync(cancellationToken));
            var scheduler = await schedulers.GetScheduler(cancellationToken);
            if (await scheduler.GetStatus(cancellationToken) is SchedulerStatus.ShuttingDown or SchedulerStatus.Shutdown)
            {
                return schedule;
            }

            var current = await scheduler.GetTrigger(RefreshSchedule.TriggerKey, cancellationToken);
            if (current?.Description != schedule.Description)
            {
                var next = await scheduler.ScheduleTrigger(schedule.BuildTrigger(time), TriggerConflict.Replace, cancellationToken);
                LogScheduled(logger, schedule.Description, next.NextFireTimeUtc);
                Rescheduled?.Invoke(schedule.Description);
            }

            return schedule;
        }
        finally
        {
            _applyLock.Release();
        }
    }

    public async Task<UpdaterScheduleView> DescribeAsync(CancellationToken cancellationToken, int fireTimes = 5)
    {
        var schedule = RefreshSchedule.From(await settings.GetAsync(cancellationToken));
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var status = await scheduler.GetStatus(cancellationToken);
        var times = status is SchedulerStatus.ShuttingDown or SchedulerStatus.Shutdown
            ? null
            : await scheduler.GetUpcomingFireTimes(RefreshSchedule.TriggerKey, fireTimes, cancellationToken);
        return new UpdaterScheduleView(schedule, options.Value.Enabled, options.Value.Margin, status, times ?? []);
    }

    /// <summary>Fires the updater job now (audited). False when the scheduler is not running, so nothing would fire.</summary>
    public async Task<bool> RunNowAsync(string admin, CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        if (await scheduler.GetStatus(cancellationToken) != SchedulerStatus.Running)
        {
            return false;
        }

        using (var scope = scopes.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TokenAdminDb>();
            AuditLog.Add(db, time, admin, "updater.run-requested", "TokenStoreUpdater");
            await db.SaveChangesAsync(cancellationToken);
        }

        await scheduler.TriggerJob(RefreshSchedule.JobKey, new JobDataMap { [TokenStoreUpdaterJob.RequestedBy] = admin }, cancellationToken);
        return true;
    }

    public void Dispose() => _applyLock.Dispose();

    private void OnSettingsChanged() => _ = Task.Run(async () =>
    {
        try
        {
            await ApplyScheduleAsync(CancellationToken.None);
        }
        catch (Exception ex)
        {
            LogApplyFailed(logger, ex);
        }
    });

    [LoggerMessage(Level = LogLevel.Information, Message = "Token store updater scheduled: {Schedule}; next run {NextRun:u}.")]
    private static partial void LogScheduled(ILogger logger, string schedule, DateTimeOffset nextRun);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not schedule the token store updater.")]
    private static partial void LogApplyFailed(ILogger logger, Exception exception);
}
