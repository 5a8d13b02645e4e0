using System.Collections.Concurrent;
using System.Globalization;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Net.Pop3;
using MailKit.Search;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MimeKit;
using TokenAdmin.Alerts;
using TokenAdmin.Data;

namespace TokenAdmin.Mail;

/// <summary>The spool directory refused a message (disk full, permissions): the fetch stops before touching the server.</summary>
public sealed class MailSpoolException(string message, Exception inner) : Exception(message, inner);

public sealed record MailFetchResult(bool Ran, int Stored, int Skipped, IReadOnlyList<string> Errors)
{
    public string Summary => !Ran
        ? "A fetch of this account is already running."
        : Errors.Count == 0
            ? $"{Stored} new message(s) stored."
            : $"{Stored} new message(s) stored; {string.Join(" ", Errors)}";
}

/// <summary>One fetch per account at a time in this process (the Quartz job and "Fetch now" share it).</summary>
public sealed class MailFetchLocks
{
    private readonly ConcurrentDictionary<int, SemaphoreSlim> _locks = new();

    public SemaphoreSlim For(int accountId) => _locks.GetOrAdd(accountId, _ => new SemaphoreSlim(1, 1));
}

/// <summary>
/// Fetches one mail account. Order per message, so that nothing is lost and nothing stored twice: download, write the
/// .eml and its spool journal record, flush the journal (once per batch), commit the index row, run the handlers, and
/// only then delete (or flag) the message on the server.
/// Messages already in the index (IMAP UIDVALIDITY/UID, POP3 UIDL) are not downloaded again.
/// </summary>
public sealed partial class MailFetcher(
    TokenAdminDb db,
    MailConnector connector,
    GraphMailClient graph,
    MailSpool spool,
    MailFetchLocks locks,
    IEnumerable<IFetchedMailHandler> handlers,
    IOptions<MailOptions> options,
    AlertOutbox alerts,
    MailMetrics metrics,
    TimeProvider time,
    ILogger<MailFetcher> logger)
{
    /// <summary>Index rows are committed in batches of this size (each after its files are on disk), before any server change.</summary>
    private const int CommitBatch = 50;

    private const long Pop3BatchBytes = 16 * 1024 * 1024;

    // Note: primary-constructor parameters are in scope only in this part of the partial class; the Graph part uses these.
    private TokenAdminDb Db => db;

    private GraphMailClient Graph => graph;

    public async Task<MailFetchResult> FetchAsync(int accountId, CancellationToken cancellationToken)
    {
        var gate = locks.For(accountId);
        if (!await gate.WaitAsync(0, cancellationToken))
        {
            return new MailFetchResult(false, 0, 0, []);
        }

        try
        {
            var account = await db.MailAccounts.AsNoTracking().SingleOrDefaultAsync(a => a.Id == accountId, cancellationToken);
            if (account is null)
            {
                return new MailFetchResult(true, 0, 0, ["The mail account no longer exists."]);
            }

            using var writer = spool.Begin(account.Id);
            var run = new Run(account, writer);
            // Note: a deadline for the whole fetch. MailKit's timeout is per read, so a server that accepts and then
            // sends a byte now and then (or a token provider that stalls) would otherwise hold this account's lock,
            // and the fetch job, for ever.
            var fetchDeadline = options.Value.FetchDeadline;
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(fetchDeadline);
            try
            {
                spool.RemoveLeftovers(account.Id, TimeSpan.FromHours(1));
                Recover(account);
                if (account.IsGraph)
                {
                    await FetchGraphAsync(run, deadline.Token);
                }
                else
                {
                    using var client = await connector.ConnectAsync(account, deadline.Token);
                    if (client is ImapClient imap)
                    {
                        await FetchImapAsync(imap, run, deadline.Token);
                    }
                    else
                    {
                        await FetchPop3Async((Pop3Client)client, run, deadline.Token);
                    }
                }
            }
            catch (Exception) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // Whatever MailKit threw once the deadline cut the connection, the deadline is the reason.
                run.AddError($"The fetch did not finish within {fetchDeadline.TotalSeconds:0.#} seconds ({account.Host}:{account.Port} answered too slowly or not at all); what it stored is kept, and the next fetch goes on from there.");
            }
            catch (Exception ex) when (ex is MailConnectionException or MailSpoolException or GraphMailException)
            {
                run.AddError(ex.Message);
            }
            catch (Exception ex) when (MailConnector.IsServerFault(ex))
            {
                run.AddError($"{account.Host}: {ex.Message}");
            }
            catch (DbUpdateException ex)
            {
                // Nothing of the failed batch was deleted on the server; the next fetch tries it again.
                run.AddError(Refused(ex));
                run.Pending.Clear();
            }
            catch (Exception ex) when (ex is not OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Note: anything unforeseen is still recorded on the account; nothing not stored was deleted.
                run.AddError($"The fetch failed: {ex.GetType().Name}: {ex.Message}");
                LogUnexpected(logger, account.Id, ex);
            }
            finally
            {
                // Note: rows already added are committed even when the run fails half-way (their files are on disk).
                try
                {
                    await CommitAsync(run, CancellationToken.None);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or DbUpdateException or MailSpoolException)
                {
                    run.AddError($"Stored messages could not be indexed: {ex.Message} They stay on the server and are fetched again.");
                }

                // Note: the run's messages are durable in its journal already; this writes their own files to disk and
                // drops the journal. Should it fail, the journal stays and the next run completes the work (Recover).
                try
                {
                    await run.Spool.SettleAsync();
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    run.AddError($"The stored messages' files could not be flushed to disk: {ex.Message} They are kept in the spool's journal, and the next fetch completes them.");
                }
            }

            await RecordAsync(account, run, cancellationToken);
            return new MailFetchResult(true, run.Stored, run.Skipped, run.Errors);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Completes the spool journal a run that died left behind, before anything new is fetched.</summary>
    private void Recover(MailAccount account)
    {
        int restored;
        try
        {
            restored = spool.Recover(account.Id);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new MailSpoolException($"What an earlier fetch left in the spool's journal could not be completed: {ex.Message} Nothing was fetched.", ex);
        }

        if (restored > 0)
        {
            LogRecovered(logger, account.Id, restored);
        }
    }

    private async Task FetchImapAsync(ImapClient imap, Run run, CancellationToken cancellationToken)
    {
        var account = run.Account;
        IMailFolder folder;
        try
        {
            folder = await imap.GetFolderAsync(account.ImapFolder, cancellationToken);
        }
        catch (FolderNotFoundException)
        {
            run.AddError($"The folder '{account.ImapFolder}' does not exist on {account.Host}.");
            return;
        }

        await folder.OpenAsync(FolderAccess.ReadWrite, cancellationToken);
        var prefix = $"imap:{Mailbox(account, account.ImapFolder)}:{folder.UidValidity.ToString(CultureInfo.InvariantCulture)}:";
        var known = (await KnownKeysAsync(account.Id, prefix, cancellationToken))
            .Select(k => uint.Parse(k.AsSpan(prefix.Length), CultureInfo.InvariantCulture)).ToHashSet();

        var onServer = await folder.SearchAsync(SearchQuery.All, cancellationToken);
        var stored = onServer.Where(u => known.Contains(u.Id)).ToList();
        run.Skipped = stored.Count;
        // Stored but still on the server: a run that ended before deleting them. Kept messages stay as they are.
        var done = account.KeepOnServer ? [] : stored;
        var fresh = onServer.Where(u => !known.Contains(u.Id)).OrderBy(u => u.Id).Take(account.MaxMessagesPerRun).ToList();
        if (fresh.Count > 0)
        {
            var sizes = (await folder.FetchAsync(fresh, MessageSummaryItems.UniqueId | MessageSummaryItems.Size, cancellationToken))
                .ToDictionary(s => s.UniqueId, s => (long)(s.Size ?? 0));
            var wanted = fresh.Where(uid => !TooLarge(run, $"UID {uid.Id}", sizes.GetValueOrDefault(uid))).ToList();
            // Note: one FETCH per batch: the server streams the batch's messages back to back instead of one round
            // trip per message. The batch is committed before the next one is asked for.
            foreach (var batch in wanted.Chunk(CommitBatch))
            {
                await ((ImapFolder)folder).GetStreamsAsync(batch, async (_, _, uid, stream, _) =>
                {
                    await StoreAsync(run, prefix + uid.Id.ToString(CultureInfo.InvariantCulture), stream, cancellationToken);
                    done.Add(uid);
                }, cancellationToken);
                await CommitAsync(run, cancellationToken);
            }
        }

        await CommitAsync(run, cancellationToken);
        if (done.Count == 0)
        {
            return;
        }

        if (account.KeepOnServer)
        {
            await folder.AddFlagsAsync(done, MessageFlags.Seen, silent: true, cancellationToken);
        }
        else
        {
            await folder.AddFlagsAsync(done, MessageFlags.Deleted, silent: true, cancellationToken);
            if (imap.Capabilities.HasFlag(ImapCapabilities.UidPlus))
            {
                await folder.ExpungeAsync(done, cancellationToken);
            }
            else
            {
                // Note: without UIDPLUS only a plain EXPUNGE exists; it also removes messages another client marked
                // \Deleted in this folder, as any POP-style client of such a server does.
                await folder.ExpungeAsync(cancellationToken);
            }
        }

        await imap.DisconnectAsync(true, cancellationToken);
    }

    private async Task FetchPop3Async(Pop3Client pop3, Run run, CancellationToken cancellationToken)
    {
        var account = run.Account;
        if (!pop3.Capabilities.HasFlag(Pop3Capabilities.UIDL))
        {
            run.AddError($"{account.Host} does not support UIDL, so TokenAdmin cannot tell fetched messages from new ones; nothing was fetched.");
            return;
        }

        var uids = await pop3.GetMessageUidsAsync(cancellationToken);
        var sizes = await pop3.GetMessageSizesAsync(cancellationToken);
        var pop3Prefix = $"pop3:{Mailbox(account, null)}:";
        var known = await KnownKeysAsync(account.Id, pop3Prefix, cancellationToken);
        var done = new List<int>();
        var wanted = new List<int>();
        for (var index = 0; index < uids.Count; index++)
        {
            if (known.Contains(pop3Prefix + uids[index]))
            {
                run.Skipped++;
                done.Add(index);
            }
            else if (wanted.Count < account.MaxMessagesPerRun && !TooLarge(run, $"UIDL {uids[index]}", sizes[index]))
            {
                wanted.Add(index);
            }
        }

        foreach (var batch in Pop3Batches(wanted, sizes))
        {
            // Note: RETR pipelined for the batch when the server offers PIPELINING.
            var streams = await pop3.GetStreamsAsync(batch, headersOnly: false, cancellationToken);
            try
            {
                for (var i = 0; i < batch.Length; i++)
                {
                    await StoreAsync(run, pop3Prefix + uids[batch[i]], streams[i], cancellationToken);
                    done.Add(batch[i]);
                }
            }
            finally
            {
                foreach (var stream in streams)
                {
                    await stream.DisposeAsync();
                }
            }

            await CommitAsync(run, cancellationToken);
        }

        await CommitAsync(run, cancellationToken);
        if (!account.KeepOnServer && done.Count > 0)
        {
            // Note: POP3 deletes only at QUIT: a run killed before it leaves every message on the server, and the
            // next run skips the stored ones by UIDL and deletes them then.
            await pop3.DeleteMessagesAsync(done, cancellationToken);
        }

        await pop3.DisconnectAsync(true, cancellationToken);
    }

    /// <summary>
    /// Batches of at most <see cref="CommitBatch"/> messages and about <see cref="Pop3BatchBytes"/>: POP3 hands a
    /// batch's messages over all at once, so fifty messages near the size limit must not all sit in memory together.
    /// </summary>
    private static IEnumerable<int[]> Pop3Batches(List<int> wanted, IList<int> sizes)
    {
        var batch = new List<int>();
        long bytes = 0;
        foreach (var index in wanted)
        {
            if (batch.Count > 0 && (batch.Count == CommitBatch || bytes + sizes[index] > Pop3BatchBytes))
            {
                yield return [.. batch];
                batch.Clear();
                bytes = 0;
            }

            batch.Add(index);
            bytes += sizes[index];
        }

        if (batch.Count > 0)
        {
            yield return [.. batch];
        }
    }

    private async Task<HashSet<string>> KnownKeysAsync(int accountId, string prefix, CancellationToken cancellationToken) =>
        (await db.FetchedMessages.AsNoTracking()
            .Where(m => m.MailAccountId == accountId && m.ServerKey.StartsWith(prefix))
            .Select(m => m.ServerKey)
            .ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);

    private static bool TooLarge(Run run, string what, long size)
    {
        var limit = run.Account.MaxMessageSizeKb * 1024L;
        if (size <= limit)
        {
            return false;
        }

        run.AddError($"Message {what} is {size / 1024} KB, over the limit of {run.Account.MaxMessageSizeKb} KB; it stays on the server.");
        return true;
    }

    private async Task StoreAsync(Run run, string key, Stream stream, CancellationToken cancellationToken)
    {
        var row = new FetchedMessage { MailAccountId = run.Account.Id, ServerKey = key, SpoolPath = "", FetchedAt = time.GetUtcNow().UtcDateTime };
        if (stream.CanSeek)
        {
            // MailKit hands over the message in memory: the index columns come from there, not from reading the file back.
            await DescribeAsync(row, stream, cancellationToken);
            stream.Position = 0;
        }

        SpooledFile spooled;
        try
        {
            spooled = await run.Spool.StoreAsync(key, stream, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Note: not the server's fault: told apart, so the account does not blame the mail server for a full disk.
            throw new MailSpoolException($"The message could not be stored in {spool.Directory}: {ex.Message} Nothing was deleted on the server.", ex);
        }

        row.SpoolPath = spooled.RelativePath;
        row.Size = spooled.Size;
        if (!stream.CanSeek)
        {
            await using var file = spool.Open(row.SpoolPath);
            await DescribeAsync(row, file, cancellationToken);
        }

        // Note: the row is inserted only when its batch commits (CommitAsync): a delta run stores the next page while
        // the last one commits.
        run.Pending.Add(row);
        run.Stored++;
    }

    /// <summary>Fills the index columns from the message's headers; a message MimeKit cannot read is kept raw all the same.</summary>
    private static async Task DescribeAsync(FetchedMessage row, Stream message, CancellationToken cancellationToken)
    {
        try
        {
            var headers = message.CanSeek ? HeaderList.Load(message, cancellationToken) : await HeaderList.LoadAsync(message, cancellationToken);
            row.MessageId = Cut(headers[HeaderId.MessageId] is { } id ? MimeKit.Utils.MimeUtils.EnumerateReferences(id).FirstOrDefault() ?? id.Trim() : null, 1000);
            row.From = Cut(headers[HeaderId.From] is { } from ? DecodeHeader(from) : null, 1000) ?? "";
            row.Subject = Cut(headers[HeaderId.Subject] is { } subject ? DecodeHeader(subject) : null, 1000) ?? "";
            row.Date = headers[HeaderId.Date] is { } date && MimeKit.Utils.DateUtils.TryParse(date, out var parsed) ? parsed.UtcDateTime : null;
        }
        catch (FormatException ex)
        {
            row.ParseError = Cut(ex.Message, 1000);
        }
    }

    /// <summary>
    /// Commits the pending index rows (each after its file is on disk), then runs the handlers on them. With
    /// <paramref name="alsoCommit"/>, that change (e.g. the saved delta link) goes into the same transaction, even when
    /// no row is pending.
    /// </summary>
    private async Task CommitAsync(Run run, CancellationToken cancellationToken, Func<CancellationToken, Task>? alsoCommit = null)
    {
        await CommitBatchAsync(run, run.Pending, alsoCommit, cancellationToken);
        run.Pending.Clear();
    }

    /// <summary>
    /// Commits <paramref name="batch"/> (see above); the caller forgets it once this succeeds. Touches the run only
    /// through <see cref="Run.AddError"/>, so it may go on while the run stores the next batch.
    /// </summary>
    private async Task CommitBatchAsync(Run run, List<FetchedMessage> batch, Func<CancellationToken, Task>? alsoCommit, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            if (alsoCommit is not null)
            {
                await alsoCommit(cancellationToken);
            }

            return;
        }

        // Every message of the batch is on disk (in the run's spool journal) before its row is committed: a committed row
        // always has its whole message.
        try
        {
            await run.Spool.SyncAsync();
        }
        catch (IOException ex)
        {
            throw new MailSpoolException($"{ex.Message} Nothing was deleted on the server.", ex);
        }

        if (alsoCommit is null)
        {
            await FetchedMessageRows.InsertAsync(db, batch, cancellationToken);
        }
        else
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            try
            {
                await FetchedMessageRows.InsertAsync(db, batch, cancellationToken);
                await alsoCommit(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
            catch
            {
                // Note: rolled back, so the rows are not in the index, whatever ids the insert gave them: a later try
                // inserts them afresh.
                foreach (var row in batch)
                {
                    row.Id = 0;
                }

                throw;
            }
        }

        foreach (var row in batch)
        {
            foreach (var handler in handlers)
            {
                try
                {
                    await handler.HandleAsync(new FetchedMail(run.Account, row, Path.Combine(spool.Directory, row.SpoolPath)), cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    LogHandlerFailed(logger, ex, handler.GetType().Name, row.Id);
                    run.AddError($"{handler.GetType().Name} failed on message {row.Id}: {ex.Message}");
                }
            }
        }
    }

    /// <summary>
    /// Which mailbox a server key belongs to: host, login (and IMAP folder). UIDVALIDITY/UID and UIDL are only unique
    /// within one mailbox; without this, an account moved to another folder, host or login would take the new mailbox's
    /// messages for ones already stored and delete them unread.
    /// </summary>
    internal static string Mailbox(MailAccount account, string? folder) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
            $"{account.Host.Trim().ToLowerInvariant()}|{account.Login}|{folder}")))[..16];

    private async Task RecordAsync(MailAccount account, Run run, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var error = run.Errors.Count == 0 ? null : Cut(string.Join(" ", run.Errors), 2000);
        AlertEvent? raised = null;
        // Note: the fetch's outcome and the alert it causes are committed together (the outbox), or neither.
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            // Note: ExecuteUpdate leaves Version alone, so a fetch never turns an admin's open edit into a conflict.
            await db.MailAccounts.Where(a => a.Id == account.Id).ExecuteUpdateAsync(s => s
                .SetProperty(a => a.LastFetchAt, now)
                .SetProperty(a => a.LastFetchCount, run.Stored)
                .SetProperty(a => a.LastError, error)
                .SetProperty(a => a.LastErrorAt, a => error == null ? a.LastErrorAt : now)
                .SetProperty(a => a.ConsecutiveFetchFailures, a => error == null ? 0 : a.ConsecutiveFetchFailures + 1), cancellationToken);
            var row = await db.MailAccounts.Where(a => a.Id == account.Id)
                .Select(a => new { a.ConsecutiveFetchFailures, a.AlertCondition }).SingleOrDefaultAsync(cancellationToken);
            if (row is not null)
            {
                var condition = error is null ? null
                    : row.ConsecutiveFetchFailures >= alerts.Options.FailingAfterFailures ? AlertConditions.Failing
                    : row.AlertCondition;
                if (condition != row.AlertCondition)
                {
                    var previous = row.AlertCondition;
                    var changed = await db.MailAccounts.Where(a => a.Id == account.Id && a.AlertCondition == previous)
                        .ExecuteUpdateAsync(s => s.SetProperty(a => a.AlertCondition, condition), cancellationToken);
                    if (changed == 1)
                    {
                        var subject = new AlertSubject("MailAccount", account.Id, account.DisplayName,
                            $"/MailAccounts/Edit/{account.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
                        raised = condition is null
                            ? alerts.Add(db, subject, AlertTypes.MailFetchRecovered, AlertConditions.Ok, $"Mail account '{account.DisplayName}' fetches again: {run.Stored} message(s) stored.", now)
                            : alerts.Add(db, subject, AlertTypes.MailFetchFailing, AlertConditions.Failing,
                                $"Mail account '{account.DisplayName}' has failed {row.ConsecutiveFetchFailures} fetches in a row; mail is not being collected. Last error: {error}", now);
                        await db.SaveChangesAsync(cancellationToken);
                    }
                }
            }

            await transaction.CommitAsync(cancellationToken);
        }

        if (raised is not null)
        {
            alerts.Wake();
        }

        metrics.Record(error is not null, run.Stored);

        if (error is null)
        {
            LogFetched(logger, account.Id, run.Stored, run.Skipped);
        }
        else
        {
            LogFetchFailed(logger, account.Id, run.Stored, error);
        }
    }

    private static string DecodeHeader(string raw)
    {
        try
        {
            return MimeKit.Utils.Rfc2047.DecodeText(System.Text.Encoding.UTF8.GetBytes(raw));
        }
        catch (ArgumentException)
        {
            return raw;
        }
    }

    /// <summary>What a run says when the index refused a batch (a unique key stored meanwhile, most likely by another process).</summary>
    private static string Refused(DbUpdateException ex) =>
        $"The index of fetched mail refused a batch (is another process fetching this account?): {ex.InnerException?.Message ?? ex.Message}";

    private static string? Cut(string? value, int max)
    {
        if (value is null || value.Length <= max)
        {
            return value;
        }

        // Note: never half a surrogate pair (an emoji at the cut): Npgsql refuses to encode one, which refused the batch.
        var end = char.IsHighSurrogate(value[max - 2]) ? max - 2 : max - 1;
        return value[..end] + "…";
    }

    [LoggerMessage(LogLevel.Error, "Mail account {AccountId}: the fetch failed unexpectedly.")]
    private static partial void LogUnexpected(ILogger logger, int accountId, Exception exception);

    [LoggerMessage(LogLevel.Information, "Mail account {AccountId}: {Stored} message(s) stored, {Skipped} already stored.")]
    private static partial void LogFetched(ILogger logger, int accountId, int stored, int skipped);

    [LoggerMessage(LogLevel.Warning, "Mail account {AccountId}: {Stored} message(s) stored; {Error}")]
    private static partial void LogFetchFailed(ILogger logger, int accountId, int stored, string error);

    [LoggerMessage(LogLevel.Warning, "Mail account {AccountId}: an earlier fetch died before its files were flushed; {Restored} message file(s) were written again from its spool journal.")]
    private static partial void LogRecovered(ILogger logger, int accountId, int restored);

    [LoggerMessage(LogLevel.Error, "Fetched-mail handler {Handler} failed on message {MessageId}.")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string handler, long messageId);

    private sealed class Run(MailAccount account, SpoolWriter spool)
    {
        public MailAccount Account { get; } = account;
        public SpoolWriter Spool { get; } = spool;
        public List<FetchedMessage> Pending { get; } = [];
        public List<string> Errors { get; } = [];

        /// <summary>Adds an error; thread-safe, as a delta run commits one page while it stores the next.</summary>
        public void AddError(string error)
        {
            lock (Errors)
            {
                Errors.Add(error);
            }
        }

        public int Stored { get; set; }
        public int Skipped { get; set; }
    }
}
