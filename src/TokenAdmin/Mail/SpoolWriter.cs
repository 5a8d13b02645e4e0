using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace TokenAdmin.Mail;

/// <summary>
/// Stores the messages of one fetch run in an account's spool folder: each as its own .eml file, made durable through
/// the run's journal.
/// </summary>
/// <remarks>
/// <para>
/// Each message is written to a temporary file, given its final name, and appended to the run's journal
/// (<c>&lt;guid&gt;.journal</c> in the same folder) as a record with its file name, its bytes and a SHA-256 over both.
/// <see cref="SyncAsync"/> flushes the journal to disk: once it returns, every message stored before it survives a
/// crash or a power loss, in the journal if not yet in its own file. The fetcher calls it before it commits a batch's
/// index rows, so a committed row's message is always on disk, and nothing changes on the server before that.
/// <see cref="SettleAsync"/>, after the run's last commit, flushes the .eml files themselves and only then deletes the
/// journal. A run that dies before that leaves its journal, and the next run's <see cref="Recover"/> writes again
/// whatever file is missing or damaged.
/// </para>
/// <para>
/// Note: why a journal. Flushing each file on its own (an <c>fsync</c> of the file, which on ext4 also writes its
/// directory, and a flush of the disk's cache) cost more than anything else the fetcher did: a Graph fetch of 1,000
/// messages took about 1.5 times the bare download loop with it, about 1.15 times with one flush of the journal per
/// batch and one flush of the file system per run (docs/performance.md).
/// </para>
/// </remarks>
public sealed class SpoolWriter : IDisposable
{
    internal const string JournalExtension = ".journal";
    private static ReadOnlySpan<byte> Magic => "TAJ1"u8;
    private const int HeaderLength = 16; // magic, name length (int32), content length (int64), little-endian
    private const int HashLength = 32;
    private const int MaxNameLength = 255;

    private readonly string _folder;
    private readonly string _account;
    private readonly Lock _gate = new();
    private readonly List<string> _names = [];
    private FileStream? _journal;
    private string? _journalPath;
    private bool _journalNamed;
    private bool _broken;

    internal SpoolWriter(string folder)
    {
        _folder = folder;
        _account = Path.GetFileName(folder);
    }

    /// <summary>
    /// Copies <paramref name="message"/> (from its current position) into the spool under the name its server key gives
    /// it, and into the journal. Not yet durable: see <see cref="SyncAsync"/>.
    /// </summary>
    /// <remarks>
    /// Note: a file already under that name (stored by another process, or by a run that died before its commit) is kept:
    /// the message is the same, and a file an index row may point to is never replaced while it is whole.
    /// </remarks>
    public async Task<SpooledFile> StoreAsync(string serverKey, Stream message, CancellationToken cancellationToken)
    {
        var name = MailSpool.FileName(serverKey);
        var path = Path.Combine(_folder, name);
        Directory.CreateDirectory(_folder);
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        var start = message.CanSeek ? message.Position : 0;
        long size;
        try
        {
            // Note: no FileStream buffer (bufferSize 0): a message in memory goes to the file in one write, and a buffer
            // of its own cost 64 KB of garbage per message.
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.None))
            {
                if (message.CanSeek)
                {
                    // MailKit and the Graph client hand over messages in memory: a synchronous copy is the cheaper one.
                    message.CopyTo(file);
                }
                else
                {
                    await message.CopyToAsync(file, cancellationToken);
                }

                size = file.Length;
            }

