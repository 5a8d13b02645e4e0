using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Quartz;
using TokenAdmin.Data;

namespace TokenAdmin.Mail;

/// <summary>
/// Every minute: fetches each valid mail account whose fetch interval has passed since its last fetch, a few accounts
/// at a time (<see cref="MailOptions.FetchParallelism"/>), each under its own deadline (<see cref="MailOptions.FetchDeadline"/>).
/// Never two runs at once; "Fetch now" on one account shares the per-account lock with it.
/// </summary>
[DisallowConcurrentExecution]
public sealed partial class MailFetchJob(IServiceScopeFactory scopes, IOptions<MailOptions> options, TimeProvider time, ILogger<MailFetchJob> logger) : IJob
{
    public static readonly JobKey Key = new("mail-fetch", "TokenAdmin");

    /// <summary>How long past its deadline the run still waits for a fetch before it leaves it running.</summary>
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(15);

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

        // Note: accounts side by side, each with its deadline (MailFetcher), so a mail server that stalls holds up only
        // its own account. The run waits for no fetch longer than the deadline and a little grace: a fetch that does
        // not stop at its deadline cannot keep this job (never two at once) from its next run; it keeps its account's
        // lock until it ends, and runs meanwhile skip that account.
        var mail = options.Value;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, mail.FetchParallelism), CancellationToken = cancellationToken };
        try
        {
            await Parallel.ForEachAsync(due, parallel, async (id, token) =>
            {
                try
                {
                    await FetchOneAsync(id, token).WaitAsync(mail.FetchDeadline + Grace, token);
                }
                catch (TimeoutException)
                {
                    LogAccountLeftRunning(logger, id, (mail.FetchDeadline + Grace).TotalSeconds);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !token.IsCancellationRequested)
                {
                    // One broken account never stops the others; its own errors are on the account already.
                    LogAccountFailed(logger, ex, id);
                }
            });
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutdown: each fetch records what it did on its account.
        }

        return due;
    }

    private async Task FetchOneAsync(int id, CancellationToken cancellationToken)
    {
        // A scope per account: one account's database context never carries another's rows.
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<MailFetcher>().FetchAsync(id, cancellationToken);
    }

    [LoggerMessage(LogLevel.Error, "Fetching mail account {AccountId} failed.")]
    private static partial void LogAccountFailed(ILogger logger, Exception exception, int accountId);

    [LoggerMessage(LogLevel.Warning, "Fetching mail account {AccountId} did not stop within {Seconds} seconds; the run goes on and leaves it running.")]
    private static partial void LogAccountLeftRunning(ILogger logger, int accountId, double seconds);
}
