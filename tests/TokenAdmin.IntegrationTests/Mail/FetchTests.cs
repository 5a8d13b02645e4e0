using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.IntegrationTests.Infrastructure;
using TokenAdmin.Mail;
using TokenAdmin.Settings;
using TokenAdmin.TestIdentityProvider;

namespace TokenAdmin.IntegrationTests.Mail;

/// <summary>The fetcher against a real Dovecot that validates the test identity provider's tokens.</summary>
public sealed class FetchTests : MailTestBase
{
    [Fact]
    public async Task Imap_XOAuth2_StoresEachMessageThenDeletesItOnTheServer()
    {
        await Dovecot.SeedAsync(User, [DovecotServer.NewMessage("first", messageId: "one@test"), DovecotServer.NewMessage("second", messageId: "two@test")]);
        var id = await CreateAccountAsync(MailAccountType.Imap, a => a.SaslMechanism = MailSaslMechanism.XOAuth2);

        var result = await FetchAsync(id);

        Assert.Empty(result.Errors);
        var stored = await StoredAsync(id);
        Assert.Equal(["first", "second"], stored.Select(m => m.Subject));
        Assert.Equal(["one@test", "two@test"], stored.Select(m => m.MessageId));
        Assert.All(stored, m => Assert.Matches("^imap:[0-9a-f]{16}:[0-9]+:[0-9]+$", m.ServerKey));
        var raw = await File.ReadAllTextAsync(Path.Combine(App.DataDirectory, "mail", stored[0].SpoolPath));
        Assert.Contains("Subject: first", raw, StringComparison.Ordinal);
        Assert.Empty(await Dovecot.MessageIdsAsync(User));
        var account = await AccountAsync(id);
        Assert.Equal(2, account.LastFetchCount);
        Assert.Null(account.LastError);
        Assert.Contains("method=XOAUTH2", Dovecot.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Imap_OAuthBearerChosenAutomatically_KeepOnServer_StoresOnlyNewMessages()
    {
        await Dovecot.SeedAsync(User, [DovecotServer.NewMessage("kept")]);
        var id = await CreateAccountAsync(MailAccountType.Imap, a => a.KeepOnServer = true);

        var first = await FetchAsync(id);
        await Dovecot.SeedAsync(User, [DovecotServer.NewMessage("later")]);
        var second = await FetchAsync(id);

        Assert.Equal((1, 0), (first.Stored, first.Skipped));
        Assert.Equal((1, 1), (second.Stored, second.Skipped));
        Assert.Equal(["kept", "later"], (await StoredAsync(id)).Select(m => m.Subject));
        Assert.Equal(2, (await Dovecot.MessageIdsAsync(User)).Count);
        Assert.Contains("method=OAUTHBEARER", Dovecot.Log, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(MailSaslMechanism.XOAuth2, "XOAUTH2")]
    [InlineData(MailSaslMechanism.OAuthBearer, "OAUTHBEARER")]
    public async Task Pop3_JwtTooLongForOneLine_GoesOnTheContinuation_EvenForHostsNotInTheSplitList(MailSaslMechanism mechanism, string name)
    {
        await Dovecot.SeedAsync(User, [DovecotServer.NewMessage("pop jwt")]);
        var id = await CreateAccountAsync(MailAccountType.Pop3, a => a.SaslMechanism = mechanism);

        var result = await FetchAsync(id);

        Assert.Empty(result.Errors);
        Assert.Equal(["pop jwt"], (await StoredAsync(id)).Select(m => m.Subject));
        // A JWT makes "AUTH XOAUTH2 <response>" longer than POP3's 255 octets (RFC 2449), so it is sent in two steps.
        Assert.Matches($"client in: AUTH\t[0-9]+\t{name}\tservice=pop3", Dovecot.Log);
        Assert.DoesNotMatch($"client in: AUTH\t[0-9]+\t{name}\tservice=pop3.*\tresp=", Dovecot.Log);
        Assert.Contains("client in: CONT", Dovecot.Log, StringComparison.Ordinal);
        Assert.Contains($"method={name}", Dovecot.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pop3_SplitForm_ForHostsInTheSplitList_CaseInsensitive()
    {
        await SetSettingAsync(MailSettings.Pop3SplitHosts, "outlook.office365.com LOCALHOST");
        await Dovecot.SeedAsync(User, [DovecotServer.NewMessage("pop split")]);
        var id = await CreateAccountAsync(MailAccountType.Pop3, a => { a.Host = "localhost"; a.SaslMechanism = MailSaslMechanism.XOAuth2; });

        var result = await FetchAsync(id);

        Assert.Empty(result.Errors);
        Assert.Equal(["pop split"], (await StoredAsync(id)).Select(m => m.Subject));
        Assert.Matches("client in: AUTH\t[0-9]+\tXOAUTH2\tservice=pop3", Dovecot.Log);
        Assert.DoesNotMatch("client in: AUTH\t[0-9]+\tXOAUTH2\tservice=pop3.*\tresp=", Dovecot.Log);
        Assert.Contains("client in: CONT", Dovecot.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fetch_RefreshesOnceAndRetries_WhenTheServerRefusesTheCachedToken()
    {
        await Dovecot.SeedAsync(User, [DovecotServer.NewMessage("before")]);
        var id = await CreateAccountAsync(MailAccountType.Imap);
        await FetchAsync(id);
        await RevokeCachedAccessTokenAsync();
        await Dovecot.SeedAsync(User, [DovecotServer.NewMessage("after revocation")]);
        var requestsBefore = Idp.TokenRequestCount;

        var result = await FetchAsync(id);

        Assert.Empty(result.Errors);
        Assert.Equal(1, result.Stored);
        Assert.Equal(requestsBefore + 1, Idp.TokenRequestCount);
        Assert.Empty(await Dovecot.MessageIdsAsync(User));
    }

    [Fact]
    public async Task Fetch_RenewsAnExpiredAccessTokenOnTheWay()
    {
        await Dovecot.SeedAsync(User, [DovecotServer.NewMessage("first")]);
        var id = await CreateAccountAsync(MailAccountType.Pop3);
        await FetchAsync(id);
        // The stored token's expiry passes (as after a night without fetches); the provider's memory is read again at
        // once because the mail tests run with MaxStaleness zero.
        await App.WithDbAsync(async db => await db.TokenStates.Where(s => s.TokenConfigId == ConfigId)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.AccessTokenExpiresAt, DateTime.UtcNow.AddMinutes(-5))));
        await Dovecot.SeedAsync(User, [DovecotServer.NewMessage("second")]);
        var requestsBefore = Idp.TokenRequestCount;

        var result = await FetchAsync(id);

        Assert.Empty(result.Errors);
        Assert.Equal(1, result.Stored);
        Assert.Equal(requestsBefore + 1, Idp.TokenRequestCount);
        Assert.True((await StateAsync(ConfigId))!.AccessTokenExpiresAt > DateTime.UtcNow);
    }

    [Fact]
    public async Task Fetch_LeavesMailOnTheServerAndShowsTheError_WhenNoValidTokenCanBeHad()
    {
        await Dovecot.SeedAsync(User, [DovecotServer.NewMessage("stays")]);
        var id = await CreateAccountAsync(MailAccountType.Imap);
        await RevokeCachedAccessTokenAsync();
        Idp.Faults.TokenEndpoint = TokenEndpointFault.InvalidGrant;

        var result = await FetchAsync(id);

        Assert.Equal(0, result.Stored);
        var account = await AccountAsync(id);
        Assert.NotNull(account.LastError);
        Assert.Contains("No token from mailbox", account.LastError, StringComparison.Ordinal);
        Assert.Single(await Dovecot.MessageIdsAsync(User));
        Assert.Empty(await StoredAsync(id));
    }

    [Fact]
    public async Task Fetch_InterruptedAndRunAgain_LosesAndDuplicatesNothing()
    {
        var messages = Enumerable.Range(1, 400).Select(i => DovecotServer.NewMessage($"m{i:000}", messageId: $"m{i}@test")).ToList();
        await Dovecot.SeedAsync(User, messages);
        var id = await CreateAccountAsync(MailAccountType.Pop3, a => a.MaxMessagesPerRun = 1000);
        var spool = Path.Combine(App.DataDirectory, "mail", id.ToString(System.Globalization.CultureInfo.InvariantCulture));

        // Stopped half-way: cancelled as soon as the first .eml files are on disk (the job is cancelled like this at shutdown).
        using (var stop = new CancellationTokenSource())
        {
            using var watcher = new FileSystemWatcher(App.DataDirectory) { IncludeSubdirectories = true, Filter = "*.eml", EnableRaisingEvents = true };
            var stored = 0;
            // A message file is created under its .eml name (see SpoolWriter).
            watcher.Created += (_, e) => { if (e.Name?.EndsWith(".eml", StringComparison.Ordinal) == true && Interlocked.Increment(ref stored) == 60) { stop.Cancel(); } };
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => FetchAsync(id, stop.Token));
        }

        var afterStop = await StoredAsync(id);
        Assert.NotEmpty(afterStop);
        Assert.Equal(400, (await Dovecot.MessageIdsAsync(User)).Count);
        var result = await FetchAsync(id);

        Assert.Empty(result.Errors);
        var all = await StoredAsync(id);
        Assert.Equal(400, all.Count);
        Assert.Equal(400, all.Select(m => m.MessageId).Distinct().Count());
        Assert.Equal(400, Directory.GetFiles(spool, "*.eml").Length);
        AssertEveryFileIsWhole(App.DataDirectory, all);
        Assert.Empty(Directory.GetFiles(spool, "*.journal*"));
        Assert.Empty(await Dovecot.MessageIdsAsync(User));
        Assert.True(afterStop.Count < 400);
    }

    [Fact]
    public async Task Fetch_ProcessKilledMidway_RerunLosesAndDuplicatesNothing()
    {
        var messages = Enumerable.Range(1, 400).Select(i => DovecotServer.NewMessage($"k{i:000}", messageId: $"k{i}@test")).ToList();
        await Dovecot.SeedAsync(User, messages);
        var id = await CreateAccountAsync(MailAccountType.Imap, a => a.MaxMessagesPerRun = 1000);
        var spool = Directory.CreateDirectory(Path.Combine(App.DataDirectory, "mail", id.ToString(System.Globalization.CultureInfo.InvariantCulture))).FullName;

        // The console verb in a process of its own on the same data directory, killed (SIGKILL) after 25 messages are on disk.
        var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (var watcher = new FileSystemWatcher(spool, "*.eml") { EnableRaisingEvents = true })
        using (var fetch = TokenAdminProcess.StartVerb(App.DataDirectory, "mail", "fetch", id.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            var seen = 0;
            void Count()
            {
                if (Interlocked.Increment(ref seen) == 25)
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
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
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

        Assert.Equal(400, (await Dovecot.MessageIdsAsync(User)).Count);
        var result = await FetchAsync(id);

        Assert.Empty(result.Errors);
        var all = await StoredAsync(id);
        Assert.Equal(400, all.Count);
        Assert.Equal(400, all.Select(m => m.MessageId).Distinct().Count());
        Assert.Equal(400, Directory.GetFiles(spool, "*.eml").Length);
        AssertEveryFileIsWhole(App.DataDirectory, all);
        Assert.Empty(Directory.GetFiles(spool, "*.journal*"));
        Assert.Empty(await Dovecot.MessageIdsAsync(User));
    }

    [Fact]
    public async Task Handlers_SeeEachMessageStoredAndStillOnTheServer_AndAFailingOneLosesNothing()
    {
        await Dovecot.SeedAsync(User, [DovecotServer.NewMessage("for the handler", messageId: "h@test")]);
        var id = await CreateAccountAsync(MailAccountType.Imap);
        var seen = new RecordingHandler(Dovecot);
        using var scope = App.Services.CreateScope();
        var fetcher = ActivatorUtilities.CreateInstance<MailFetcher>(scope.ServiceProvider, (IEnumerable<IFetchedMailHandler>)[seen, new FailingHandler()]);

        var result = await fetcher.FetchAsync(id, default);

        var (message, fileExisted, onServer) = Assert.Single(seen.Calls);
        Assert.Equal("h@test", message.MessageId);
        Assert.True(message.Id > 0);
        Assert.True(fileExisted);
        Assert.Equal(["h@test"], onServer);
        Assert.Equal("FailingHandler failed on message " + message.Id + ": no ticket system", Assert.Single(result.Errors));
        Assert.Single(await StoredAsync(id));
        Assert.Empty(await Dovecot.MessageIdsAsync(User));
    }

    [Fact]
    public async Task Job_FetchesValidAccountsWhoseIntervalHasPassed()
    {
        var due = await CreateAccountAsync(MailAccountType.Imap);
        var invalid = await CreateAccountAsync(MailAccountType.Imap, a => a.Valid = false);
        using var scope = App.Services.CreateScope();
        var job = ActivatorUtilities.CreateInstance<MailFetchJob>(scope.ServiceProvider);

        var first = await job.RunDueAsync(default);
        var second = await job.RunDueAsync(default);

        Assert.Equal([due], first);
        Assert.Empty(second);
        Assert.NotNull((await AccountAsync(due)).LastFetchAt);
        Assert.Null((await AccountAsync(invalid)).LastFetchAt);
    }

    private sealed class RecordingHandler(DovecotServer dovecot) : IFetchedMailHandler
    {
        public List<(FetchedMessage Message, bool FileExisted, List<string> OnServer)> Calls { get; } = [];

        public async Task HandleAsync(FetchedMail mail, CancellationToken cancellationToken) =>
            Calls.Add((mail.Message, File.Exists(mail.SpoolFile), await dovecot.MessageIdsAsync(User)));
    }

    private sealed class FailingHandler : IFetchedMailHandler
    {
        public Task HandleAsync(FetchedMail mail, CancellationToken cancellationToken) => throw new InvalidOperationException("no ticket system");
    }

    [Fact]
    public async Task Fetch_LeavesAMessageOverTheSizeLimitOnTheServer_AndSaysSo()
    {
        await Dovecot.SeedAsync(User, [DovecotServer.NewMessage("small"), DovecotServer.NewMessage("big", new string('x', 40_000))]);
        var id = await CreateAccountAsync(MailAccountType.Imap, a => a.MaxMessageSizeKb = 20);

        var result = await FetchAsync(id);

        Assert.Equal(["small"], (await StoredAsync(id)).Select(m => m.Subject));
        var error = Assert.Single(result.Errors);
        Assert.Contains("over the limit of 20 KB; it stays on the server", error, StringComparison.Ordinal);
        Assert.Equal(error, (await AccountAsync(id)).LastError);
        Assert.Single(await Dovecot.MessageIdsAsync(User));
    }

    [Fact]
    public async Task Fetch_StoresAMalformedMessageByteForByte()
    {
        await Dovecot.SeedAsync(User, [DovecotServer.NewMessage("normal")]);
        var raw = Encoding.Latin1.GetBytes("Subject: =?bogus?Q?broken\r\nFrom: <<<not an address\r\nContent-Type: multipart/mixed; boundary=\"never-closed\"\r\n\r\n--never-closed\r\n\u00ff\u00fe binary \u0001\r\n");
        await Dovecot.SeedRawAsync(User, raw);
        var id = await CreateAccountAsync(MailAccountType.Imap);

        var result = await FetchAsync(id);

        Assert.Empty(result.Errors);
        var stored = await StoredAsync(id);
        Assert.Equal(2, stored.Count);
        var malformed = stored.Single(m => m.Subject != "normal");
        Assert.Equal(raw, await File.ReadAllBytesAsync(Path.Combine(App.DataDirectory, "mail", malformed.SpoolPath)));
    }

    [Theory]
    [InlineData(MailAccountType.Imaps)]
    [InlineData(MailAccountType.ImapStartTls)]
    [InlineData(MailAccountType.Pop3s)]
    [InlineData(MailAccountType.Pop3StartTls)]
    public async Task Fetch_OverTls_WithTheServersCaTrusted(MailAccountType type)
    {
        await Dovecot.SeedAsync(User, [DovecotServer.NewMessage("over tls")]);
        var id = await CreateAccountAsync(type);

        var result = await FetchAsync(id);

        Assert.Empty(result.Errors);
        Assert.Equal(["over tls"], (await StoredAsync(id)).Select(m => m.Subject));
        // Dovecot's login line says "TLS" for an encrypted connection (a plain one on loopback says "secured").
        Assert.Matches("Login: user=<alice>, method=[A-Z0-9]+, .*, TLS", Dovecot.Log);
    }

    [Theory]
    [InlineData(MailAccountType.Imaps)]
    [InlineData(MailAccountType.Pop3StartTls)]
    public async Task Fetch_ReportsTlsFailure_AndTouchesNothing(MailAccountType type)
    {
        // The certificate names 127.0.0.1 only: reached as "localhost", the name check fails.
        await Dovecot.SeedAsync(User, [DovecotServer.NewMessage("untouched")]);
        var id = await CreateAccountAsync(type, a => a.Host = "localhost");

        var result = await FetchAsync(id);

        var error = Assert.Single(result.Errors);
        Assert.StartsWith($"TLS with localhost:{(type == MailAccountType.Imaps ? Dovecot.ImapsPort : Dovecot.Pop3Port)} failed", error, StringComparison.Ordinal);
        Assert.Single(await Dovecot.MessageIdsAsync(User));
        Assert.Empty(await StoredAsync(id));
    }

    [Fact]
    public async Task Fetch_ReportsAWrongPort()
    {
        var port = TokenAdminProcess.FreePort();
        var id = await CreateAccountAsync(MailAccountType.Pop3, a => a.Port = port);

        var result = await FetchAsync(id);

        Assert.StartsWith($"Cannot connect to 127.0.0.1:{port}", Assert.Single(result.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fetch_ShowsTheServersOwnText_WhenItRefusesThePassword()
    {
        var id = await CreateAccountAsync(MailAccountType.Imap, a => { a.Authentication = MailAuthentication.Password; a.Password = "wrong"; });

        var result = await FetchAsync(id);

        Assert.Equal("127.0.0.1 refused the login: Authentication failed.", Assert.Single(result.Errors));
    }
}
