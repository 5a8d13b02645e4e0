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
/// journal, and the next run's <see cref="Recover"/> writes every message in it to its file again.
/// </para>
/// <para>
/// A file already under a message's name (a run that died before its commit, or another process fetching the same
/// account) is replaced as a whole by the new copy of the same message: it may have been cut short by a crash, and
/// after a failed write-back even its bytes in memory can differ from those on disk, so only a copy written now and
/// flushed with this run is known to be on disk.
/// </para>
/// <para>
/// Note: why a journal. Flushing each file on its own (an <c>fsync</c> of the file, which on ext4 also writes its
/// directory, and a flush of the disk's cache) cost more than anything else the fetcher did: a Graph fetch of 1,000
/// messages took about 1.5 times the bare download loop with it, 1.12-1.24 times with one flush of the journal per
/// batch and one flush of the file system per run (docs/performance.md).
/// </para>
/// </remarks>
public sealed class SpoolWriter : IDisposable
{
    internal const string JournalExtension = ".journal";
    private static ReadOnlySpan<byte> Magic => "TAJ1"u8;
    private const int HeaderLength = 16; // magic, name length (int32), content length (int64), little-endian
    private const int HashLength = 32;
    private const int NameLength = 36; // 32 hex digits and ".eml" (MailSpool.FileName)
    private const int ChunkLength = 81_920;

    /// <summary>
    /// Records up to this size are built in one pooled buffer and written in one call; larger messages (up to the 1 GB
    /// an account allows) are copied in chunks, never held twice in memory nor kept in the pool.
    /// </summary>
    private const int PooledRecordLimit = 1024 * 1024;

