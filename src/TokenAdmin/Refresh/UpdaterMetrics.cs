using System.Diagnostics.Metrics;

namespace TokenAdmin.Refresh;

/// <summary>
/// Counters of the token store updater, on the meter "TokenAdmin" (docs/operations.md, Metrics):
/// <c>tokenadmin.updater.runs</c> by result (succeeded, failed, cancelled) and <c>tokenadmin.updater.refreshes</c> by
/// result (refreshed, failed; failed ones also by reason).
/// </summary>
public sealed class UpdaterMetrics
{
    public const string MeterName = Tokens.TokenMetrics.MeterName;

    private readonly Counter<long> _runs;
    private readonly Counter<long> _refreshes;

    public UpdaterMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _runs = meter.CreateCounter<long>("tokenadmin.updater.runs", "{run}", "Token store updater runs, by result.");
        _refreshes = meter.CreateCounter<long>("tokenadmin.updater.refreshes", "{refresh}", "Token refreshes done by the token store updater, by result.");
    }

    public void Record(UpdaterRunSummary summary)
    {
        var result = summary.Cancelled ? "cancelled" : summary.Failed.Count > 0 ? "failed" : "succeeded";
        _runs.Add(1, new KeyValuePair<string, object?>("result", result));
        if (summary.Refreshed.Count > 0)
        {
            _refreshes.Add(summary.Refreshed.Count, new KeyValuePair<string, object?>("result", "refreshed"));
        }

        foreach (var reasons in summary.Failed.GroupBy(f => f.Reason))
        {
            _refreshes.Add(reasons.Count(), new KeyValuePair<string, object?>("result", "failed"), new KeyValuePair<string, object?>("reason", reasons.Key));
        }
    }
}
