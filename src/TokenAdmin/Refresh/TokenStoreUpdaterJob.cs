using Quartz;

namespace TokenAdmin.Refresh;

/// <summary>
/// The Quartz job that runs <see cref="TokenStoreUpdater"/> on the schedule and on "Run now". Never two at once: a run
/// that is due while one is still going waits for it (and, with the clustered store, this holds across nodes).
/// </summary>
[DisallowConcurrentExecution]
public sealed partial class TokenStoreUpdaterJob(IServiceScopeFactory scopes, TokenStoreUpdaterScheduler scheduler, ILogger<TokenStoreUpdaterJob> logger) : IJob
{
    /// <summary>Job data: who pressed "Run now".</summary>
    public const string RequestedBy = "requestedBy";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var triggeredBy = context.MergedJobDataMap.TryGetString(RequestedBy, out var admin) && !string.IsNullOrEmpty(admin)
            ? $"Run now ({admin})"
            : "schedule";

        // Note: a scope of its own per run, so the database context and everything scoped live exactly as long as the run.
        var scope = scopes.CreateAsyncScope();
        try
        {
            await scope.ServiceProvider.GetRequiredService<TokenStoreUpdater>().RunAsync(triggeredBy, cancellationToken);
        }

        // Shutdown: stop at once and do not ask Quartz to fire again. The run's summary was recorded as stopped.
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
        {
            throw new JobExecutionException(ex) { RefireImmediately = false };
        }

        // Failures of single token configs are part of the summary; what lands here stopped the whole run (the database
        // is unreachable, the settings cannot be read). Quartz logs it; the next scheduled run tries again.
        catch (Exception ex) when (ex is not JobExecutionException)
        {
            LogRunFailed(logger, triggeredBy, ex);
            throw new JobExecutionException(ex) { RefireImmediately = false };
        }
        finally
        {
            await scope.DisposeAsync();
        }

        // Settings changed by another process (a console verb, another node) reach this one at the latest here.
        await scheduler.ApplyScheduleAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Token store updater run ({TriggeredBy}) failed.")]
    private static partial void LogRunFailed(ILogger logger, string triggeredBy, Exception exception);
}