    private readonly string _folder;
    private readonly string _account;
    private readonly Lock _gate = new();
    private readonly List<string> _names = [];
    private FileStream? _journal;
    private string? _journalPath;
    private bool _journalNamed;
    private Exception? _failure;
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
        var path = Path.Combine(_folder, name);
        var start = message.Position;
        var size = message.Length - start;
        var header = new byte[HeaderLength + NameLength];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(4), NameLength);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(8), size);
        Encoding.ASCII.GetBytes(name, header.AsSpan(HeaderLength));
        EnsureFolder();
        var length = header.Length + size + HashLength;
        if (length <= PooledRecordLimit)
        {
            // Note: the record is built in one buffer and written in one call; the .eml is written from the same bytes.
            var record = ArrayPool<byte>.Shared.Rent((int)length);
            try
            {
                header.CopyTo(record, 0);
                message.ReadExactly(record, header.Length, (int)size);
                SHA256.HashData(record.AsSpan(0, header.Length + (int)size), record.AsSpan(header.Length + (int)size, HashLength));
                WriteFile(path, file => file.Write(record, header.Length, (int)size));
                Append(name, journal => journal.Write(record, 0, (int)length));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(record);
            }
        }
        else
        {
            WriteFile(path, file =>
            {
                message.Position = start;
                message.CopyTo(file);
            });
            Append(name, journal =>
            {
                message.Position = start;
                CopyRecord(journal, header, message, size, name);
            });
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
        string? journalPath;
        SpoolDisk.Folder? folder;
        lock (_gate)
        {
            if (Failed() is { } failed)
            {
                return Task.FromException(failed);
            }

            journal = _journal;
            journalPath = _journalPath;
            folder = _folderHandle;
        }

        if (journal is null || folder is null)
        {
            return Task.CompletedTask;
        }

        // Note: on the spool's own threads (SpoolFlusher): a blocking fsync on the thread pool starved the downloads
        // that go on meanwhile.
        return SpoolFlusher.Run(() =>
        {
            try
            {
                SpoolDisk.Flush(journal, journalPath!, _gate);
                bool named;
                lock (_gate)
                {
                    named = _journalNamed;
                }

                if (!named)
                {
                    folder.Flush();
                    lock (_gate)
                    {
                        _journalNamed = true;
                    }
                }
            }
            catch (Exception ex)
            {
                // Note: after a failed fsync Linux may mark the lost pages clean, and a second fsync says all is well:
                // no later sync of this run may pass.
                lock (_gate)
                {
                    _failure ??= ex;
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
        string? journalPath;
        SpoolDisk.Folder? folder;
        string[] names;
        lock (_gate)
        {
            journal = _journal;
            journalPath = _journalPath;
            folder = _folderHandle;
            names = [.. _names];
        }

        if (journal is null || folder is null)
        {
            return Task.CompletedTask;
        }

        return SpoolFlusher.Run(() =>
        {
            SpoolDisk.FlushFiles(folder, _folder, names);
            lock (_gate)
            {
                if (!ReferenceEquals(journal, _journal) || _failure is not null || _names.Count != names.Length)
                {
                    // Stored to since (or failed): the journal stays for the next settle or for Recover.
                    return;
                }

                _journal = null;
                _names.Clear();
                // Note: deleted while still locked (Unix), so no other process's Recover opens it in between; Windows
                // cannot delete a file open without sharing.
                if (!OperatingSystem.IsWindows())
                {
                    File.Delete(journalPath!);
                }

                journal.Dispose();
            }

            if (OperatingSystem.IsWindows())
            {
                File.Delete(journalPath!);
            }
        });
    }

    /// <summary>Closes the journal; a journal not settled stays on disk for the next run's <see cref="Recover"/>.</summary>
    /// <remarks>Note: only once every <see cref="SyncAsync"/> and <see cref="SettleAsync"/> has completed.</remarks>
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

        var written = 0;
        foreach (var path in Directory.EnumerateFiles(folder, "*" + JournalExtension))
        {
            if (OpenForRecovery(path) is not { } journal)
            {
                continue;
            }

            long? damagedAt;
            int count;
            using (journal)
            using (var handle = SpoolDisk.Folder.Open(folder))
            {
                var names = new List<string>();
                (count, damagedAt) = Replay(folder, journal, names);
                written += count;
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
                    $"The spool journal {path} is damaged at byte {offset}, before records that are whole: the message stored there may be missing from the spool. The {count} whole record(s) were written to their files; the journal is kept as {path}.damaged."));
            }
        }

        return written;
    }

    /// <summary>Opens a journal to replay it, or null when it is gone or a live run (this or another process) holds it.</summary>
    private static FileStream? OpenForRecovery(string path)
    {
        try
        {
            try
            {
                // Note: FileShare.None takes the lock a live run holds on its journal (flock on Unix), and for writing:
                // on NFS an exclusive flock needs a file open for writing, and without it .NET goes on unlocked.
                return new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, ChunkLength, FileOptions.None);
            }
            catch (UnauthorizedAccessException)
            {
                // A journal another user's run left (a console `mail fetch` as root): read it all the same.
                return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None, ChunkLength, FileOptions.None);
            }
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (IOException) when (File.Exists(path))
        {
            return null;
        }
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
    /// Writes every whole record of <paramref name="journal"/> to its file again. A record that is cut short or fails
    /// its hash is skipped up to the next record start; if a whole record follows, the damage was in the middle, not the
    /// tail a crash leaves (never synced, so never committed), and its offset is returned.
    /// </summary>
    private static (int Written, long? DamagedAt) Replay(string folder, FileStream journal, List<string> names)
    {
        var written = 0;
        long? skippedFrom = null;
        long? damagedAt = null;
        var length = journal.Length;
        var offset = 0L;
        while (offset < length)
        {
            if (ReadRecord(journal, offset, length) is not { } record)
            {
                skippedFrom ??= offset;
                offset = FindMagic(journal, offset + 1, length);
                if (offset < 0)
                {
                    break;
                }

                continue;
            }

            damagedAt ??= skippedFrom;
            names.Add(record.Name);
            ReplaceFile(Path.Combine(folder, record.Name), file => CopyRange(journal, record.ContentOffset, record.Size, file));
            written++;
            offset = record.End;
        }

        return (written, damagedAt);
    }

    private readonly record struct Record(string Name, long ContentOffset, long Size, long End);

    /// <summary>The whole record at <paramref name="offset"/>, or null when it is cut short, malformed or fails its hash.</summary>
    private static Record? ReadRecord(FileStream journal, long offset, long length)
    {
        if (length - offset < HeaderLength + HashLength)
        {
            return null;
        }

        var header = new byte[HeaderLength];
        journal.Position = offset;
        journal.ReadExactly(header);
        var nameLength = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(4));
        var size = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(8));
        if (!header.AsSpan(0, 4).SequenceEqual(Magic) || nameLength != NameLength || size < 0
            || size > length - offset - HeaderLength - nameLength - HashLength)
        {
            return null;
        }

        var nameBytes = new byte[nameLength];
        journal.ReadExactly(nameBytes);
        var name = Encoding.ASCII.GetString(nameBytes);
        // Note: only a name the spool gives (32 hex digits and .eml): a damaged or planted journal never writes outside
        // the folder, nor any other kind of file.
        if (!IsSpoolName(name))
        {
            return null;
        }

        using var check = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        check.AppendData(header);
        check.AppendData(nameBytes);
        if (CopyChunks(journal, size, (buffer, read) => check.AppendData(buffer, 0, read)) > 0)
        {
            return null;
        }

        var hash = new byte[HashLength];
        journal.ReadExactly(hash);
        var contentOffset = offset + HeaderLength + nameLength;
        return CryptographicOperations.FixedTimeEquals(check.GetHashAndReset(), hash)
            ? new Record(name, contentOffset, size, contentOffset + size + HashLength)
            : null;
    }

    /// <summary>The offset of the next record magic at or after <paramref name="from"/>, or -1.</summary>
    private static long FindMagic(FileStream journal, long from, long length)
    {
        var buffer = new byte[ChunkLength];
        for (var at = from; at < length; at += ChunkLength - (Magic.Length - 1))
        {
            journal.Position = at;
            var read = journal.ReadAtLeast(buffer, (int)Math.Min(buffer.Length, length - at), throwOnEndOfStream: false);
            var found = buffer.AsSpan(0, read).IndexOf(Magic);
            if (found >= 0)
            {
                return at + found;
            }

            if (read < buffer.Length)
            {
                break;
            }
        }

        return -1;
    }

    private static void CopyRange(FileStream source, long offset, long size, FileStream target)
    {
        source.Position = offset;
        if (CopyChunks(source, size, (buffer, read) => target.Write(buffer, 0, read)) > 0)
        {
            throw new EndOfStreamException($"The spool journal {source.Name} ended inside a record it had read whole.");
        }
    }

    /// <summary>
    /// Reads <paramref name="size"/> bytes of <paramref name="source"/> in chunks, handing each to <paramref name="sink"/>;
    /// returns how many were missing when the source ended early (0 when all were read).
    /// </summary>
    private static long CopyChunks(Stream source, long size, Action<byte[], int> sink)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkLength);
        try
        {
            var left = size;
            while (left > 0)
            {
                var read = source.Read(buffer, 0, (int)Math.Min(left, ChunkLength));
                if (read == 0)
                {
                    break;
                }

                sink(buffer, read);
                left -= read;
            }

            return left;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static bool IsSpoolName(string name) =>
        name.Length == NameLength && name.EndsWith(".eml", StringComparison.Ordinal) && name.AsSpan(0, 32).IndexOfAnyExcept(HexDigits) < 0;

    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdef");

    private void EnsureFolder()
    {
        lock (_gate)
        {
            if (_folderHandle is null)
            {
                Directory.CreateDirectory(_folder);
                // Note: opened before the first write, so its syncfs at the end reports any write-back error since.
                _folderHandle = SpoolDisk.Folder.Open(_folder);
            }
        }
    }

    private IOException? Failed() =>
        _failure is null ? null : new IOException($"The spool journal {_journalPath} could not be written or flushed earlier in this run ({_failure.Message}); what was stored since is not known to be on disk.", _failure);

    /// <summary>
    /// Writes a message's file straight under its final name: the journal, not a temporary name, is what a crash half-way
    /// falls back on. A file already there is replaced whole (see the class remarks).
    /// </summary>
    private static void WriteFile(string path, Action<FileStream> write)
    {
        FileStream file;
        try
        {
            // Note: FileShare.Read: another process's store of the same message (its replace) is not refused meanwhile.
            file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0, FileOptions.None);
        }
        catch (IOException) when (File.Exists(path))
        {
            ReplaceFile(path, write);
            return;
        }

        try
        {
            using (file)
            {
                write(file);
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
    private static void ReplaceFile(string path, Action<FileStream> write)
    {
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.None))
            {
                write(file);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>Appends one record to the run's journal; a record cut short by a failed write is cut off again.</summary>
    private void Append(string name, Action<FileStream> write)
    {
        lock (_gate)
        {
            if (Failed() is { } failed)
            {
                throw failed;
            }

            var journal = _journal ?? OpenJournal();
            var begin = journal.Position;
            try
            {
                write(journal);
                _names.Add(name);
            }
            catch (Exception ex)
            {
                // Note: a record cut short would hide later ones from Recover: cut it off, or refuse all later stores of
                // this run when even that fails.
                try
                {
                    journal.SetLength(begin);
                    journal.Position = begin;
                }
                catch (IOException)
                {
                    _failure ??= ex;
                }

                throw;
            }
        }
    }

    /// <summary>Writes a large message's record in chunks: header and name, the message, SHA-256 over all of it.</summary>
    private static void CopyRecord(FileStream journal, byte[] header, Stream message, long size, string name)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(header);
        journal.Write(header);
        var missing = CopyChunks(message, size, (buffer, read) =>
        {
            hash.AppendData(buffer, 0, read);
            journal.Write(buffer, 0, read);
        });
        if (missing > 0)
        {
            throw new IOException($"The message for {name} ended {missing} bytes early while it was copied into the spool journal.");
        }

        journal.Write(hash.GetHashAndReset());
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
        FileStream journal;
        if (OperatingSystem.IsWindows())
        {
            journal = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.None);
        }
        else
        {
            var creating = path + ".new";
            journal = new FileStream(creating, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.None);
            try
            {
                File.Move(creating, path);
            }
            catch
            {
                journal.Dispose();
                TryDelete(creating);
                throw;
            }
        }

        _journal = journal;
        _journalPath = path;
        _journalNamed = false;
        return journal;
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

        if (WithDescriptor(handle, Unix.Fsync) != 0)
        {
            throw new IOException($"The spool journal {path} could not be flushed to disk (errno {Marshal.GetLastPInvokeError()}).");
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

    private static int WithDescriptor(SafeHandle handle, Func<int, int> call)
    {
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            return call((int)handle.DangerousGetHandle());
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
        private const int CloseOnExecLinux = 0x80000;
        private readonly string _path;
        private readonly SafeFileHandle? _handle;

        private Folder(string path, SafeFileHandle? handle)
        {
            _path = path;
            _handle = handle;
        }

        /// <exception cref="IOException">the folder could not be opened (the message names it)</exception>
        public static Folder Open(string path)
        {
            if (OperatingSystem.IsWindows())
            {
                return new Folder(path, null);
            }

            // Note: O_RDONLY (0) opens a directory on every Unix without the per-architecture O_DIRECTORY value.
            var descriptor = Unix.Open(Encoding.UTF8.GetBytes(path + "\0"), OperatingSystem.IsLinux() ? CloseOnExecLinux : 0);
            if (descriptor < 0)
            {
                throw new IOException(string.Create(CultureInfo.InvariantCulture,
                    $"The spool directory {path} could not be opened to flush it (errno {Marshal.GetLastPInvokeError()})."));
            }

            return new Folder(path, new SafeFileHandle(descriptor, ownsHandle: true));
        }

        /// <summary>Flushes the folder itself: the names in it.</summary>
        public void Flush() => Call(Unix.Fsync);

        /// <summary>Flushes everything of the file system the folder is on (Linux).</summary>
        public void SyncFileSystem() => Call(Unix.Syncfs);

        private void Call(Func<int, int> call)
        {
            if (_handle is not null && WithDescriptor(_handle, call) != 0)
            {
                throw new IOException(string.Create(CultureInfo.InvariantCulture,
                    $"The spool directory {_path} could not be flushed to disk (errno {Marshal.GetLastPInvokeError()})."));
            }
        }

        public void Dispose() => _handle?.Dispose();
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
    }
}
