using System.Text;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Mail;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Mail;

public sealed class GraphFetchTests : GraphMailTestBase
{
    [Fact]
    public async Task Fetch_StoresEachMessageOldestFirstThroughPages_ThenDeletesIt()
    {
        Mailbox.Deliver("inbox", NewMessages("page", 230));
        var id = await CreateAccountAsync();

        var result = await FetchAsync(id);

        Assert.Empty(result.Errors);
        Assert.Equal(230, result.Stored);
        var stored = await StoredAsync(id);
        // Oldest first: the index holds them in the order they arrived.
        Assert.Equal(Enumerable.Range(1, 230).Select(i => $"page{i:0000}@test"), stored.Select(m => m.MessageId));
        Assert.All(stored, m => Assert.StartsWith("graph:", m.ServerKey, StringComparison.Ordinal));
        Assert.Equal(230, Directory.GetFiles(Path.Combine(App.DataDirectory, "mail", id.ToString(System.Globalization.CultureInfo.InvariantCulture)), "*.eml").Length);
        Assert.Empty(Mailbox.MessageIds("inbox"));
        Assert.Equal(230, Mailbox.MessageIds("deleteditems").Count);
        // Three pages of 100 through @odata.nextLink, every request asking for immutable ids.
        Assert.Equal(2, Graph.Requests.Count(r => r.Contains("/messages?", StringComparison.Ordinal) && r.Contains("$skip=", StringComparison.Ordinal)));
        Assert.All(Graph.PreferHeaders, p => Assert.Contains("IdType=\"ImmutableId\"", p, StringComparison.Ordinal));
        Assert.Equal(Graph.Requests.Count, Graph.PreferHeaders.Count);
    }

    [Fact]
    public async Task Fetch_ResolvesFolderPaths_AndMovesStoredMailToTheChosenFolder()
    {
        Mailbox.AddFolder("Inbox", "Tickets");
        Mailbox.AddFolder("Archive", "Done");
        Mailbox.Deliver("Inbox/Tickets", NewMessages("t", 12));
        Mailbox.Deliver("inbox", NewMessages("other", 3));
        var id = await CreateAccountAsync(a => { a.ImapFolder = "Inbox/Tickets"; a.MoveToFolder = "archive/Done"; });

        var result = await FetchAsync(id);

        Assert.Empty(result.Errors);
        Assert.Equal(12, (await StoredAsync(id)).Count);
        Assert.Empty(Mailbox.MessageIds("Inbox/Tickets"));
        Assert.Equal(12, Mailbox.MessageIds("Archive/Done").Count);
        Assert.Equal(3, Mailbox.MessageIds("inbox").Count);
    }

    [Fact]
    public async Task Fetch_KeepOnServer_ReadsOnlyWhatChangedThroughDelta_AndMarksNewMailRead()
    {
        Mailbox.Deliver("inbox", NewMessages("d", 30));
        var id = await CreateAccountAsync(a => a.KeepOnServer = true);

        var first = await FetchAsync(id);
        Assert.Empty(first.Errors);
        Assert.Equal(30, first.Stored);
        Assert.Equal(30, Mailbox.ReadMessageIds("inbox").Count);
        Assert.Contains("$deltatoken=", (await AccountAsync(id)).GraphSyncLink, StringComparison.Ordinal);

        Mailbox.Deliver("inbox", NewMessages("late", 4));
        var before = Graph.Requests.Count;
        var second = await FetchAsync(id);

        Assert.Empty(second.Errors);
        Assert.Equal(4, second.Stored);
        var requests = Graph.Requests.Skip(before).ToList();
        Assert.Contains(requests, r => r.Contains("/messages/delta?$deltatoken=", StringComparison.Ordinal));
        // Only the four new messages were downloaded; the thirty already stored were not asked for again.
        Assert.Equal(4, requests.Count(r => r.EndsWith("/$value", StringComparison.Ordinal)));
        Assert.Equal(34, (await StoredAsync(id)).Count);
        Assert.Equal(34, Mailbox.MessageIds("inbox").Count);
    }

