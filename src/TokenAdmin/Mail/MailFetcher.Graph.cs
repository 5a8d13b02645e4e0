using Microsoft.EntityFrameworkCore;

namespace TokenAdmin.Mail;

/// <summary>
/// Fetching over Microsoft Graph, with the same rules as IMAP: each message is downloaded as MIME, its .eml flushed
/// and its index row committed (in batches) before anything changes on the server; then it is marked read (mail kept),
/// moved, or deleted. The index key is the message's immutable id, so a run that died half-way neither loses nor
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
    /// Mail stays in the folder: a delta round from where the last run stopped (its next or delta link), each page
    /// stored and committed before the link that follows it is saved; new messages are then marked read.
    /// </summary>
    private async Task FetchGraphDeltaAsync(Run run, GraphTarget target, GraphFolder folder, string prefix, HashSet<string> known, CancellationToken cancellationToken)
    {
        var account = run.Account;
        var link = account.GraphSyncLink;
        var restarted = false;
        while (true)
        {
            var remaining = account.MaxMessagesPerRun - run.Stored;
            GraphPage page;
            try
            {
                page = await Graph.DeltaAsync(target, folder.Id, Math.Clamp(remaining, 1, CommitBatch), link, cancellationToken);
            }
            catch (GraphMailException ex) when (ex.Status == 410 && !restarted)
            {
                // The sync state expired: a new round reads the folder again; stored messages are known by their ids.
                restarted = true;
                link = null;
                continue;
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

            var stored = await StoreGraphBatchAsync(run, target, prefix, [.. wanted], cancellationToken);
            await CommitAsync(run, cancellationToken);
            foreach (var id in stored)
            {
                known.Add(prefix + id);
            }

            // Only now, with the page's messages on disk and indexed, may the next run start behind this page.
            link = page.NextLink ?? page.DeltaLink;
            await SaveSyncLinkAsync(account.Id, link, cancellationToken);
            var unread = wanted.Where(m => !m.IsRead && stored.Contains(m.Id)).Select(m => m.Id).ToList();
            await ForEachAsync(unread, id => Graph.MarkReadAsync(target, id, cancellationToken), cancellationToken);
            if (page.NextLink is null || run.Stored >= account.MaxMessagesPerRun || link is null)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Downloads a batch (a few at a time, kept in order) and stores each message in the spool. Returns the ids stored;
    /// a message over the size limit or gone meanwhile is left out and said.
    /// </summary>
    private async Task<List<string>> StoreGraphBatchAsync(Run run, GraphTarget target, string prefix, GraphMessageRef[] batch, CancellationToken cancellationToken)
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
                run.Errors.Add($"Message id {Short(message.Id)} is over the limit of {run.Account.MaxMessageSizeKb} KB; it stays on the server.");
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

                inFlight.Enqueue((message, Graph.DownloadAsync(target, message.Id, limit, cancellationToken)));
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
