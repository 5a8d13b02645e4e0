using System.Globalization;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Alerts;
using TokenAdmin.Data;

namespace TokenAdmin.WebServices;

/// <summary>
/// Keeps each web service's call health (failed calls in a row, since when, the last error) and raises the alerts
/// "web service calls failing" (after <see cref="AlertOptions.FailingAfterFailures"/> failed calls in a row or failures
/// for <see cref="AlertOptions.FailingAfter"/>) and "recovered" (the next call that works): one per change of
/// <see cref="WebService.AlertCondition"/>, written to the outbox in the transaction that records the call's outcome.
/// A call that fails here means the remote side or the credential is broken, not the caller's input: no answer, the
/// invoker's timeout, no token from the token source, HTTP 5xx, or HTTP 401 (after the bearer handler's one retry).
/// </summary>
public sealed partial class CallHealth(IServiceScopeFactory scopes, AlertOutbox alerts, TimeProvider time, ILogger<CallHealth> logger)
{
    /// <summary>Bounds the time a call waits for its outcome to be recorded.</summary>
    private static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(10);

    public const string AlertKind = "WebService";

    /// <summary>Whether an answer with this status counts as a failed call.</summary>
    public static bool IsFailure(int statusCode) => statusCode is >= 500 or 401;

    /// <summary>The page an alert and the dashboard link to: the debugger, filtered to the web service's calls.</summary>
    public static string Link(string name) => $"/WebServices/Debugger?WebService={Uri.EscapeDataString(name)}";

    /// <summary>
    /// Records a call's outcome (<paramref name="error"/> null: it worked). <paramref name="known"/> is the web service as
    /// read before the call: a call that worked while nothing was failing writes nothing. Never throws: a call must not
    /// fail because its health could not be stored (that is logged).
    /// </summary>
    public async Task RecordAsync(WebService known, string? error)
    {
        ArgumentNullException.ThrowIfNull(known);
        if (error is null && known.ConsecutiveCallFailures == 0 && known.AlertCondition is null)
        {
            return;
        }

        try
        {
            // Note: not the caller's token: a call cancelled by its timeout is exactly what must be counted.
            using var timeout = new CancellationTokenSource(StoreTimeout);
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TokenAdminDb>();
            var writes = scope.ServiceProvider.GetRequiredService<DatabaseWriteGate>();
            AlertEvent? raised;
            using (await writes.EnterAsync(timeout.Token))
            {
                raised = await RecordAsync(db, known.Id, error, timeout.Token);
            }

            if (raised is not null)
            {
                alerts.Wake();
            }
        }
#pragma warning disable CA1031 // The health record must never break the call it follows.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogStoreFailed(logger, ex, known.Name);
        }
    }

    private async Task<AlertEvent?> RecordAsync(TokenAdminDb db, int id, string? error, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var cut = error is { Length: > 2000 } ? error[..1999] + "…" : error;
        AlertEvent? raised = null;
        // Note: the outcome and the alert it causes are committed together (the outbox), or neither.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Note: ExecuteUpdate leaves Version alone, so a call never turns an admin's open edit into a conflict.
        if (cut is null)
        {
            await db.WebServices.Where(w => w.Id == id).ExecuteUpdateAsync(s => s
                .SetProperty(w => w.ConsecutiveCallFailures, 0)
                .SetProperty(w => w.CallFailingSince, (DateTime?)null), cancellationToken);
        }
        else
        {
            await db.WebServices.Where(w => w.Id == id).ExecuteUpdateAsync(s => s
                .SetProperty(w => w.ConsecutiveCallFailures, w => w.ConsecutiveCallFailures + 1)
                .SetProperty(w => w.CallFailingSince, w => w.CallFailingSince ?? now)
                .SetProperty(w => w.LastCallFailedAt, now)
                .SetProperty(w => w.LastCallError, cut), cancellationToken);
        }

        var row = await db.WebServices.AsNoTracking().Where(w => w.Id == id)
            .Select(w => new { w.Name, w.ConsecutiveCallFailures, w.CallFailingSince, w.AlertCondition }).SingleOrDefaultAsync(cancellationToken);
        if (row is not null)
        {
            var options = alerts.Options;
            var condition = cut is null ? null
                : row.ConsecutiveCallFailures >= options.FailingAfterFailures || now - (row.CallFailingSince ?? now) >= options.FailingAfter ? AlertConditions.Failing
                : row.AlertCondition;
            if (condition != row.AlertCondition)
            {
                var previous = row.AlertCondition;
                // Note: conditional on the condition read, so of two calls (or nodes) recording the same change, one alerts.
                var changed = await db.WebServices.Where(w => w.Id == id && w.AlertCondition == previous)
                    .ExecuteUpdateAsync(s => s.SetProperty(w => w.AlertCondition, condition), cancellationToken);
                if (changed == 1)
                {
                    var subject = new AlertSubject(AlertKind, id, row.Name, Link(row.Name));
                    raised = condition is null
                        ? alerts.Add(db, subject, AlertTypes.WebServiceRecovered, AlertConditions.Ok, $"Calls to the web service '{row.Name}' work again.", now)
                        : alerts.Add(db, subject, AlertTypes.WebServiceFailing, AlertConditions.Failing,
                            string.Create(CultureInfo.InvariantCulture,
                                $"Calls to the web service '{row.Name}' have failed {row.ConsecutiveCallFailures} time(s) in a row since {row.CallFailingSince:yyyy-MM-dd HH:mm} UTC; " +
                                $"whatever calls it (tickets, mail handlers) gets errors. Last error: {cut} Check the service and its credentials; the debugger shows the calls."),
                            now);
                    await db.SaveChangesAsync(cancellationToken);
                }
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return raised;
    }

    [LoggerMessage(LogLevel.Warning, "The outcome of a call of web service '{WebService}' could not be recorded (its failure count and alert).")]
    private static partial void LogStoreFailed(ILogger logger, Exception exception, string webService);
}