    [Fact]
    public async Task Fetch_KeepOnServer_ABreakOnAPageWhileTheOneBeforeCommits_KeepsWhatBothPagesStored_AndTheNextRunGoesOnWithoutDuplicates()
    {
        Mailbox.Deliver("inbox", NewMessages("pg", 120));
        var id = await CreateAccountAsync(a => a.KeepOnServer = true);
        // The tenth download of the second page (pages of 50) breaks off, while the first page commits or has committed.
        var messageIds = Mailbox.MessageIds("inbox");
        var tenthOfSecondPage = messageIds[59];
        Graph.CutShortNext(Mailbox.ImmutableIdOf(tenthOfSecondPage) + "/$value");

        var first = await FetchAsync(id);

        var error = Assert.Single(first.Errors);
        Assert.Contains("broke off its answer to GET", error, StringComparison.Ordinal);
        var afterFirst = await StoredAsync(id);
        // The first page with its link, and what the second page stored before the break (committed at the run's end).
        Assert.Equal(59, afterFirst.Count);
        Assert.DoesNotContain(afterFirst, m => m.MessageId == tenthOfSecondPage.Trim('<', '>'));
        Assert.Contains(afterFirst, m => m.MessageId == messageIds[58].Trim('<', '>'));
        Assert.Contains("$skiptoken=", (await AccountAsync(id)).GraphSyncLink, StringComparison.Ordinal);

        var all = await NextRunStoresTheRestOnceAsync(id, rest: 61, total: 120);

        Assert.Equal(120, all.Select(m => m.MessageId).Distinct().Count());
        Assert.Equal(120, Mailbox.MessageIds("inbox").Count);
    }

    [Fact]
    public async Task Fetch_KeepOnServer_AMessageIndexedMeanwhileElsewhere_RefusesItsPage_WhichStaysUnread_AndTheNextRunStoresTheRestOnce()
    {
        Mailbox.Deliver("inbox", NewMessages("ix", 120));
        var id = await CreateAccountAsync(a => a.KeepOnServer = true);
        var account = await AccountAsync(id);
        var messageIds = Mailbox.MessageIds("inbox");
        var taken = $"graph:{MailFetcher.Mailbox(account, null)}:{Mailbox.ImmutableIdOf(messageIds[54])}";
        // While the second page (pages of 50) downloads, another process indexes one of its messages.
        Graph.BeforeNext(Mailbox.ImmutableIdOf(messageIds[59]) + "/$value", () => App.WithDbAsync(async db =>
        {
            db.FetchedMessages.Add(new FetchedMessage { MailAccountId = id, ServerKey = taken, SpoolPath = "elsewhere.eml", FetchedAt = DateTime.UtcNow });
            return await db.SaveChangesAsync();
        }));

        var first = await FetchAsync(id);

        var error = Assert.Single(first.Errors);
        Assert.Contains("refused a batch", error, StringComparison.Ordinal);
        // The first page is indexed; nothing of the refused second page (or after it) is indexed or marked read. Note: the
        // first page's markings may still be queued when the run stops on the refusal; those are dropped with the run.
        var afterFirst = await StoredAsync(id);
        Assert.Equal(51, afterFirst.Count);
        Assert.Equal(messageIds.Take(50).Select(m => m.Trim('<', '>')).Order(), afterFirst.Where(m => m.ServerKey != taken).Select(m => m.MessageId!).Order());
        var readAfterFirst = Mailbox.ReadMessageIds("inbox");
        Assert.All(readAfterFirst, m => Assert.Contains(m, messageIds.Take(50)));

        await NextRunStoresTheRestOnceAsync(id, rest: 69, total: 120);

        // The 69 stored now are marked read; the one indexed elsewhere is left to the process that indexed it.
        Assert.Equal(readAfterFirst.Count + 69, Mailbox.ReadMessageIds("inbox").Count);
    }

    /// <summary>The next run stores <paramref name="rest"/> without an error, and the index then holds each message once.</summary>
    private async Task<List<FetchedMessage>> NextRunStoresTheRestOnceAsync(int id, int rest, int total)
    {
        var next = await FetchAsync(id);

        Assert.Empty(next.Errors);
        Assert.Equal(rest, next.Stored);
        var all = await StoredAsync(id);
        Assert.Equal(total, all.Count);
        Assert.Equal(total, all.Select(m => m.ServerKey).Distinct().Count());
        return all;
    }

    [Fact]
    public async Task Fetch_ASubjectCutAtItsLimit_NeverKeepsHalfAnEmoji()
    {
        // 998 characters, then an emoji (two UTF-16 units) across the 1,000-character limit of the index column.
        var subject = new string('s', 998) + "\U0001F600 and more";
        Mailbox.Deliver("inbox", [Encoding.UTF8.GetBytes(
            $"From: a@example.test\r\nTo: {Address}\r\nSubject: {subject}\r\nMessage-ID: <emoji@test>\r\n" +
            "Date: Wed, 02 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n")]);
        var id = await CreateAccountAsync();

        var result = await FetchAsync(id);

        Assert.Empty(result.Errors);
        var stored = Assert.Single(await StoredAsync(id));
        Assert.Equal(new string('s', 998) + "…", stored.Subject);
    }

