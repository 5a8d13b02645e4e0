using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace TokenAdmin.Tokens;

/// <summary>
/// Token endpoint metrics on the meter "TokenAdmin" (docs/operations.md, Metrics):
/// <c>tokenadmin.token_requests</c> by grant type and result, <c>tokenadmin.token_request.duration</c> in seconds.
/// </summary>
public sealed class TokenMetrics
{
    public const string MeterName = "TokenAdmin";

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;

    public TokenMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _requests = meter.CreateCounter<long>("tokenadmin.token_requests", "{request}", "Requests to token endpoints, by grant type and result.");
        _duration = meter.CreateHistogram<double>("tokenadmin.token_request.duration", "s", "Time a token endpoint took to answer, retries included.");
    }

    /// <param name="result">ok, or the failure code (invalid_grant, timeout, http_500, ...).</param>
    public void Record(string grantType, string result, long startedTimestamp)
    {
        var grant = new KeyValuePair<string, object?>("grant_type", grantType);
        _requests.Add(1, grant, new KeyValuePair<string, object?>("result", result));
        _duration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds, grant);
    }
}
