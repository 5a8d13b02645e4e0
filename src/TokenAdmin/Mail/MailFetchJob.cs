using Microsoft.EntityFrameworkCore;
using Quartz;
using TokenAdmin.Data;

namespace TokenAdmin.Mail;

/// <summary>
/// Every minute: fetches each valid mail account whose fetch interval has passed since its last fetch, one account
/// after the other. Never two runs at once; "Fetch now" on one account shares the per-account lock with it.
/// </summary>
[DisallowConcurrentExecution]
public sealed partial class MailFetchJob(IServiceScopeFactory scopes, TimeProvider time, ILogger<MailFetchJob> logger) : IJob
{
    public static readonly JobKey Key = new("mail-fetch", "TokenAdmin");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) => await RunDueAsync(cancellationToken);

    /// <summary>Fetches every account that is due now; returns their ids.</summary>
    public async Task<IReadOnlyList<int>> RunDueAsync(CancellationToken cancellationToken)
    {
        List<int> due;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TokenAdminDb>();
            var now = time.GetUtcNow().UtcDateTime;
            // Note: filtered in memory: a handful of accounts, and date arithmetic on a column differs per database.
            var accounts = await db.MailAccounts.AsNoTracking().Where(a => a.Valid)
                .Select(a => new { a.Id, a.LastFetchAt, a.FetchIntervalMinutes }).ToListAsync(cancellationToken);
            due = accounts.Where(a => a.LastFetchAt is null || a.LastFetchAt.Value.AddMinutes(a.FetchIntervalMinutes) <= now.AddSeconds(5))
                .OrderBy(a => a.LastFetchAt).Select(a => a.Id).ToList();
        }

        foreach (var id in due)
        {
            try
            {
                // A scope per account: one account's database context never carries another's rows.
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<MailFetcher>().FetchAsync(id, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // One broken account never stops the others; its own errors are on the account already.
                LogAccountFailed(logger, ex, id);
            }
        }

        return due;
    }

    [LoggerMessage(LogLevel.Error, "Fetching mail account {AccountId} failed.")]
    private static partial void LogAccountFailed(ILogger logger, Exception exception, int accountId);
}