    [Fact]
    public async Task Fetch_AfterARunThatDiedBeforeItsFilesWereFlushed_FirstWritesThemAgainFromItsJournal()
    {
        var id = await CreateAccountAsync(a => a.KeepOnServer = true);
        var spool = App.Services.GetRequiredService<MailSpool>();
        var message = Encoding.ASCII.GetBytes("Subject: before the crash\r\n\r\nbody\r\n");
        string path;
        using (var writer = spool.Begin(id))
        {
            using var stream = new MemoryStream(message);
            path = Path.Combine(spool.Directory, (await writer.StoreAsync("graph:earlier:1", stream, default)).RelativePath);
            await writer.SyncAsync();
            // The run's rows committed, then the power went: its file never reached the disk, its journal did.
        }

        File.Delete(path);
        var result = await FetchAsync(id);

        Assert.Empty(result.Errors);
        Assert.Equal(message, await File.ReadAllBytesAsync(path));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.journal"));
    }

    [Fact]
    public async Task Fetch_KeepOnServer_LimitPerRun_GoesOnWhereTheLastRunStopped()
    {
        Mailbox.Deliver("inbox", NewMessages("lim", 25));
        var id = await CreateAccountAsync(a => { a.KeepOnServer = true; a.MaxMessagesPerRun = 10; });

        Assert.Equal(10, (await FetchAsync(id)).Stored);
        Assert.Contains("$skiptoken=", (await AccountAsync(id)).GraphSyncLink, StringComparison.Ordinal);
        Assert.Equal(10, (await FetchAsync(id)).Stored);
        Assert.Equal(5, (await FetchAsync(id)).Stored);

        var stored = await StoredAsync(id);
        Assert.Equal(25, stored.Select(m => m.MessageId).Distinct().Count());
    }

    [Fact]
    public async Task Fetch_FailingAfterTheStore_IsRepairedByTheNextRun_WithoutDuplicates()
    {
        Mailbox.Deliver("inbox", NewMessages("r", 20));
        var id = await CreateAccountAsync();
        // The server change after the store fails (the run ends there): everything is stored, nothing deleted yet.
        Graph.FailNext(1, 500, method: "DELETE");

        var first = await FetchAsync(id);

        Assert.NotEmpty(first.Errors);
        Assert.Equal(20, (await StoredAsync(id)).Count);
        Assert.NotEmpty(Mailbox.MessageIds("inbox"));

        var second = await FetchAsync(id);

        Assert.Empty(second.Errors);
        Assert.Equal(0, second.Stored);
        Assert.Equal(20, (await StoredAsync(id)).Count);
        Assert.Empty(Mailbox.MessageIds("inbox"));
    }

    [Fact]
    public async Task Fetch_AnswerCutShort_EndsTheRunWithAMessageThatSaysSo_StoresNothingTorn_AndTheNextRunGetsItAll()
    {
        Mailbox.Deliver("inbox", NewMessages("c", 5));
        var id = await CreateAccountAsync();
        Graph.CutShortNext("/$value");

        var first = await FetchAsync(id);

        var error = Assert.Single(first.Errors);
        Assert.Contains("broke off its answer to GET", error, StringComparison.Ordinal);
        Assert.Equal(5, Mailbox.MessageIds("inbox").Count);
        Assert.All(await StoredAsync(id), m => Assert.NotEqual("cut@example.test", m.From));

        var second = await FetchAsync(id);

        Assert.Empty(second.Errors);
        Assert.Equal(5, (await StoredAsync(id)).Count);
        Assert.Empty(Mailbox.MessageIds("inbox"));
    }

