using System.Text;
using TokenAdmin.Mail;

namespace TokenAdmin.Tests.Mail;

/// <summary>The spool on a real directory: stored files get their final names, and the directory holding them is flushed.</summary>
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
    public async Task Store_ThenSyncDirectory_LeavesTheFileUnderItsFinalName_AndNoTemporaryFile()
    {
        var spool = new MailSpool(_directory);
        using var message = new MemoryStream(Encoding.ASCII.GetBytes("Subject: hi\r\n\r\nbody\r\n"));

        var stored = await spool.StoreAsync(7, "imap:abc:1:42", message, default);
        await stored.Durable;
        await spool.SyncDirectoryAsync(7);

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

        var stored = await spool.StoreAsync(7, "pop3:abc:uidl-9", message, default);
        await stored.Durable;

        Assert.Equal(body.Length, stored.Size);
        Assert.Equal(body, await File.ReadAllBytesAsync(Path.Combine(_directory, stored.RelativePath)));
    }

    [Fact]
    public async Task Store_UnderAKeyStoredBefore_KeepsTheFileThatIsThere()
    {
        var spool = new MailSpool(_directory);
        using (var first = new MemoryStream(Encoding.ASCII.GetBytes("Subject: first\r\n\r\n")))
        {
            await (await spool.StoreAsync(7, "graph:abc:id-1", first, default)).Durable;
        }

        using var again = new MemoryStream(Encoding.ASCII.GetBytes("Subject: again, longer\r\n\r\n"));
        var stored = await spool.StoreAsync(7, "graph:abc:id-1", again, default);
        await stored.Durable;

        Assert.Equal([Path.Combine(_directory, stored.RelativePath)], Directory.GetFiles(Path.Combine(_directory, "7")));
        Assert.Equal("Subject: first\r\n\r\n", await File.ReadAllTextAsync(Path.Combine(_directory, stored.RelativePath)));
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
    public async Task SyncDirectory_OfAFolderThatIsGone_FailsWithAMessageThatNamesIt()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var spool = new MailSpool(_directory);

        var error = await Assert.ThrowsAsync<IOException>(() => spool.SyncDirectoryAsync(9));

        Assert.Contains($"The spool directory {Path.Combine(_directory, "9")} could not be opened to flush it (errno 2)", error.Message, StringComparison.Ordinal);
    }
}
