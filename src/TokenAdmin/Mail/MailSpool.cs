using System.Security.Cryptography;
using System.Text;

namespace TokenAdmin.Mail;

/// <summary>
/// The raw .eml files of fetched mail under the data directory (mail/&lt;account id&gt;/). A file's name follows from
/// the message's server key, so a message fetched again after a crash overwrites its own file instead of adding one.
/// </summary>
public sealed class MailSpool(string directory)
{
    public string Directory { get; } = directory;

    /// <summary>Copies <paramref name="message"/> into the spool and flushes it to disk; returns the relative path.</summary>
    public async Task<(string RelativePath, long Size)> StoreAsync(int accountId, string serverKey, Stream message, CancellationToken cancellationToken)
    {
        var relative = Path.Combine(accountId.ToString(System.Globalization.CultureInfo.InvariantCulture), FileName(serverKey));
        var path = Path.Combine(Directory, relative);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".part";
        long size;
        await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous))
        {
            await message.CopyToAsync(file, cancellationToken);
            size = file.Length;
            // Note: on disk, not just in the OS cache, before the caller may delete the message on the server.
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
        return (relative, size);
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
