using System.Globalization;
using TokenAdmin.IntegrationTests.Infrastructure;
using TokenAdmin.Tests.Mail;

namespace TokenAdmin.IntegrationTests.Mail;

/// <summary>The IMAP crash test (FetchTests) for Microsoft Graph: the loopback Graph server, a real process killed with SIGKILL.</summary>
public sealed class GraphCrashTests : GraphMailTestBase
{
    [Fact]
    public async Task Fetch_ProcessKilledMidway_RerunStoresEachMessageExactlyOnce()
    {
        Mailbox.Deliver("inbox", NewMessages("k", 400));
        var id = await CreateAccountAsync();
        var spool = Directory.CreateDirectory(Path.Combine(App.DataDirectory, "mail", id.ToString(CultureInfo.InvariantCulture))).FullName;

        // The console verb in a process of its own on the same data directory, killed (SIGKILL) after 75 messages are on
        // disk: one batch of 50 is indexed by then, the next one is half-way.
        var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (var watcher = new FileSystemWatcher(spool, "*.eml") { EnableRaisingEvents = true })
        using (var fetch = TokenAdminProcess.StartVerb(App.DataDirectory, "mail", "fetch", id.ToString(CultureInfo.InvariantCulture)))
        {
            var seen = 0;
            void Count()
            {
                if (Interlocked.Increment(ref seen) == 75)
                {
                    fetch.Kill(entireProcessTree: true);
                    killed.TrySetResult();
                }
            }

            // A message file is created under its .eml name, or (one a crash cut short) replaced by a rename (see SpoolWriter).
            watcher.Created += (_, _) => Count();
            watcher.Renamed += (_, e) =>
            {
                if (e.Name?.EndsWith(".eml", StringComparison.Ordinal) == true)
                {
                    Count();
                }
            };
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
                await killed.Task.WaitAsync(timeout.Token);
                await fetch.WaitForExitAsync(timeout.Token);
            }
            finally
            {
                // Never leave the process running, whatever happened above.
                if (!fetch.HasExited)
                {
                    fetch.Kill(entireProcessTree: true);
                }
            }
        }

        var afterKill = await StoredAsync(id);
        Assert.True(afterKill.Count < 400, $"The kill came after the whole fetch ({afterKill.Count} stored).");
        Assert.Equal(400, Mailbox.MessageIds("inbox").Count);

        var result = await FetchAsync(id);

        Assert.Empty(result.Errors);
        var all = await StoredAsync(id);
        Assert.Equal(400, all.Count);
        Assert.Equal(400, all.Select(m => m.MessageId).Distinct().Count());
        Assert.Equal(400, all.Select(m => m.ServerKey).Distinct().Count());
        Assert.Equal(400, Directory.GetFiles(spool, "*.eml").Length);
        MailTestBase.AssertEveryFileIsWhole(App.DataDirectory, all);
        Assert.Empty(Directory.GetFiles(spool, "*.journal*"));
        Assert.Empty(Mailbox.MessageIds("inbox"));
        Assert.Equal(400, Mailbox.MessageIds("deleteditems").Count);
    }
}
