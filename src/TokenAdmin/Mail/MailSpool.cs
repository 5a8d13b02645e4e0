using System.Security.Cryptography;
using System.Text;

namespace TokenAdmin.Mail;

/// <summary>
/// The raw .eml files of fetched mail under the data directory (mail/&lt;account id&gt;/). A file's name follows from
/// the message's server key, so a message fetched again after a crash replaces its own file instead of adding one.
/// </summary>
public sealed record SpooledFile(string RelativePath, long Size);

/// <summary>
/// The spool: one .eml file per fetched message, made durable through a journal (see <see cref="SpoolWriter"/>).
/// </summary>
public sealed class MailSpool(string directory)
{
    public string Directory { get; } = directory;

    /// <summary>Starts storing messages for one fetch run of an account; the caller disposes of the writer when the run ends.</summary>
    public SpoolWriter Begin(int accountId) => new(AccountFolder(accountId));

    /// <summary>
    /// Completes what a run that died (killed, power loss) left in an account's spool: every journal no other process is
    /// writing is replayed (each message it holds written again, whole, under its name), the files and their names are
    /// flushed, and only then is the journal deleted. Called at the start of each run, under the account's fetch lock,
    /// before anything new is stored.
    /// </summary>
    /// <returns>how many message files were written again</returns>
    /// <exception cref="IOException">a journal or a file could not be read, written or flushed (the journal stays)</exception>
    public int Recover(int accountId) => SpoolWriter.Recover(AccountFolder(accountId));

    /// <summary>
    /// Removes temporary files a killed fetch left behind in an account's spool (a file being replaced whole, a journal
    /// killed before it got its name, so still empty). Only old ones: another process may be writing a young one right now.
    /// </summary>
    public void RemoveLeftovers(int accountId, TimeSpan olderThan)
    {
        var folder = AccountFolder(accountId);
        if (!System.IO.Directory.Exists(folder))
        {
            return;
        }

        foreach (var file in System.IO.Directory.EnumerateFiles(folder, "*.tmp").Concat(System.IO.Directory.EnumerateFiles(folder, "*" + SpoolWriter.JournalExtension + ".new")))
        {
            try
            {
                if (DateTime.UtcNow - File.GetLastWriteTimeUtc(file) > olderThan)
                {
                    File.Delete(file);
                }
            }
            catch (IOException)
            {
                // Gone meanwhile, or in use: the next run tries again.
            }
        }
    }

    public Stream Open(string relativePath) =>
        new FileStream(Resolve(relativePath), FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous);

    public void DeleteAccount(int accountId)
    {
        var path = AccountFolder(accountId);
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

    private string AccountFolder(int accountId) =>
        Path.Combine(Directory, accountId.ToString(System.Globalization.CultureInfo.InvariantCulture));

    internal static string FileName(string serverKey) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(serverKey)))[..32] + ".eml";
}