            if (message.CanSeek)
            {
                message.Position = start;
                Append(name, message, size);
            }
            else
            {
                await using var copy = new FileStream(temporary, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.None);
                Append(name, copy, size);
            }
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }

        try
        {
            if (File.Exists(path))
            {
                File.Delete(temporary);
            }
            else
            {
                File.Move(temporary, path, overwrite: false);
            }
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process gave the same message its name meanwhile.
            TryDelete(temporary);
        }

        return new SpooledFile(Path.Combine(_account, name), size);
    }

    /// <summary>
    /// Makes every message stored so far durable: flushes the journal (and, the first time, the folder that holds its
    /// name). Stores may go on meanwhile; what they add is covered by the next call.
    /// </summary>
    /// <exception cref="IOException">the journal or its folder could not be flushed (the message names it)</exception>
    public Task SyncAsync()
    {
        FileStream? journal;
        lock (_gate)
        {
            if (_broken)
            {
                return Task.FromException(new IOException($"The spool journal {_journalPath} could not be written; the messages stored since are not durable."));
            }

            journal = _journal;
        }

        if (journal is null)
        {
            return Task.CompletedTask;
        }

        // Note: on the spool's own threads (SpoolFlusher): a blocking fsync on the thread pool starved the downloads
        // that go on meanwhile.
        return SpoolFlusher.Run(() =>
        {
            SpoolDisk.Flush(journal, _journalPath!, _gate);
            if (!_journalNamed)
            {
                SpoolDisk.FlushDirectory(_folder);
                _journalNamed = true;
            }
        });
    }

    /// <summary>
    /// After the run's last commit: flushes the run's .eml files and their names to disk, then deletes the journal,
    /// which is no longer needed. When this fails the journal stays, and the next run's <see cref="Recover"/> completes
    /// the work.
    /// </summary>
    /// <exception cref="IOException">the files could not be flushed (the message names the folder)</exception>
    public Task SettleAsync()
    {
        FileStream? journal;
        string[] names;
        lock (_gate)
        {
            journal = _journal;
            names = [.. _names];
        }

        if (journal is null)
        {
            return Task.CompletedTask;
        }

        return SpoolFlusher.Run(() =>
        {
            SpoolDisk.FlushFiles(_folder, names);
            lock (_gate)
            {
                if (!ReferenceEquals(journal, _journal) || _broken || _names.Count != names.Length)
                {
                    // Stored to since (or damaged): the journal stays for the next settle or for Recover.
                    return;
                }

                _journal = null;
                _names.Clear();
            }

            journal.Dispose();
            File.Delete(_journalPath!);
        });
    }

    /// <summary>Closes the journal; a journal not settled stays on disk for the next run's <see cref="Recover"/>.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _journal?.Dispose();
            _journal = null;
        }
    }

    /// <summary>See <see cref="MailSpool.Recover"/>.</summary>
    internal static int Recover(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return 0;
        }

        var restored = 0;
        foreach (var path in Directory.EnumerateFiles(folder, "*" + JournalExtension))
        {
            FileStream journal;
            try
            {
                // Note: FileShare.None takes the lock a live run holds on its journal (flock on Unix): a journal another
                // process is writing right now is left alone.
                journal = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 64 * 1024, FileOptions.SequentialScan);
            }
            catch (FileNotFoundException)
            {
                continue;
            }
            catch (IOException) when (File.Exists(path))
            {
                continue;
            }

            using (journal)
            {
                var names = new List<string>();
                restored += Replay(folder, journal, names);
                SpoolDisk.FlushFiles(folder, names);
                if (!OperatingSystem.IsWindows())
                {
                    File.Delete(path);
                }
            }

            if (OperatingSystem.IsWindows())
            {
                File.Delete(path);
            }
        }

        return restored;
    }

    /// <summary>
    /// Writes again each message of <paramref name="journal"/> whose file is missing or differs; stops at the first
    /// record that is cut short or does not match its hash (the tail a crash left, never committed).
    /// </summary>
    private static int Replay(string folder, FileStream journal, List<string> names)
    {
        var restored = 0;
        var header = new byte[HeaderLength];
        while (ReadAll(journal, header))
        {
            var nameLength = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(4));
            var size = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(8));
            var left = journal.Length - journal.Position;
            if (!header.AsSpan(0, 4).SequenceEqual(Magic) || nameLength is <= 0 or > MaxNameLength || size < 0 || size > Array.MaxLength
                || size > left - nameLength - HashLength)
            {
                break;
            }

            var nameBytes = new byte[nameLength];
            var content = new byte[size];
            var hash = new byte[HashLength];
            if (!ReadAll(journal, nameBytes) || !ReadAll(journal, content) || !ReadAll(journal, hash))
            {
                break;
            }

            using var check = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            check.AppendData(header);
            check.AppendData(nameBytes);
            check.AppendData(content);
            var name = Encoding.ASCII.GetString(nameBytes);
            // Note: the name must be a plain .eml file name: a damaged or planted journal never writes outside the folder.
            if (!CryptographicOperations.FixedTimeEquals(check.GetHashAndReset(), hash) || name != Path.GetFileName(name)
                || !name.EndsWith(".eml", StringComparison.Ordinal) || name.Contains('/', StringComparison.Ordinal) || name.Contains('\\', StringComparison.Ordinal))
            {
                break;
            }

            names.Add(name);
            var path = Path.Combine(folder, name);
            if (IsSame(path, content))
            {
                continue;
            }

            var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
            try
            {
                File.WriteAllBytes(temporary, content);
                // Note: the file there (if any) is cut short or damaged: the whole message replaces it.
                File.Move(temporary, path, overwrite: true);
            }
            catch
            {
                TryDelete(temporary);
                throw;
            }

            restored++;
        }

        return restored;
    }

    private static bool IsSame(string path, byte[] content)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0, FileOptions.None);
            if (file.Length != content.Length)
            {
                return false;
            }

            var there = new byte[content.Length];
            return ReadAll(file, there) && there.AsSpan().SequenceEqual(content);
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }

    private static bool ReadAll(Stream stream, byte[] buffer)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = stream.Read(buffer, read, buffer.Length - read);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }

    /// <summary>Appends one record: header, file name, the message's <paramref name="size"/> bytes, SHA-256 over all three.</summary>
    private void Append(string name, Stream source, long size)
    {
        var nameBytes = Encoding.ASCII.GetBytes(name);
        var header = new byte[HeaderLength + nameBytes.Length];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(4), nameBytes.Length);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(8), size);
        nameBytes.CopyTo(header, HeaderLength);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(header);
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max(size, 1), 81_920));
        try
        {
            lock (_gate)
            {
                if (_broken)
                {
                    throw new IOException($"The spool journal {_journalPath} could not be written before; no message is stored until the next run.");
                }

                if (_journal is null)
                {
                    _journalPath = Path.Combine(_folder, Guid.NewGuid().ToString("N") + JournalExtension);
                    _journal = new FileStream(_journalPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.None);
                    _journalNamed = false;
                }

                var begin = _journal.Position;
                try
                {
                    _journal.Write(header);
                    var left = size;
                    while (left > 0)
                    {
                        var read = source.Read(buffer, 0, (int)Math.Min(left, buffer.Length));
                        if (read == 0)
                        {
                            throw new IOException($"The message for {name} ended {left} bytes early while it was copied into the spool journal.");
                        }

                        hash.AppendData(buffer, 0, read);
                        _journal.Write(buffer, 0, read);
                        left -= read;
                    }

                    _journal.Write(hash.GetHashAndReset());
                    _names.Add(name);
                }
                catch
                {
                    // Note: a record cut short would hide every later one from Recover: cut it off, or refuse all later
                    // stores of this run when even that fails.
                    try
                    {
                        _journal.SetLength(begin);
                        _journal.Position = begin;
                    }
                    catch (IOException)
                    {
                        _broken = true;
                    }

                    throw;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Left for RemoveLeftovers.
        }
    }
}