    [Fact]
    public async Task Fetch_WaitsAsRetryAfterSays_On429And503()
    {
        Mailbox.Deliver("inbox", NewMessages("t", 3));
        var id = await CreateAccountAsync();
        Graph.FailNext(1, 429, retryAfter: "1", pathContains: "/messages");
        Graph.FailNext(1, 503, retryAfter: "1", pathContains: "/$value");
        var started = DateTime.UtcNow;

        var result = await FetchAsync(id);

        Assert.Empty(result.Errors);
        Assert.Equal(3, result.Stored);
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromSeconds(1.9), "Both Retry-After waits are kept.");
        Assert.Empty(Mailbox.MessageIds("inbox"));
    }

    [Fact]
    public async Task Fetch_StopsAndSaysSo_WhenRetryAfterIsLongerThanTheBound()
    {
        Mailbox.Deliver("inbox", NewMessages("t", 3));
        var id = await CreateAccountAsync();
        Graph.FailNext(1, 429, retryAfter: "3600", pathContains: "/messages");

        var result = await FetchAsync(id);

        Assert.Contains(result.Errors, e => e.Contains("asked to wait 3600 seconds", StringComparison.Ordinal));
        Assert.Equal(3, Mailbox.MessageIds("inbox").Count);
        Assert.Empty(await StoredAsync(id));
    }

    [Fact]
    public async Task Fetch_RefreshesOnceAndRetries_WhenGraphRefusesTheCachedToken()
    {
        Mailbox.Deliver("inbox", NewMessages("t", 2));
        var id = await CreateAccountAsync();
        var cached = await App.Services.GetRequiredService<ITokenProvider>().GetTokenAsync(TokenSource.Config(ConfigId), default);
        Graph.RevokeToken(cached.Value);
        var tokenRequests = Idp.TokenRequestCount;

        var result = await FetchAsync(id);

        Assert.Empty(result.Errors);
        Assert.Equal(2, result.Stored);
        Assert.Equal(tokenRequests + 1, Idp.TokenRequestCount);
    }

    [Fact]
    public async Task Fetch_SaysSo_WhenGraphRefusesTheRefreshedTokenToo()
    {
        Mailbox.Deliver("inbox", NewMessages("t", 2));
        var id = await CreateAccountAsync();
        Graph.FailNext(2, 401, pathContains: "/mailFolders");

        var result = await FetchAsync(id);

        var error = Assert.Single(result.Errors);
        Assert.Contains("refused the token even after a forced refresh (401 InvalidAuthenticationToken", error, StringComparison.Ordinal);
        Assert.Contains("Token audience: https://graph.microsoft.com", error, StringComparison.Ordinal);
        Assert.Equal(error, (await AccountAsync(id)).LastError);
        Assert.Equal(2, Mailbox.MessageIds("inbox").Count);
    }

    [Fact]
    public async Task Fetch_LeavesAMessageOverTheSizeLimitOnTheServer_AndSaysSo()
    {
        Mailbox.Deliver("inbox", [NewMessage("small", "small@test"), NewMessage("big", "big@test", bodyBytes: 3000), NewMessage("small 2", "small2@test")]);
        var id = await CreateAccountAsync(a => a.MaxMessageSizeKb = 2);

        var result = await FetchAsync(id);

        Assert.Equal(2, result.Stored);
        Assert.Contains(result.Errors, e => e.Contains("over the limit of 2 KB; it stays on the server", StringComparison.Ordinal));
        Assert.Equal(["<big@test>"], Mailbox.MessageIds("inbox"));
        Assert.DoesNotContain(Graph.Requests, r => r.Contains(Mailbox.ImmutableIdOf("<big@test>"), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Fetch_EndsAnExchangeAtItsDeadline_AndKeepsWhatWasStored()
    {
        Mailbox.Deliver("inbox", NewMessages("s", 3));
        var id = await CreateAccountAsync();
        Graph.StallNext("/messages/");

        var result = await FetchAsync(id);

        Assert.Contains(result.Errors, e => e.Contains("did not answer GET", StringComparison.Ordinal) && e.Contains("within 10 seconds", StringComparison.Ordinal));
        Assert.Equal(3, Mailbox.MessageIds("inbox").Count);
    }

    [Fact]
    public async Task Fetch_ResolvesTheFolderPathToItsId_AndAddressesTheFolderOnlyByThatId()
    {
        var tickets = Mailbox.AddFolder("Inbox", "Tickets");
        var done = Mailbox.AddFolder("Archive", "Done");
        Mailbox.Deliver("Inbox/Tickets", NewMessages("t", 2));
        var id = await CreateAccountAsync(a => { a.ImapFolder = "Inbox/Tickets"; a.MoveToFolder = "Archive/Done"; });

        var result = await FetchAsync(id);

        Assert.Empty(result.Errors);
        Assert.Equal(2, result.Stored);
        // The path is looked up once, part by part (well-known "inbox", then its child by display name) ...
        Assert.Contains(Graph.Requests, r => r.StartsWith("GET /v1.0/users/support@contoso.test/mailFolders/inbox?", StringComparison.Ordinal));
        Assert.Contains(Graph.Requests, r => r.Contains("/childFolders?$filter=" + Uri.EscapeDataString("displayName eq 'Tickets'"), StringComparison.Ordinal));
        // ... and the messages are listed, and moved, by the folders' ids, never by their names.
        Assert.Contains(Graph.Requests, r => r.StartsWith($"GET /v1.0/users/support@contoso.test/mailFolders/{tickets}/messages?", StringComparison.Ordinal));
        Assert.DoesNotContain(Graph.Requests, r => r.Contains("Tickets/messages", StringComparison.Ordinal) || r.Contains("Inbox/Tickets", StringComparison.Ordinal));
        Assert.Equal(2, Graph.Requests.Count(r => r.StartsWith("POST ", StringComparison.Ordinal) && r.EndsWith("/move", StringComparison.Ordinal)));
        Assert.Equal(2, Mailbox.MessageIds("Archive/Done").Count);
        Assert.NotEqual(tickets, done);
    }

    [Fact]
    public async Task Fetch_KeepOnServer_LeavesAMessageOverTheSizeLimitUnreadOnTheServer_AndSaysSo()
    {
        // Delta pages carry no size: the limit is kept while downloading (Content-Length, then the bytes read).
        Mailbox.Deliver("inbox", [NewMessage("small", "small@test"), NewMessage("big", "big@test", bodyBytes: 3000), NewMessage("small 2", "small2@test")]);
        var id = await CreateAccountAsync(a => { a.KeepOnServer = true; a.MaxMessageSizeKb = 2; });

        var result = await FetchAsync(id);

        Assert.Equal(2, result.Stored);
        var error = Assert.Single(result.Errors);
        Assert.Contains("is over the limit of 2 KB; it stays on the server.", error, StringComparison.Ordinal);
        Assert.Equal(["<small@test>", "<small2@test>"], (await StoredAsync(id)).Select(m => "<" + m.MessageId + ">"));
        Assert.DoesNotContain("<big@test>", Mailbox.ReadMessageIds("inbox"));
        Assert.Equal(3, Mailbox.MessageIds("inbox").Count);
    }

    [Fact]
    public async Task EveryRequest_AsksForImmutableIds_InEveryKindOfFetch()
    {
        Mailbox.AddFolder("Archive", "Done");
        Mailbox.Deliver("inbox", NewMessages("i", 3));
        var kept = await CreateAccountAsync(a => a.KeepOnServer = true);
        var moved = await CreateAccountAsync(a => a.MoveToFolder = "Archive/Done");
        Mailbox.Deliver("inbox", NewMessages("j", 2));

        Assert.Empty((await FetchAsync(kept)).Errors);
        Assert.Empty((await FetchAsync(moved)).Errors);
        var deleting = await CreateAccountAsync(a => a.ImapFolder = "Archive/Done");
        Assert.Empty((await FetchAsync(deleting)).Errors);

        var requests = Graph.Requests.ToList();
        Assert.Contains(requests, r => r.Contains("/messages/delta", StringComparison.Ordinal));
        Assert.Contains(requests, r => r.StartsWith("PATCH ", StringComparison.Ordinal));
        Assert.Contains(requests, r => r.EndsWith("/move", StringComparison.Ordinal));
        Assert.Contains(requests, r => r.StartsWith("DELETE ", StringComparison.Ordinal));
        Assert.Contains(requests, r => r.EndsWith("/$value", StringComparison.Ordinal));
        // One Prefer header per request, each asking for immutable ids (the delta's page size rides in the same header).
        Assert.Equal(requests.Count, Graph.PreferHeaders.Count);
        Assert.All(Graph.PreferHeaders, p => Assert.Contains("IdType=\"ImmutableId\"", p, StringComparison.Ordinal));
        Assert.Contains(Graph.PreferHeaders, p => p.Contains("odata.maxpagesize=", StringComparison.Ordinal));
        // The index keys are the immutable ids, which a move does not change.
        Assert.All(await StoredAsync(moved), m => Assert.EndsWith(Mailbox.ImmutableIdOf("<" + m.MessageId + ">"), m.ServerKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Fetch_WaitsUntilTheDateRetryAfterGives()
    {
        Mailbox.Deliver("inbox", NewMessages("t", 2));
        var id = await CreateAccountAsync(a => a.KeepOnServer = true);
        // Retry-After as an HTTP date (RFC 9110): whole seconds, so at least one second from now.
        var until = DateTimeOffset.UtcNow.AddSeconds(3);
        Graph.FailNext(1, 503, retryAfter: until.ToString("r", System.Globalization.CultureInfo.InvariantCulture), pathContains: "/delta");

        var result = await FetchAsync(id);

        Assert.Empty(result.Errors);
        Assert.Equal(2, result.Stored);
        Assert.True(DateTimeOffset.UtcNow >= until.AddSeconds(-1), "The fetch waited until the date Retry-After named (to the second).");
        Assert.Equal(2, Graph.Requests.Count(r => r.Contains("/messages/delta", StringComparison.Ordinal)));
    }
}
