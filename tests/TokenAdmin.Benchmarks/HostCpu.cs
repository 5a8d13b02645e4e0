using System.Globalization;

namespace TokenAdmin.Benchmarks;

/// <summary>
/// The whole machine's CPU time as Linux counts it in <c>/proc/stat</c>, read before and after a timed phase, to tell a
/// slow phase from a contended machine: <b>steal</b> is time the hypervisor gave this guest's CPUs to another guest (the
/// benchmark could not run, though it wanted to), <b>busy</b> is what every process here used.
/// </summary>
/// <remarks>
/// Note: added because the same build's herd median moved from 29 to 44 ms within minutes while <c>vmstat</c> showed
/// 5 to 18 % steal. The counters tick 100 times a second per CPU, so a phase shorter than about a quarter
/// second (on two cores) is reported as too short to tell.
/// </remarks>
internal readonly record struct HostCpu(long Busy, long Idle, long Steal)
{
    private long Total => Busy + Idle + Steal;

    /// <summary>The counters now; all zero where <c>/proc/stat</c> cannot be read (not Linux).</summary>
    public static HostCpu Now()
    {
        try
        {
            using var reader = new StreamReader("/proc/stat");
            var fields = reader.ReadLine()?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields is null || fields.Length < 9 || fields[0] != "cpu")
            {
                return default;
            }

            // user nice system idle iowait irq softirq steal (guest time is already counted in user and nice).
            long Field(int index) => long.Parse(fields[index], CultureInfo.InvariantCulture);
            return new HostCpu(Field(1) + Field(2) + Field(3) + Field(6) + Field(7), Field(4) + Field(5), Field(8));
        }
        catch (IOException)
        {
            return default;
        }
        catch (UnauthorizedAccessException)
        {
            return default;
        }
    }

    /// <summary>"host: steal 7 %, busy 61 %" for the time since <paramref name="before"/>.</summary>
    public string Since(HostCpu before)
    {
        var total = Total - before.Total;
        if (before.Total == 0 || total < 50)
        {
            return "host: too short to tell";
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"host: steal {100.0 * (Steal - before.Steal) / total:0} %, busy {100.0 * (Busy - before.Busy) / total:0} %");
    }
}