/// <summary>Flushes to disk: a file by its handle, a directory, or all of a spool folder's files.</summary>
internal static class SpoolDisk
{
    /// <summary>Flushes <paramref name="file"/>'s data to disk while other threads may still append to it.</summary>
    public static void Flush(FileStream file, string path, Lock gate)
    {
        if (OperatingSystem.IsWindows())
        {
            lock (gate)
            {
                file.Flush(flushToDisk: true);
            }

            return;
        }

        SafeFileHandle handle;
        lock (gate)
        {
            handle = file.SafeFileHandle;
        }

        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            if (Unix.Fsync((int)handle.DangerousGetHandle()) != 0)
            {
                throw new IOException($"The spool journal {path} could not be flushed to disk (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Flushes the files <paramref name="names"/> of <paramref name="folder"/> and their names to disk. On Linux one
    /// <c>syncfs</c> of the folder's file system does it (one write-back and one flush of the disk's cache instead of one
    /// per file); elsewhere each file is flushed, then the folder.
    /// </summary>
    public static void FlushFiles(string folder, IReadOnlyCollection<string> names)
    {
        if (names.Count == 0)
        {
            return;
        }

        if (OperatingSystem.IsLinux())
        {
            WithDirectory(folder, "flush the files in it", Unix.Syncfs);
            return;
        }

        foreach (var name in names)
        {
            try
            {
                using var file = new FileStream(Path.Combine(folder, name), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
                file.Flush(flushToDisk: true);
            }
            catch (FileNotFoundException)
            {
                // Deleted meanwhile (the account was removed): nothing left to keep.
            }
        }

        FlushDirectory(folder);
    }

    /// <summary>Flushes a directory (the names in it) to disk; nothing to do on Windows, where NTFS journals names itself.</summary>
    public static void FlushDirectory(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        WithDirectory(folder, "flush it", Unix.Fsync);
    }

    private static void WithDirectory(string folder, string what, Func<int, int> call)
    {
        // Note: O_RDONLY (0) opens a directory on every Unix without the per-architecture O_DIRECTORY value.
        var descriptor = Unix.Open(Encoding.UTF8.GetBytes(folder + "\0"), 0);
        if (descriptor < 0)
        {
            throw new IOException(string.Create(CultureInfo.InvariantCulture,
                $"The spool directory {folder} could not be opened to {what} (errno {Marshal.GetLastPInvokeError()})."));
        }

        try
        {
            if (call(descriptor) != 0)
            {
                throw new IOException(string.Create(CultureInfo.InvariantCulture,
                    $"The spool directory {folder} could not be flushed to disk (errno {Marshal.GetLastPInvokeError()})."));
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

        [DllImport("libc", EntryPoint = "syncfs", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Syncfs(int descriptor);

        [DllImport("libc", EntryPoint = "close")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Close(int descriptor);
    }
}
