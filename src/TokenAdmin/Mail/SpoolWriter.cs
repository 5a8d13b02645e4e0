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
/// Each message is written straight under its final name and appended to the run's journal (<c>&lt;guid&gt;.journal</c>
/// in the same folder) as one record: its file name, its bytes and a SHA-256 over both. <see cref="SyncAsync"/> flushes
/// the journal to disk: once it returns, every message stored before it survives a crash or a power loss, in the journal
/// if not yet in its own file. The fetcher calls it before it commits a batch's index rows, so a committed row's message
/// is always on disk, and nothing changes on the server before that. <see cref="SettleAsync"/>, after the run's last
/// commit, flushes the .eml files themselves and only then deletes the journal. A run that dies before that leaves its
/// journal, and the next run's <see cref="Recover"/> writes again whatever file is missing, cut short or damaged.
/// A file cut short whose record never reached the disk belongs to no committed row; the next store of that message
/// replaces it.
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
    private SpoolDisk.Folder? _folderHandle;

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
    /// Note: a whole file already under that name (stored by another process, or by a run that died before its commit)
    /// is kept: the message is the same, and a file an index row may point to is never replaced. One that differs was
    /// cut short by a crash while it was written, and the whole message replaces it.
    /// </remarks>
    public async Task<SpooledFile> StoreAsync(string serverKey, Stream message, CancellationToken cancellationToken)
    {
        if (!message.CanSeek)
        {
            // Note: MailKit and the Graph client hand over messages in memory; any other stream is read into memory
            // first, as the record needs its length up front.
            var buffered = new MemoryStream();
            await message.CopyToAsync(buffered, cancellationToken);
            buffered.Position = 0;
            message = buffered;
        }

        var name = MailSpool.FileName(serverKey);
        var nameBytes = Encoding.ASCII.GetBytes(name);
        var size = message.Length - message.Position;
        var contentStart = HeaderLength + nameBytes.Length;
        if (size > Array.MaxLength - contentStart - HashLength)
        {
            throw new IOException(string.Create(CultureInfo.InvariantCulture, $"The message of {size} bytes is too large for the spool."));
        }

        // Note: the record is built in one buffer and written in one call; the .eml is written from the same bytes.
        var length = contentStart + (int)size + HashLength;
        var record = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            Magic.CopyTo(record);
            BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(4), nameBytes.Length);
            BinaryPrimitives.WriteInt64LittleEndian(record.AsSpan(8), size);
            nameBytes.CopyTo(record, HeaderLength);
            message.ReadExactly(record, contentStart, (int)size);
            SHA256.HashData(record.AsSpan(0, contentStart + (int)size), record.AsSpan(contentStart + (int)size, HashLength));
            var content = record.AsSpan(contentStart, (int)size);
            if (_folderHandle is null)
            {
                Directory.CreateDirectory(_folder);
                // Note: opened before the first write, so its syncfs at the end reports any write-back error since.
                _folderHandle = SpoolDisk.Folder.Open(_folder);
            }

            WriteFile(Path.Combine(_folder, name), content);
            Append(name, record.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(record);
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
            try
            {
                SpoolDisk.Flush(journal, _journalPath!, _gate);
                bool named;
                lock (_gate)
                {
                    named = _journalNamed;
                }

                if (!named)
                {
                    _folderHandle!.Flush();
                    lock (_gate)
                    {
                        _journalNamed = true;
                    }
                }
            }
            catch
            {
                // Note: after a failed fsync Linux may mark the lost pages clean, and a second fsync says all is well:
                // no later sync of this run may pass.
                lock (_gate)
                {
                    _broken = true;
                }

                throw;
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
            SpoolDisk.FlushFiles(_folderHandle!, _folder, names);
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
            _folderHandle?.Dispose();
            _folderHandle = null;
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
                // process is writing right now is left alone. Read-only: a journal left by another user's run is read all
                // the same.
                journal = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None, 64 * 1024, FileOptions.SequentialScan);
            }
            catch (FileNotFoundException)
            {
                continue;
            }
            catch (IOException) when (File.Exists(path))
            {
                continue;
            }

            long? damagedAt;
            using (journal)
            using (var handle = SpoolDisk.Folder.Open(folder))
            {
                var names = new List<string>();
                (var count, damagedAt) = Replay(folder, journal, names);
                restored += count;
                SpoolDisk.FlushFiles(handle, folder, names);
                if (!OperatingSystem.IsWindows())
                {
                    Retire(path, damagedAt);
                }
            }

            if (OperatingSystem.IsWindows())
            {
                Retire(path, damagedAt);
            }

            if (damagedAt is { } offset)
            {
                throw new IOException(string.Create(CultureInfo.InvariantCulture,
                    $"The spool journal {path} is damaged at byte {offset}, before records that are whole: the message stored there may be missing from the spool. Every whole record was written to its file; the journal is kept as {path}.damaged."));
            }
        }

        return restored;
    }

    /// <summary>Deletes a replayed journal, or keeps one that is damaged in the middle under another name.</summary>
    private static void Retire(string path, long? damagedAt)
    {
        if (damagedAt is null)
        {
            File.Delete(path);
        }
        else
        {
            File.Move(path, path + ".damaged", overwrite: true);
        }
    }

    /// <summary>
    /// Writes again each message of <paramref name="journal"/> whose file is missing or differs. Stops where the records
    /// end: at a record cut short, the tail a crash left (never synced, so never committed). A record whose bytes do not
    /// match its hash is skipped; if a whole record follows it, it was damaged in the middle, not cut off at the end, and
    /// its offset is returned.
    /// </summary>
    private static (int Restored, long? DamagedAt) Replay(string folder, FileStream journal, List<string> names)
    {
        var restored = 0;
        long? skipped = null;
        long? damagedAt = null;
        var header = new byte[HeaderLength];
        while (true)
        {
            var offset = journal.Position;
            if (!ReadAll(journal, header))
            {
                break;
            }

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
            // Note: only a name the spool gives (32 hex digits and .eml): a damaged or planted journal never writes
            // outside the folder, nor any other kind of file.
            if (!CryptographicOperations.FixedTimeEquals(check.GetHashAndReset(), hash) || !IsSpoolName(name))
            {
                skipped ??= offset;
                continue;
            }

            damagedAt ??= skipped;
            names.Add(name);
            var path = Path.Combine(folder, name);
            if (IsSame(path, content))
            {
                continue;
            }

            // Note: the file there (if any) is cut short or damaged: the whole message replaces it.
            Replace(path, content);
            restored++;
        }

        return (restored, damagedAt);
    }

    private static bool IsSpoolName(string name) =>
        name.Length == 36 && name.EndsWith(".eml", StringComparison.Ordinal) && name.AsSpan(0, 32).IndexOfAnyExcept(HexDigits) < 0;

    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdef");

    private static bool IsSame(string path, ReadOnlySpan<byte> content)
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

    /// <summary>
    /// Writes <paramref name="content"/> as the file <paramref name="path"/>, straight under its final name: the journal,
    /// not a temporary name, is what a crash half-way falls back on (see the class remarks).
    /// </summary>
    private static void WriteFile(string path, ReadOnlySpan<byte> content)
    {
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.None);
        }
        catch (IOException) when (File.Exists(path))
        {
            if (!IsSame(path, content))
            {
                Replace(path, content);
            }

            return;
        }

        try
        {
            using (file)
            {
                file.Write(content);
            }
        }
        catch
        {
            // Ours, and cut short: never left under the message's name.
            TryDelete(path);
            throw;
        }
    }

    /// <summary>Replaces the file at <paramref name="path"/> as a whole: a temporary file given its name.</summary>
    private static void Replace(string path, ReadOnlySpan<byte> content)
    {
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.None))
            {
                file.Write(content);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>Creates the run's journal, locked against another process's <see cref="Recover"/>.</summary>
    /// <remarks>
    /// Note: on Unix the lock (flock) is taken just after the file is opened, not with it: the journal is created under
    /// another name and given its own only once it is locked, so Recover never finds it unlocked and empty. On Windows the
    /// open itself shares nothing, and an open file cannot be renamed.
    /// </remarks>
    private FileStream OpenJournal()
    {
        var path = Path.Combine(_folder, Guid.NewGuid().ToString("N") + JournalExtension);
        if (OperatingSystem.IsWindows())
        {
            _journal = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.None);
        }
        else
        {
            var creating = path + ".new";
            _journal = new FileStream(creating, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.None);
            try
            {
                File.Move(creating, path);
            }
            catch
            {
                _journal.Dispose();
                _journal = null;
                TryDelete(creating);
                throw;
            }
        }

        _journalPath = path;
        _journalNamed = false;
        return _journal;
    }

    /// <summary>Appends one record (header, file name, the message, SHA-256 over the three) to the run's journal.</summary>
    private void Append(string name, ReadOnlySpan<byte> record)
    {
        lock (_gate)
        {
            if (_broken)
            {
                throw new IOException($"The spool journal {_journalPath} could not be written before; no message is stored until the next run.");
            }

            var journal = _journal ?? OpenJournal();
            var begin = journal.Position;
            try
            {
                journal.Write(record);
                _names.Add(name);
            }
            catch
            {
                // Note: a record cut short would hide every later one from Recover: cut it off, or refuse all later
                // stores of this run when even that fails.
                try
                {
                    journal.SetLength(begin);
                    journal.Position = begin;
                }
                catch (IOException)
                {
                    _broken = true;
                }

                throw;
            }
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

/// <summary>Flushes to disk: a file by its handle, a folder, or all of a spool folder's files.</summary>
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
    public static void FlushFiles(Folder handle, string folder, IReadOnlyCollection<string> names)
    {
        if (names.Count == 0)
        {
            return;
        }

        if (OperatingSystem.IsLinux())
        {
            handle.SyncFileSystem();
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

        handle.Flush();
    }

    /// <summary>
    /// An open spool folder (a descriptor on Unix; nothing on Windows, where NTFS journals names itself and a folder
    /// cannot be flushed through a handle).
    /// </summary>
    /// <remarks>
    /// Note: held from before the first write: a <c>syncfs</c> reports the write-back errors of the file system since its
    /// descriptor was opened (Linux 5.8 and later), so one opened only at the end could miss an error another account's
    /// flush had already been told of.
    /// </remarks>
    internal sealed class Folder : IDisposable
    {
        private readonly string _path;
        private int _descriptor;

        private Folder(string path, int descriptor)
        {
            _path = path;
            _descriptor = descriptor;
        }

        /// <exception cref="IOException">the folder could not be opened (the message names it)</exception>
        public static Folder Open(string path)
        {
            if (OperatingSystem.IsWindows())
            {
                return new Folder(path, -1);
            }

            // Note: O_RDONLY (0) opens a directory on every Unix without the per-architecture O_DIRECTORY value.
            var descriptor = Unix.Open(Encoding.UTF8.GetBytes(path + "\0"), 0);
            if (descriptor < 0)
            {
                throw new IOException(string.Create(CultureInfo.InvariantCulture,
                    $"The spool directory {path} could not be opened to flush it (errno {Marshal.GetLastPInvokeError()})."));
            }

            return new Folder(path, descriptor);
        }

        /// <summary>Flushes the folder itself: the names in it.</summary>
        public void Flush() => Call(Unix.Fsync);

        /// <summary>Flushes everything of the file system the folder is on (Linux).</summary>
        public void SyncFileSystem() => Call(Unix.Syncfs);

        private void Call(Func<int, int> call)
        {
            if (_descriptor < 0)
            {
                return;
            }

            if (call(_descriptor) != 0)
            {
                throw new IOException(string.Create(CultureInfo.InvariantCulture,
                    $"The spool directory {_path} could not be flushed to disk (errno {Marshal.GetLastPInvokeError()})."));
            }
        }

        public void Dispose()
        {
            if (_descriptor >= 0)
            {
                _ = Unix.Close(_descriptor);
                _descriptor = -1;
            }
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
