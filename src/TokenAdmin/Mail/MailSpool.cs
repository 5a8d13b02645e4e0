using System.Runtime.InteropServices;
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
    /// Note: the message is written to a temporary file, flushed to disk, and only then given its final name, which is
    /// never overwritten: a file another process (a console `mail fetch` beside the web app's job) has already indexed
    /// stays as it is, and a crash half-way leaves at most a temporary file, never a cut-short indexed one.
    /// </remarks>
    public async Task<SpooledFile> StoreAsync(int accountId, string serverKey, Stream message, CancellationToken cancellationToken)
    {
        var relative = Path.Combine(accountId.ToString(System.Globalization.CultureInfo.InvariantCulture), FileName(serverKey));
        var path = Path.Combine(Directory, relative);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Note: MailKit hands over messages in memory, so a synchronous copy is the cheaper one (on Linux an
        // "asynchronous" file write only moves the same work to another thread).
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        // Note: no FileStream buffer (bufferSize 0): a message in memory goes to the file in one write, and a buffer
        // of its own cost 64 KB of garbage per message (over a third of all that a 3 KB message's fetch allocated).
        var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.None);
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
            File.Delete(temporary);
            throw;
        }

        var size = file.Length;
        // Note: flushed on the spool's own threads (SpoolFlusher): a blocking fsync on the thread pool starved the
        // download that should overlap with it.
        var durable = SpoolFlusher.Run(() =>
        {
            try
            {
                using (file)
                {
                    file.Flush(flushToDisk: true);
                }

                if (File.Exists(path))
                {
                    // The same server key was stored before (by another process, or a run that died before its commit):
                    // the message is the same, and a file an index row may point to is never replaced.
                    File.Delete(temporary);
                    return;
                }

                File.Move(temporary, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                File.Delete(temporary);
            }
        });
        return new SpooledFile(relative, size, durable);
    }

    /// <summary>
    /// Makes the names of the files stored so far in an account's spool durable: an <c>fsync</c> of the directory, which
    /// holds the renames of the temporary files to their final names. The fetcher calls it once per batch, after every
    /// file's own flush and before it commits the index rows; without it a power loss after the commit could leave an
    /// index row whose file was never given its name.
    /// </summary>
    /// <exception cref="IOException">the directory could not be opened or flushed (the message names it)</exception>
    public Task SyncDirectoryAsync(int accountId)
    {
        if (OperatingSystem.IsWindows())
        {
            // Note: NTFS journals renames itself, and a directory cannot be flushed through a file handle there.
            return Task.CompletedTask;
        }

        var folder = Path.Combine(Directory, accountId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return SpoolFlusher.Run(() => FlushDirectory(folder));
    }

    internal static void FlushDirectory(string folder)
    {
        // Note: O_RDONLY (0) opens a directory on every Unix without the per-architecture O_DIRECTORY value.
        var descriptor = Unix.Open(Encoding.UTF8.GetBytes(folder + "\0"), 0);
        if (descriptor < 0)
        {
            throw new IOException($"The spool directory {folder} could not be opened to flush it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (Unix.Fsync(descriptor) != 0)
            {
                throw new IOException($"The spool directory {folder} could not be flushed to disk (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Unix.Close(descriptor);
        }
    }

    private static class Unix
    {
        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Open(byte[] path, int flags);

        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Fsync(int descriptor);

        [DllImport("libc", EntryPoint = "close")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Close(int descriptor);
    }

    /// <summary>
    /// Removes temporary files a killed fetch left behind in an account's spool. Only old ones: another process may
    /// be writing a young one right now.
    /// </summary>
    public void RemoveLeftovers(int accountId, TimeSpan olderThan)
    {
        var folder = Path.Combine(Directory, accountId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (!System.IO.Directory.Exists(folder))
        {
            return;
        }

        foreach (var file in System.IO.Directory.EnumerateFiles(folder, "*.tmp"))
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
