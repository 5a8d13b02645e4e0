using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;

namespace TokenAdmin.Benchmarks;

/// <summary>
/// With TOKENADMIN_BENCH_ALLOCATIONS=1, samples the runtime's allocation ticks (about one per 100 KB allocated) by type
/// while a measured phase runs and prints the types that allocate most: a profile of where the bytes go, in process.
/// </summary>
internal sealed class AllocationTally : EventListener
{
    private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);
    private volatile bool _on;

    public static AllocationTally? StartIfAsked()
    {
        if (Environment.GetEnvironmentVariable("TOKENADMIN_BENCH_ALLOCATIONS") != "1")
        {
            return null;
        }

        var tally = new AllocationTally();
        tally._on = true;
        return tally;
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword: AllocationTick
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_on || eventData.EventName is null || !eventData.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || eventData.Payload is null)
        {
            return;
        }

        var type = eventData.PayloadNames!.IndexOf("TypeName") is var t and >= 0 ? eventData.Payload[t] as string ?? "?" : "?";
        var amount = eventData.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(eventData.Payload[a], CultureInfo.InvariantCulture) : 100_000;
        _bytes.AddOrUpdate(type, amount, (_, old) => old + amount);
    }

    public void StopAndPrint(int perItems)
    {
        _on = false;
        var total = _bytes.Values.Sum();
        Console.WriteLine($"Allocation ticks by type (sampled, {total / 1024.0 / Math.Max(1, perItems):0.0} KiB per item):");
        foreach (var (type, bytes) in _bytes.OrderByDescending(p => p.Value).Take(40))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {bytes / 1024.0 / Math.Max(1, perItems),7:0.00} KiB  {type}"));
        }

        Dispose();
    }
}
