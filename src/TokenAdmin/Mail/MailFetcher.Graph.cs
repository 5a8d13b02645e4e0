using Microsoft.EntityFrameworkCore;

namespace TokenAdmin.Mail;

/// <summary>
/// Fetching over Microsoft Graph, with the same rules as IMAP: each message is downloaded as MIME, stored durably in
/// the spool (its .eml and journal record) and its index row committed (in batches) before anything changes on the
/// server; then it is marked read (mail kept), moved, or deleted. The index key is the message's immutable id, so a run that died half-way neither loses nor
/// stores a message twice. Kept mail is read through a delta query, so a run reads only what changed since the last.
/// </summary>
public sealed partial class MailFetcher
{
    /// <summary>Downloads and server changes in flight at once: Graph serves four requests per mailbox in parallel.</summary>
    private const int GraphParallelism = 4;

    private async Task FetchGraphAsync(Run run, CancellationToken cancellationToken)
    {
        var account = run.Account;
        var target = GraphTarget.For(account);
        var folder = await Graph.ResolveFolderAsync(target, account.ImapFolder, cancellationToken);
        var prefix = $"graph:{Mailbox(account, null)}:";
        var known = await KnownKeysAsync(account.Id, prefix, cancellationToken);
        if (account.KeepOnServer)
        {
            await FetchGraphDeltaAsync(run, target, folder, prefix, known, cancellationToken);
        }
        else
        {
            await FetchGraphListAsync(run, target, folder, prefix, known, cancellationToken);
        }
    }

