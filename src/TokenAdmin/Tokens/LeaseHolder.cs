using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace TokenAdmin.Tokens;

/// <summary>
/// Who holds a row lease, as written into <see cref="TokenState.LeaseOwner"/>: the node (machine name, for people), a
/// machine key (for the liveness check), the process ID and that process's start, when the lease was taken, and a
/// random part that makes each lease unique (two requests of one process never share a lease).
/// </summary>
/// <remarks>
/// Note: the holder is encoded in the existing LeaseOwner column (100 characters) instead of new columns, so no
/// migration is needed, and rows leased by an older version (a bare GUID) still parse as "unknown holder".
/// </remarks>
public sealed record LeaseHolder(string Node, string MachineKey, int ProcessId, string ProcessStart, DateTime TakenAt, string Nonce)
{
    private const string Prefix = "lh1";
    private const char Separator = '|';
    private const int MaxLength = 100;

    /// <summary>A new lease of this process, taken at <paramref name="takenAt"/>.</summary>
    public static LeaseHolder ForThisProcess(DateTime takenAt) =>
        new(ProcessLiveness.NodeName, ProcessLiveness.MachineKey, ProcessLiveness.CurrentProcessId, ProcessLiveness.CurrentProcessStart,
            takenAt, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)));

    /// <summary>The LeaseOwner value; the node name is cut short so the whole fits the column.</summary>
    public string Format()
    {
        var head = string.Join(Separator, Prefix, MachineKey, ProcessId.ToString(CultureInfo.InvariantCulture), ProcessStart,
            new DateTimeOffset(DateTime.SpecifyKind(TakenAt, DateTimeKind.Utc)).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), Nonce) + Separator;
        var node = Node.Replace(Separator, '_');
        return head + node[..Math.Min(node.Length, Math.Max(0, MaxLength - head.Length))];
    }

    /// <summary>The holder written in <paramref name="owner"/>, or null for an owner of another format (an older version's GUID).</summary>
    public static LeaseHolder? Parse(string? owner)
    {
        var parts = owner?.Split(Separator, 7);
        if (parts is not [Prefix, var key, var pid, var start, var taken, var nonce, var node]
            || !int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var processId)
            || !long.TryParse(taken, NumberStyles.None, CultureInfo.InvariantCulture, out var takenMs))
        {
            return null;
        }

        return new LeaseHolder(node, key, processId, start, DateTimeOffset.FromUnixTimeMilliseconds(takenMs).UtcDateTime, nonce);
    }

    public bool IsSameProcess(LeaseHolder other) =>
        MachineKey == other.MachineKey && ProcessId == other.ProcessId && ProcessStart == other.ProcessStart;
}

/// <summary>Whether a lease holder is still running, as far as this process can tell.</summary>
public enum HolderLiveness
{
    /// <summary>Running (this process, or a process on this machine that still has the holder's PID and start time).</summary>
    Alive,

    /// <summary>Known dead: on this machine, and its PID is gone, a zombie, or now another process (another start time).</summary>
    Dead,

    /// <summary>Cannot be told from here: another machine (or PID namespace), or an owner in an unknown format.</summary>
    Unknown,
}

/// <summary>
/// This process's identity for leases, and the check whether another holder still runs. A holder is only ever judged
/// dead when its PID can be looked up here and now: same machine and same PID namespace (the machine key), and the
/// process table can be read. Anything else is <see cref="HolderLiveness.Unknown"/> and treated like a live holder.
/// </summary>
public static class ProcessLiveness
{
    private static readonly Lazy<(string Key, bool Comparable)> Machine = new(ComputeMachineKey);

    public static string NodeName { get; } = Environment.MachineName;

    public static int CurrentProcessId { get; } = Environment.ProcessId;

    public static string CurrentProcessStart { get; } = StartOf(Environment.ProcessId) ?? "?";

    /// <summary>
    /// On Linux a hash of the kernel's boot ID and this process's PID namespace: equal exactly when PIDs mean the same
    /// process (the same host since its last boot, the same container PID namespace). Note: the host name alone is not
    /// enough, as two containers may carry the same host name and both run as PID 1.
    /// </summary>
    public static string MachineKey => Machine.Value.Key;

    public static bool IsThisProcess(LeaseHolder holder) =>
        holder.MachineKey == MachineKey && holder.ProcessId == CurrentProcessId && holder.ProcessStart == CurrentProcessStart;

    public static HolderLiveness Check(LeaseHolder holder)
    {
        if (holder.ProcessId == CurrentProcessId && holder.MachineKey == MachineKey)
        {
            return holder.ProcessStart == CurrentProcessStart ? HolderLiveness.Alive : HolderLiveness.Dead;
        }

        if (holder.MachineKey != MachineKey || !Machine.Value.Comparable)
        {
            return HolderLiveness.Unknown;
        }

        try
        {
            var start = StartOf(holder.ProcessId);
            if (start is null)
            {
                // Note: with /proc mounted hidepid=2 another user's processes are invisible, not gone: no verdict then.
                return ProcessTableComplete() ? HolderLiveness.Dead : HolderLiveness.Unknown;
            }

            return start == holder.ProcessStart ? HolderLiveness.Alive : HolderLiveness.Dead;
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException or InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            return HolderLiveness.Unknown;
        }
    }

    /// <summary>
    /// The start of process <paramref name="pid"/> as an opaque text (clock ticks since boot on Linux), or null when no
    /// such process runs (a zombie counts as gone: it has died, only its parent has not collected it yet).
    /// </summary>
    internal static string? StartOf(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            string stat;
            try
            {
                stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                return null;
            }
            catch (IOException) when (!Directory.Exists($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}"))
            {
                return null; // it exited while being read
            }

            // "pid (comm) state ppid ... starttime(22nd field)": comm may hold spaces and parentheses, so count from the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[0] is "Z" or "X" or "x" ? null : fields[19];
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited ? null : process.StartTime.ToUniversalTime().Ticks.ToString(CultureInfo.InvariantCulture);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static bool ProcessTableComplete()
    {
        if (!OperatingSystem.IsLinux())
        {
            return true;
        }

        try
        {
            return !File.ReadLines("/proc/self/mountinfo").Any(line =>
                line.Contains(" - proc ", StringComparison.Ordinal) && line.Contains("hidepid=", StringComparison.Ordinal)
                && !line.Contains("hidepid=0", StringComparison.Ordinal) && !line.Contains("hidepid=off", StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static (string Key, bool Comparable) ComputeMachineKey()
    {
        string identity;
        var comparable = true;
        try
        {
            identity = OperatingSystem.IsLinux()
                ? File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim() + "/" + (new FileInfo("/proc/self/ns/pid").LinkTarget ?? throw new IOException("no PID namespace link"))
                : Environment.MachineName;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Note: without a machine identity no PID can be compared: a random key makes every other holder "unknown".
            identity = Guid.NewGuid().ToString("N");
            comparable = false;
        }

        return (Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..12], comparable);
    }
}
