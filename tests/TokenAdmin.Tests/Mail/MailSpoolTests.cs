using System.Text;
using TokenAdmin.Mail;

namespace TokenAdmin.Tests.Mail;

/// <summary>
/// The spool on a real directory: stored files get their final names, the run's journal makes them durable and goes
/// once they are flushed, and a journal a dead run left writes again what is missing or damaged.
/// </summary>
public sealed class MailSpoolTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "tokenadmin-spool-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Store_SyncAndSettle_LeaveTheFileUnderItsFinalName_AndNoTemporaryFileOrJournal()
    {
        var spool = new MailSpool(_directory);
        using var message = new MemoryStream(Encoding.ASCII.GetBytes("Subject: hi\r\n\r\nbody\r\n"));

        using var writer = spool.Begin(7);
        var stored = await writer.StoreAsync("imap:abc:1:42", message, default);
        await writer.SyncAsync();
        Assert.Single(Directory.GetFiles(Path.Combine(_directory, "7"), "*.journal"));
        await writer.SettleAsync();

        var folder = Path.Combine(_directory, "7");
        Assert.Equal([Path.Combine(_directory, stored.RelativePath)], Directory.GetFiles(folder));
        Assert.Equal("Subject: hi\r\n\r\nbody\r\n", await File.ReadAllTextAsync(Path.Combine(_directory, stored.RelativePath)));
        Assert.Equal(stored.Size, new FileInfo(Path.Combine(_directory, stored.RelativePath)).Length);
    }

    [Fact]
    public async Task Store_OfAStreamThatCannotSeek_CopiesItWhole()
    {
        var spool = new MailSpool(_directory);
        var body = Encoding.ASCII.GetBytes("Subject: big\r\n\r\n" + new string('x', 200_000) + "\r\n");
        using var message = new OneWayStream(body);

        using var writer = spool.Begin(7);
        var stored = await writer.StoreAsync("pop3:abc:uidl-9", message, default);
        await writer.SyncAsync();

        Assert.Equal(body.Length, stored.Size);
        Assert.Equal(body, await File.ReadAllBytesAsync(Path.Combine(_directory, stored.RelativePath)));
    }

    [Fact]
    public async Task Store_UnderAKeyStoredBefore_ReplacesTheFileWhole_AndAReaderOfTheOldOneReadsItToTheEnd()
    {
        var spool = new MailSpool(_directory);
        var content = Encoding.ASCII.GetBytes("Subject: first\r\n\r\n" + new string('z', 4_000));
        using var writer = spool.Begin(7);
        string path;
        using (var first = new MemoryStream(content))
        {
            path = Path.Combine(_directory, (await writer.StoreAsync("graph:abc:id-1", first, default)).RelativePath);
        }

        // A crash while it was written (by a run that died before its commit) cut it short.
        await using (var cut = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            cut.SetLength(1_000);
        }

        await using var reader = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using (var again = new MemoryStream(content))
        {
            await writer.StoreAsync("graph:abc:id-1", again, default);
        }

        await writer.SyncAsync();
        await writer.SettleAsync();
        Assert.Equal(content, await File.ReadAllBytesAsync(path));
        Assert.Equal([path], Directory.GetFiles(Path.Combine(_directory, "7")));
        // Replaced by a rename, never rewritten in place: whoever had the old file open reads it as it was.
        Assert.Equal(1_000, reader.Length);
    }

    /// <summary>A stream that only reads forward, in small pieces, as a network stream does.</summary>
    private sealed class OneWayStream(byte[] content) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = Math.Min(Math.Min(count, 7_000), content.Length - _position);
            Array.Copy(content, _position, buffer, offset, read);
            _position += read;
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public void AFolderThatCannotBeOpenedToFlushIt_FailsWithAMessageThatNamesIt()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var error = Assert.Throws<IOException>(() => SpoolDisk.Folder.Open(Path.Combine(_directory, "9")));

        Assert.Contains($"The spool directory {Path.Combine(_directory, "9")} could not be opened to flush it (errno 2)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Recover_AfterARunThatDiedBeforeItSettled_WritesEveryFileAgain_TheMissingAndTheCutShortToo_AndDropsTheJournal()
    {
        var spool = new MailSpool(_directory);
        var messages = Enumerable.Range(1, 3).Select(i => Encoding.ASCII.GetBytes($"Subject: m{i}\r\n\r\n" + new string('x', 5_000 * i) + "\r\n")).ToArray();
        var paths = new List<string>();
        using (var writer = spool.Begin(7))
        {
            for (var i = 0; i < messages.Length; i++)
            {
                using var message = new MemoryStream(messages[i]);
                paths.Add(Path.Combine(_directory, (await writer.StoreAsync($"graph:abc:id-{i}", message, default)).RelativePath));
            }

            await writer.SyncAsync();
            // The run dies here: no SettleAsync. A power loss then takes one file and cuts another short.
        }

        File.Delete(paths[0]);
        await using (var cut = new FileStream(paths[2], FileMode.Open, FileAccess.Write))
        {
            cut.SetLength(100);
        }

        var written = spool.Recover(7);

        // Every message in the journal is written again, the two damaged ones and the one that looks whole (after a
        // failed write-back its bytes in memory may not be those on disk).
        Assert.Equal(3, written);
        for (var i = 0; i < messages.Length; i++)
        {
            Assert.Equal(messages[i], await File.ReadAllBytesAsync(paths[i]));
        }

        Assert.Equal(paths.Order(), Directory.GetFiles(Path.Combine(_directory, "7")).Order());
        Assert.Equal(0, spool.Recover(7));
    }

    [Fact]
    public async Task Recover_StopsAtARecordACrashCutShort_AndKeepsWhatCameBefore()
    {
        var spool = new MailSpool(_directory);
        string kept;
        using (var writer = spool.Begin(7))
        {
            using var first = new MemoryStream(Encoding.ASCII.GetBytes("Subject: first\r\n\r\n"));
            kept = Path.Combine(_directory, (await writer.StoreAsync("imap:abc:1:1", first, default)).RelativePath);
            using var second = new MemoryStream(Encoding.ASCII.GetBytes("Subject: second\r\n\r\n" + new string('y', 3_000)));
            await writer.StoreAsync("imap:abc:1:2", second, default);
            await writer.SyncAsync();
        }

        var journal = Assert.Single(Directory.GetFiles(Path.Combine(_directory, "7"), "*.journal"));
        await using (var file = new FileStream(journal, FileMode.Open, FileAccess.Write))
        {
            // The second record loses its last kilobyte, as a crash in the middle of its write would leave it.
            file.SetLength(file.Length - 1_000);
        }

        foreach (var eml in Directory.GetFiles(Path.Combine(_directory, "7"), "*.eml"))
        {
            File.Delete(eml);
        }

        Assert.Equal(1, spool.Recover(7));
        Assert.Equal([kept], Directory.GetFiles(Path.Combine(_directory, "7")));
        Assert.Equal("Subject: first\r\n\r\n", await File.ReadAllTextAsync(kept));
    }

    [Fact]
    public async Task Recover_LeavesAloneTheJournalOfARunThatIsStillWriting()
    {
        var spool = new MailSpool(_directory);
        using var writer = spool.Begin(7);
        using var message = new MemoryStream(Encoding.ASCII.GetBytes("Subject: live\r\n\r\n"));
        var stored = await writer.StoreAsync("imap:abc:1:1", message, default);
        await writer.SyncAsync();
        File.Delete(Path.Combine(_directory, stored.RelativePath));

        // Another process's fetch of the same account (a console run beside the web app's job) holds the journal open.
        Assert.Equal(0, spool.Recover(7));
        Assert.Single(Directory.GetFiles(Path.Combine(_directory, "7"), "*.journal"));

        writer.Dispose();
        Assert.Equal(1, spool.Recover(7));
        Assert.True(File.Exists(Path.Combine(_directory, stored.RelativePath)));
    }

    [Fact]
    public void Recover_NeverWritesOutsideTheAccountsFolder_WhateverTheJournalNames()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_directory, "7")).FullName;
        var name = Encoding.ASCII.GetBytes("../planted.eml");
        var content = Encoding.ASCII.GetBytes("Subject: planted\r\n\r\n");
        var header = new byte[16 + name.Length];
        "TAJ1"u8.CopyTo(header);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(4), name.Length);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(8), content.Length);
        name.CopyTo(header, 16);
        // A record whose hash is right: only the name gives it away.
        var hash = System.Security.Cryptography.SHA256.HashData([.. header, .. content]);
        File.WriteAllBytes(Path.Combine(folder, "planted.journal"), [.. header, .. content, .. hash]);

        Assert.Equal(0, new MailSpool(_directory).Recover(7));
        Assert.False(File.Exists(Path.Combine(_directory, "planted.eml")));
        Assert.Empty(Directory.GetFiles(folder));
    }

    [Fact]
    public async Task Recover_ARecordWhoseBytesDoNotMatchItsHashAtTheEnd_IsTheTailACrashLeft_AndTheRecordsBeforeItAreRestored()
    {
        var spool = new MailSpool(_directory);
        var (paths, journal) = await DeadRunAsync(spool, 2);
        await using (var file = new FileStream(journal, FileMode.Open, FileAccess.Write))
        {
            // The last record has its full length, but its last bytes never reached the disk (zeros).
            file.Position = file.Length - 200;
            file.Write(new byte[200]);
        }

        DeleteAll(paths);

        Assert.Equal(1, spool.Recover(7));
        Assert.True(File.Exists(paths[0]));
        Assert.False(File.Exists(paths[1]));
        Assert.Empty(Directory.GetFiles(Path.Combine(_directory, "7"), "*.journal*"));
    }

    [Fact]
    public async Task Recover_ARecordDamagedBeforeWholeOnes_RestoresTheWholeOnes_KeepsTheJournalAsDamaged_AndSaysSo()
    {
        var spool = new MailSpool(_directory);
        var (paths, journal) = await DeadRunAsync(spool, 3);
        await using (var file = new FileStream(journal, FileMode.Open, FileAccess.Write))
        {
            // One byte in the middle of the first record's message.
            file.Position = 16 + 36 + 10;
            file.WriteByte((byte)'#');
        }

        DeleteAll(paths);

        var error = Assert.Throws<IOException>(() => spool.Recover(7));

        Assert.Contains($"The spool journal {journal} is damaged at byte 0, before records that are whole", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(paths[0]));
        Assert.True(File.Exists(paths[1]));
        Assert.True(File.Exists(paths[2]));
        Assert.True(File.Exists(journal + ".damaged"));
        Assert.False(File.Exists(journal));
        // Said once: the next run goes on.
        Assert.Equal(0, spool.Recover(7));
    }


    [Fact]
    public async Task Recover_ARecordWhoseHeaderIsDamagedBeforeWholeOnes_FindsTheNextRecord_AndSaysSo()
    {
        var spool = new MailSpool(_directory);
        var (paths, journal) = await DeadRunAsync(spool, 3);
        await using (var file = new FileStream(journal, FileMode.Open, FileAccess.Write))
        {
            // The first record's length field: every later record would be read at the wrong place.
            file.Position = 9;
            file.WriteByte(0x7f);
        }

        DeleteAll(paths);

        var error = Assert.Throws<IOException>(() => spool.Recover(7));

        Assert.Contains("is damaged at byte 0, before records that are whole", error.Message, StringComparison.Ordinal);
        Assert.Contains("The 2 whole record(s) were written to their files", error.Message, StringComparison.Ordinal);
        Assert.Equal([false, true, true], paths.Select(File.Exists));
    }

    [Fact]
    public async Task Store_AMessageLargerThanOnePooledRecord_IsCopiedInChunks_AndRecoveredWhole()
    {
        var spool = new MailSpool(_directory);
        var content = new byte[3 * 1024 * 1024 + 17];
        new Random(7).NextBytes(content);
        string path;
        using (var writer = spool.Begin(7))
        {
            using var message = new MemoryStream(content);
            message.Position = 0;
            path = Path.Combine(_directory, (await writer.StoreAsync("imap:abc:1:9", message, default)).RelativePath);
            Assert.Equal(content, await File.ReadAllBytesAsync(path));
            await writer.SyncAsync();
        }

        File.Delete(path);

        Assert.Equal(1, spool.Recover(7));
        Assert.Equal(content, await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public void RemoveLeftovers_RemovesOldTemporaryFilesAndJournalsKilledBeforeTheyGotTheirName_AndKeepsYoungOnes()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_directory, "7")).FullName;
        List<string> old = [Path.Combine(folder, "a.eml.1.tmp"), Path.Combine(folder, "b.journal.new")];
        List<string> young = [Path.Combine(folder, "c.eml.2.tmp"), Path.Combine(folder, "d.journal.new"), Path.Combine(folder, "e.journal")];
        foreach (var file in old.Concat(young))
        {
            File.WriteAllText(file, "");
        }

        foreach (var file in old.Append(young[2]))
        {
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddHours(-2));
        }

        new MailSpool(_directory).RemoveLeftovers(7, TimeSpan.FromHours(1));

        Assert.Equal(young.Order(), Directory.GetFiles(folder).Order());
    }

    /// <summary>A run that stored <paramref name="count"/> messages, synced its journal and died before it settled.</summary>
    private async Task<(List<string> Paths, string Journal)> DeadRunAsync(MailSpool spool, int count)
    {
        var paths = new List<string>();
        using (var writer = spool.Begin(7))
        {
            for (var i = 0; i < count; i++)
            {
                using var message = new MemoryStream(Encoding.ASCII.GetBytes($"Subject: m{i}\r\n\r\n" + new string('q', 1_000)));
                paths.Add(Path.Combine(_directory, (await writer.StoreAsync($"imap:abc:1:{i}", message, default)).RelativePath));
            }

            await writer.SyncAsync();
        }

        return (paths, Assert.Single(Directory.GetFiles(Path.Combine(_directory, "7"), "*.journal")));
    }

    private static void DeleteAll(IEnumerable<string> paths)
    {
        foreach (var path in paths)
        {
            File.Delete(path);
        }
    }
}