    /// <summary>Mail leaves the folder: list it oldest first, store the new messages, then move or delete each stored one.</summary>
    private async Task FetchGraphListAsync(Run run, GraphTarget target, GraphFolder folder, string prefix, HashSet<string> known, CancellationToken cancellationToken)
    {
        var account = run.Account;
        string? destination = null;
        if (!string.IsNullOrWhiteSpace(account.MoveToFolder))
        {
            destination = (await Graph.ResolveFolderAsync(target, account.MoveToFolder, cancellationToken)).Id;
        }

        // Note: the whole list is read before anything changes: the pages are $skip offsets, and a message deleted
        // meanwhile would shift the next page past one that was never seen.
        var stored = new List<string>();
        var fresh = new List<GraphMessageRef>();
        string? next = null;
        const int pageSize = 100;
        do
        {
            var page = await Graph.ListAsync(target, folder.Id, pageSize, next, cancellationToken);
            foreach (var message in page.Messages)
            {
                if (known.Contains(prefix + message.Id))
                {
                    // Stored by a run that ended before it could move or delete it.
                    stored.Add(message.Id);
                    run.Skipped++;
                }
                else if (fresh.Count < account.MaxMessagesPerRun && !TooLarge(run, "id " + Short(message.Id), message.Size ?? 0))
                {
                    fresh.Add(message);
                }
            }

            next = page.NextLink;
        }
        while (next is not null && fresh.Count < account.MaxMessagesPerRun);

        foreach (var batch in fresh.Chunk(CommitBatch))
        {
            stored.AddRange(await StoreGraphBatchAsync(run, target, prefix, batch, cancellationToken));
            await CommitAsync(run, cancellationToken);
        }

        await CommitAsync(run, cancellationToken);
        await ForEachAsync(stored, destination is null
            ? id => Graph.DeleteAsync(target, id, cancellationToken)
            : id => Graph.MoveAsync(target, id, destination, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Mail stays in the folder: a delta round from where the last run stopped (its next or delta link). Each page's new
    /// messages are stored, and their index rows committed in one transaction with the link that follows the page; only
    /// then are they marked read. A page commits while the next one downloads (the commits keep their order), and the
    /// marking of one page runs on meanwhile too, all of it through one gate of <see cref="GraphParallelism"/> requests
    /// to the mailbox.
    /// </summary>
    private async Task FetchGraphDeltaAsync(Run run, GraphTarget target, GraphFolder folder, string prefix, HashSet<string> known, CancellationToken cancellationToken)
    {
        var account = run.Account;
        var link = account.GraphSyncLink;
        var restarted = false;
        using var gate = new SemaphoreSlim(GraphParallelism, GraphParallelism);
        var marking = new MarkReadQueue(this, target, gate, cancellationToken);
        // The page whose rows are being committed, and its commit; at most one at a time, so the links go in order.
        List<FetchedMessage>? committing = null;
        var commit = Task.CompletedTask;
        async Task CommittedAsync()
        {
            try
            {
                await commit;
            }
            catch
            {
                // Its rows that are not in the index wait with the next ones: the run's last commit tries them again
                // (their files are stored).
                run.Pending.InsertRange(0, committing!.Where(r => r.Id == 0));
                throw;
            }
            finally
            {
                commit = Task.CompletedTask;
                committing = null;
            }
        }

        async Task CommitAndMarkAsync(List<FetchedMessage> batch, string? saved, List<string> unread)
        {
            await CommitBatchAsync(run, batch, ct => SaveSyncLinkAsync(account.Id, saved, ct), cancellationToken);
            marking.Add(unread);
        }

        try
        {
            while (true)
            {
                marking.ThrowIfFailed();
                var remaining = account.MaxMessagesPerRun - run.Stored;
                GraphPage page;
                try
                {
                    page = await Gated(gate, () => Graph.DeltaAsync(target, folder.Id, Math.Clamp(remaining, 1, CommitBatch), link, cancellationToken), cancellationToken);
                }
                catch (GraphMailException ex) when (ex.Status == 410 && !restarted)
                {
                    // The sync state expired: a new round reads the folder again; stored messages are known by their ids.
                    restarted = true;
                    link = null;
                    continue;
                }

                if (commit.IsFaulted)
                {
                    // The last page's commit failed meanwhile: said now, not after this page's downloads.
                    await CommittedAsync();
                }

                var wanted = new List<GraphMessageRef>();
                foreach (var message in page.Messages.Where(m => !m.Removed))
                {
                    if (known.Contains(prefix + message.Id))
                    {
                        run.Skipped++;
                    }
                    else if (!TooLarge(run, "id " + Short(message.Id), message.Size ?? 0))
                    {
                        wanted.Add(message);
                    }
                }

                var stored = await StoreGraphBatchAsync(run, target, prefix, [.. wanted], cancellationToken, gate);
                foreach (var id in stored)
                {
                    // Note: known from now on, though its row commits later: a later page of the round that lists it
                    // again (it changed meanwhile) does not store it twice.
                    known.Add(prefix + id);
                }

                // Only with the page's messages on disk and indexed may the next run start behind this page: the rows and
                // the link are one commit, after the previous page's.
                link = page.NextLink ?? page.DeltaLink;
                await CommittedAsync();
                var storedIds = stored.ToHashSet(StringComparer.Ordinal);
                committing = [.. run.Pending];
                run.Pending.Clear();
                commit = CommitAndMarkAsync(committing, link, [.. wanted.Where(m => !m.IsRead && storedIds.Contains(m.Id)).Select(m => m.Id)]);
                if (page.NextLink is null || run.Stored >= account.MaxMessagesPerRun || link is null)
                {
                    break;
                }
            }

            await CommittedAsync();
            await marking.CompleteAsync();
        }
        finally
        {
            // A failure above leaves a commit and markings running: they end before the run does.
            try
            {
                if (committing is not null)
                {
                    try
                    {
                        await CommittedAsync();
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // Said beside the failure that ended the run (that one is said by FetchAsync).
                        run.AddError(ex is DbUpdateException refused ? Refused(refused) : ex.Message);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
            }
            finally
            {
                await marking.DrainAsync();
            }
        }
    }

    /// <summary>
    /// The "mark read" requests of a delta run, queued as pages are committed and sent by two workers through the run's
    /// gate, so the downloads of the next page keep the other places (and are never queued behind a whole page of
    /// markings). The first failure stops the rest (the next run's delta round does not see those messages again, as
    /// before) and ends the run.
    /// </summary>
    private sealed class MarkReadQueue
    {
        private const int Workers = GraphParallelism / 2;
        private readonly System.Threading.Channels.Channel<string> _ids = System.Threading.Channels.Channel.CreateUnbounded<string>(
            new System.Threading.Channels.UnboundedChannelOptions { SingleWriter = true });

        private readonly MailFetcher _fetcher;
        private readonly GraphTarget _target;
        private readonly SemaphoreSlim _gate;
        private readonly CancellationToken _cancellationToken;
        private readonly Task[] _workers;
        private System.Runtime.ExceptionServices.ExceptionDispatchInfo? _failure;

        public MarkReadQueue(MailFetcher fetcher, GraphTarget target, SemaphoreSlim gate, CancellationToken cancellationToken)
        {
            _fetcher = fetcher;
            _target = target;
            _gate = gate;
            _cancellationToken = cancellationToken;
            _workers = [.. Enumerable.Range(0, Workers).Select(_ => Task.Run(WorkAsync, CancellationToken.None))];
        }

        public void Add(IEnumerable<string> ids)
        {
            foreach (var id in ids)
            {
                _ids.Writer.TryWrite(id);
            }
        }

        public void ThrowIfFailed() => Volatile.Read(ref _failure)?.Throw();

        /// <summary>Waits until every queued marking is sent; throws the first failure.</summary>
        public async Task CompleteAsync()
        {
            _ids.Writer.TryComplete();
            await Task.WhenAll(_workers);
            ThrowIfFailed();
        }

        /// <summary>Ends the workers without sending what is still queued (the run failed).</summary>
        public async Task DrainAsync()
        {
            Interlocked.CompareExchange(ref _failure, System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(new OperationCanceledException()), null);
            _ids.Writer.TryComplete();
            await Task.WhenAll(_workers);
        }

        private async Task WorkAsync()
        {
            // Note: ReadAllAsync without the token: the channel is always completed, so the workers always end.
            await foreach (var id in _ids.Reader.ReadAllAsync(CancellationToken.None))
            {
                if (Volatile.Read(ref _failure) is not null || _cancellationToken.IsCancellationRequested)
                {
                    continue;
                }

                try
                {
                    await _gate.WaitAsync(_cancellationToken);
                    try
                    {
                        await _fetcher.Graph.MarkReadAsync(_target, id, _cancellationToken);
                    }
                    finally
                    {
                        _gate.Release();
                    }
                }
                catch (Exception ex)
                {
                    Interlocked.CompareExchange(ref _failure, System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex), null);
                }
            }
        }
    }

    /// <summary>One Graph request through the run's gate (none: straight through).</summary>
    private static async Task<T> Gated<T>(SemaphoreSlim? gate, Func<Task<T>> request, CancellationToken cancellationToken)
    {
        if (gate is null)
        {
            return await request();
        }

        await gate.WaitAsync(cancellationToken);
        try
        {
            return await request();
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Downloads a batch (a few at a time, kept in order; through the run's gate if it has one) and stores each message
    /// in the spool. Returns the ids stored; a message over the size limit or gone meanwhile is left out and said.
    /// </summary>
    private async Task<List<string>> StoreGraphBatchAsync(Run run, GraphTarget target, string prefix, GraphMessageRef[] batch, CancellationToken cancellationToken, SemaphoreSlim? gate = null)
    {
        var stored = new List<string>();
        var limit = run.Account.MaxMessageSizeKb * 1024L;
        var inFlight = new Queue<(GraphMessageRef Message, Task<byte[]> Download)>();
        async Task StoreNextAsync()
        {
            var (message, download) = inFlight.Dequeue();
            byte[] mime;
            try
            {
                mime = await download;
            }
            catch (GraphMessageTooLargeException)
            {
                run.AddError($"Message id {Short(message.Id)} is over the limit of {run.Account.MaxMessageSizeKb} KB; it stays on the server.");
                return;
            }
            catch (GraphMailException ex) when (ex.Code == "ErrorItemNotFound")
            {
                // Moved or deleted by someone else since the list was read: nothing to store.
                return;
            }

            using var stream = new MemoryStream(mime, writable: false);
            await StoreAsync(run, prefix + message.Id, stream, cancellationToken);
            stored.Add(message.Id);
        }

        try
        {
            foreach (var message in batch)
            {
                if (inFlight.Count == GraphParallelism)
                {
                    await StoreNextAsync();
                }

                inFlight.Enqueue((message, Gated(gate, () => Graph.DownloadAsync(target, message.Id, limit, cancellationToken), cancellationToken)));
            }

            while (inFlight.Count > 0)
            {
                await StoreNextAsync();
            }
        }
        finally
        {
            // A failure above leaves downloads running: they are awaited (and their errors dropped) before the run goes on.
            foreach (var (_, download) in inFlight)
            {
                try
                {
                    await download;
                }
                catch (Exception ex) when (ex is not OperationCanceledException || cancellationToken.IsCancellationRequested)
                {
                }
            }
        }

        return stored;
    }

    /// <summary>Runs one server change per id, a few at a time; the first failure ends the run (the next run repeats the rest).</summary>
    private static Task ForEachAsync(List<string> ids, Func<string, Task> change, CancellationToken cancellationToken) =>
        ids.Count == 0
            ? Task.CompletedTask
            : Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = GraphParallelism, CancellationToken = cancellationToken },
                async (id, _) => await change(id));

    private async Task SaveSyncLinkAsync(int accountId, string? link, CancellationToken cancellationToken) =>
        // Note: ExecuteUpdate leaves Version alone, so a fetch never turns an admin's open edit into a conflict.
        await Db.MailAccounts.Where(a => a.Id == accountId).ExecuteUpdateAsync(s => s.SetProperty(a => a.GraphSyncLink, link), cancellationToken);

    private static string Short(string id) => id.Length <= 24 ? id : id[..10] + "…" + id[^10..];
}
