using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;

namespace TokenAdmin.Refresh;

/// <summary>A token config the run refreshed.</summary>
public sealed record UpdaterRefresh(string Name, string Why);

/// <summary>A token config the run tried and could not refresh; <paramref name="Reason"/> is the provider's typed reason.</summary>
public sealed record UpdaterFailure(string Name, string Reason, string Message);

/// <summary>A token config the run left alone, and why (not due yet, or it cannot be refreshed without an admin).</summary>
public sealed record UpdaterSkip(string Name, string Reason);

/// <summary>What one run of the token store updater did.</summary>
public sealed record UpdaterRunSummary(
    DateTime StartedAt,
    TimeSpan Duration,
    string TriggeredBy,
    IReadOnlyList<UpdaterRefresh> Refreshed,
    IReadOnlyList<UpdaterFailure> Failed,
    IReadOnlyList<UpdaterSkip> Skipped,
    bool Cancelled = false)
{
    public string Headline =>
        $"refreshed {Refreshed.Count}, failed {Failed.Count}, skipped {Skipped.Count} in {Duration.TotalSeconds:0.0} s{(Cancelled ? " (stopped before it finished)" : "")}";
}

/// <summary>Keeps the summaries of the last <see cref="Kept"/> updater runs in the database (table UpdaterRuns).</summary>
public sealed class UpdaterRunLog(IServiceScopeFactory scopes)
{
    public const int Kept = 20;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Raised after a run's summary was stored, in this process.</summary>
    public event Action<UpdaterRunSummary>? Recorded;

    public async Task RecordAsync(UpdaterRunSummary summary, CancellationToken cancellationToken)
    {
        using (var scope = scopes.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TokenAdminDb>();
            db.Add(new UpdaterRun
            {
                StartedAt = summary.StartedAt,
                FinishedAt = summary.StartedAt + summary.Duration,
                TriggeredBy = summary.TriggeredBy.Length > 200 ? summary.TriggeredBy[..200] : summary.TriggeredBy,
                Refreshed = summary.Refreshed.Count,
                Failed = summary.Failed.Count,
                Skipped = summary.Skipped.Count,
                Cancelled = summary.Cancelled,
                Details = JsonSerializer.Serialize(new Details(summary.Refreshed, summary.Failed, summary.Skipped), Json),
            });
            await db.SaveChangesAsync(cancellationToken);

            // Note: by id, not by time: two nodes' clocks may differ, the order of inserts does not.
            var oldestKept = await db.UpdaterRuns.OrderByDescending(r => r.Id).Skip(Kept - 1).Select(r => (long?)r.Id).FirstOrDefaultAsync(cancellationToken);
            if (oldestKept is { } id)
            {
                await db.UpdaterRuns.Where(r => r.Id < id).ExecuteDeleteAsync(cancellationToken);
            }
        }

        Recorded?.Invoke(summary);
    }

    /// <summary>The last runs, newest first.</summary>
    public async Task<IReadOnlyList<UpdaterRunSummary>> RecentAsync(CancellationToken cancellationToken, int count = Kept)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenAdminDb>();
        var rows = await db.UpdaterRuns.AsNoTracking().OrderByDescending(r => r.Id).Take(count).ToListAsync(cancellationToken);
        return rows.Select(ToSummary).ToList();
    }

    private static UpdaterRunSummary ToSummary(UpdaterRun row)
    {
        var details = JsonSerializer.Deserialize<Details>(row.Details, Json) ?? new Details([], [], []);
        return new UpdaterRunSummary(row.StartedAt, row.FinishedAt - row.StartedAt, row.TriggeredBy,
            details.Refreshed ?? [], details.Failed ?? [], details.Skipped ?? [], row.Cancelled);
    }

    private sealed record Details(IReadOnlyList<UpdaterRefresh>? Refreshed, IReadOnlyList<UpdaterFailure>? Failed, IReadOnlyList<UpdaterSkip>? Skipped);
}
