using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Quartz;
using TokenAdmin.Data;
using TokenAdmin.Settings;

namespace TokenAdmin.WebServices;

/// <summary>Every hour: removes debugger entries older than the retention setting (Debugger.RetentionDays), then the oldest beyond Debugger.MaxSizeMB.</summary>
[DisallowConcurrentExecution]
public sealed partial class CallLogPurgeJob(IServiceScopeFactory scopes, SettingsStore settings, TimeProvider time, ILogger<CallLogPurgeJob> logger) : IJob
{
    public static readonly JobKey Key = new("call-log-purge", "TokenAdmin");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) => await PurgeAsync(cancellationToken);

    /// <summary>Deletes the entries older than the retention; returns how many.</summary>
    public async Task<int> PurgeAsync(CancellationToken cancellationToken)
    {
        var snapshot = await settings.GetAsync(cancellationToken);
        var days = int.TryParse(snapshot.Get(DebuggerSettings.RetentionDays), NumberStyles.None, CultureInfo.InvariantCulture, out var d) && d >= 1 ? d : 14;
        var cutoff = time.GetUtcNow().UtcDateTime.AddDays(-days);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenAdminDb>();
        var deleted = await db.CallLogEntries.Where(e => e.At < cutoff).ExecuteDeleteAsync(cancellationToken);
        if (deleted > 0)
        {
            LogPurged(logger, deleted, days);
        }

        // Note: each node's recorder keeps the total size bounded as it stores; this catches what several nodes stored together.
        await CallLogBound.TrimAsync(db, CallLogBound.MaxSize(snapshot), cancellationToken);

        return deleted;
    }

    [LoggerMessage(LogLevel.Information, "Debugger: removed {Count} call(s) older than {Days} days.")]
    private static partial void LogPurged(ILogger logger, int count, int days);
}
