using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace TokenAdmin.Mail;

/// <summary>
/// Linux's unnamed files (<c>open(folder, O_TMPFILE)</c>, then <c>linkat</c> through <c>/proc/self/fd</c>): a file is
/// written and flushed before it has a name, and gets its name only if no file has it yet.
/// </summary>
/// <remarks>
/// Note: used on Linux x64 and arm64 only (the flag's value differs between architectures), and only while the file
/// system takes it: a kernel or file system without <c>O_TMPFILE</c> answers EOPNOTSUPP, EISDIR or EINVAL once, and
/// from then on the spool writes named temporary files. Other errors of the open also fall back to the named file,
/// whose own error then speaks .NET's usual words (access denied, disk full).
/// </remarks>
internal static class UnnamedFile
{
    private const int OWriteOnly = 1;
    private const int OCloseOnExec = 0x80000;
    private const int AtCurrentDirectory = -100;
    private const int AtSymlinkFollow = 0x400;
    private const int ErrorExists = 17;
    private const int ErrorIsDirectory = 21;
    private const int ErrorInvalid = 22;
    private const int ErrorNotSupported = 95;

    /// <summary>rw-rw-rw- less the umask: what a FileStream creates.</summary>
    private const int Mode = 0x1B6;

    /// <summary>O_TMPFILE (with O_DIRECTORY, which it includes) on this architecture; 0 where it is not used.</summary>
    private static readonly int TmpFile = !OperatingSystem.IsLinux() || !System.IO.Directory.Exists("/proc/self/fd") ? 0
        : RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 0x410000,
            Architecture.Arm64 => 0x404000,
            _ => 0,
        };

    private static int _refused;

    /// <summary>Whether the spool tries unnamed files at all (Linux x64 or arm64 with /proc).</summary>
    public static bool Available => TmpFile != 0;

    /// <summary>An unnamed file in <paramref name="folder"/>, open for writing; null when the system does not make one.</summary>
    public static SafeFileHandle? TryCreate(string folder)
    {
        if (TmpFile == 0 || Volatile.Read(ref _refused) != 0)
        {
            return null;
        }

        var descriptor = Open(Encoding.UTF8.GetBytes(folder + "\0"), TmpFile | OWriteOnly | OCloseOnExec, Mode);
        if (descriptor >= 0)
        {
            return new SafeFileHandle(descriptor, ownsHandle: true);
        }

        if (Marshal.GetLastPInvokeError() is ErrorNotSupported or ErrorIsDirectory or ErrorInvalid)
        {
            Volatile.Write(ref _refused, 1);
        }

        return null;
    }

    /// <summary>
    /// Flushes the file to disk, then gives it the name <paramref name="path"/> unless a file has that name already (that
    /// one is kept, and this one vanishes when its handle is closed). The directory entry is flushed by the caller
    /// (<see cref="MailSpool.SyncDirectoryAsync"/>).
    /// </summary>
    /// <exception cref="IOException">the flush or the link failed (the message names the file and the errno)</exception>
    public static void FlushAndLink(SafeFileHandle file, string path)
    {
        var added = false;
        file.DangerousAddRef(ref added);
        try
        {
            var descriptor = (int)file.DangerousGetHandle();
            if (Fsync(descriptor) != 0)
            {
                throw new IOException($"The message for {path} could not be flushed to disk (errno {Marshal.GetLastPInvokeError()}).");
            }

            var source = Encoding.UTF8.GetBytes("/proc/self/fd/" + descriptor.ToString(CultureInfo.InvariantCulture) + "\0");
            if (Link(AtCurrentDirectory, source, AtCurrentDirectory, Encoding.UTF8.GetBytes(path + "\0"), AtSymlinkFollow) != 0)
            {
                var error = Marshal.GetLastPInvokeError();
                if (error != ErrorExists)
                {
                    throw new IOException($"The message could not be given its name {path} (errno {error}).");
                }

                // The same server key was stored before (by another process, or a run that died before its commit): the
                // message is the same, and a file an index row may point to is never replaced.
            }
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    // Note: open is variadic in C; on Linux x64 and arm64 the mode travels as an ordinary third argument.
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Open(byte[] path, int flags, int mode);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Fsync(int descriptor);

    [DllImport("libc", EntryPoint = "linkat", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Link(int fromDirectory, byte[] from, int toDirectory, byte[] to, int flags);
}
