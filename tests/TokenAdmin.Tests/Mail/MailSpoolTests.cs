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
