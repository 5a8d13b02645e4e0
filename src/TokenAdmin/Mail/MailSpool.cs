using System.Security.Cryptography;
using System.Text;

namespace TokenAdmin.Mail;

/// <summary>
/// The raw .eml files of fetched mail under the data directory (mail/&lt;account id&gt;/). A file's name follows from
/// the message's server key, so a message fetched again after a crash overwrites its own file instead of adding one.
/// </summary>
public sealed record SpooledFile(string RelativePath, long Size, Task Durable);

public sealed class MailSpool(string directory)
{
    public string Directory { get; } = directory;

    /// <summary>
    /// Copies <paramref name="message"/> into the spool. The returned <see cref="SpooledFile.Durable"/> completes once
    /// the file is flushed to disk: the caller awaits it before it commits the index row, so several flushes overlap
    /// with the download of the next messages instead of each one stalling it.
    /// </summary>
    /// <remarks>
    /// Note: the file is written under its final name. A crash half-way leaves a file without an index row; the next
    /// fetch downloads the message again and overwrites it, and nothing reads a file that has no row.
    /// </remarks>
    public async Task<SpooledFile> StoreAsync(int accountId, string serverKey, Stream message, CancellationToken cancellationToken)
    {
        var relative = Path.Combine(accountId.ToString(System.Globalization.CultureInfo.InvariantCulture), FileName(serverKey));
        var path = Path.Combine(Directory, relative);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Note: MailKit hands over messages in memory, so a synchronous copy is the cheaper one (on Linux an
        // "asynchronous" file write only moves the same work to another thread).
        var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.None);
        try
        {
            if (message.CanSeek)
            {
                message.CopyTo(file);
            }
            else
            {
                await message.CopyToAsync(file, cancellationToken);
            }

            file.Flush(flushToDisk: false);
        }
        catch
        {
            await file.DisposeAsync();
            throw;
        }

        var size = file.Length;
        var durable = Task.Run(() =>
        {
            using (file)
            {
                file.Flush(flushToDisk: true);
            }
        }, CancellationToken.None);
        return new SpooledFile(relative, size, durable);
    }

    public Stream Open(string relativePath) =>
        new FileStream(Resolve(relativePath), FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous);

    public void DeleteAccount(int accountId)
    {
        var path = Path.Combine(Directory, accountId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (System.IO.Directory.Exists(path))
        {
            System.IO.Directory.Delete(path, recursive: true);
        }
    }

    private string Resolve(string relativePath)
    {
        var full = Path.GetFullPath(Path.Combine(Directory, relativePath));
        if (!full.StartsWith(Path.GetFullPath(Directory) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new InvalidOperationException("A spool path points outside the spool directory.");
        }

        return full;
    }

    private static string FileName(string serverKey) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(serverKey)))[..32] + ".eml";
}
