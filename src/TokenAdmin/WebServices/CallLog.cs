using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;

namespace TokenAdmin.WebServices;

/// <summary>The debugger's filters; every one optional.</summary>
public sealed class CallLogFilter
{
    public CallDirection? Direction { get; set; }
    public string? WebService { get; set; }
    /// <summary>"2xx", "3xx", "4xx", "5xx" or "error" (no answer).</summary>
    public string? Status { get; set; }
    public DateTime? From { get; set; }
    public DateTime? To { get; set; }
    public string? Text { get; set; }
    public int Page { get; set; } = 1;

    public static readonly IReadOnlyList<string> StatusClasses = ["2xx", "3xx", "4xx", "5xx", "error"];
}

public sealed record CallLogRow(long Id, DateTime At, CallDirection Direction, string? WebService, string? Invoker, string Method, string Url, int? StatusCode, long DurationMs, string? Error, string? Caller);

public sealed record CallLogPage(IReadOnlyList<CallLogRow> Rows, int Page, int Pages, int Total);

/// <summary>Reads the debugger's entries (already redacted when stored).</summary>
public sealed class CallLog(TokenAdminDb db)
{
    public const int PageSize = 50;

    public async Task<CallLogPage> ReadAsync(CallLogFilter filter, CancellationToken cancellationToken)
    {
        var query = db.CallLogEntries.AsNoTracking();
        if (filter.Direction is { } direction)
        {
            query = query.Where(e => e.Direction == direction);
        }

        if (!string.IsNullOrWhiteSpace(filter.WebService))
        {
            var name = filter.WebService.Trim();
            query = query.Where(e => e.WebService == name);
        }

        query = filter.Status switch
        {
            "2xx" => query.Where(e => e.StatusCode >= 200 && e.StatusCode < 300),
            "3xx" => query.Where(e => e.StatusCode >= 300 && e.StatusCode < 400),
            "4xx" => query.Where(e => e.StatusCode >= 400 && e.StatusCode < 500),
            "5xx" => query.Where(e => e.StatusCode >= 500),
            "error" => query.Where(e => e.StatusCode == null),
            _ => query,
        };
        if (filter.From is { } from)
        {
            var f = DateTime.SpecifyKind(from, DateTimeKind.Utc);
            query = query.Where(e => e.At >= f);
        }

        if (filter.To is { } to)
        {
            var t = DateTime.SpecifyKind(to, DateTimeKind.Utc);
            query = query.Where(e => e.At <= t);
        }

        if (!string.IsNullOrWhiteSpace(filter.Text))
        {
            var text = filter.Text.Trim().ToLowerInvariant();
#pragma warning disable CA1862 // EF Core translates ToLower().Contains(); the StringComparison overload has no SQL.
            query = query.Where(e => e.Url.ToLower().Contains(text) || (e.Error != null && e.Error.ToLower().Contains(text))
                || (e.Invoker != null && e.Invoker.ToLower().Contains(text)) || (e.Caller != null && e.Caller.ToLower().Contains(text))
                || (e.RequestBody != null && e.RequestBody.ToLower().Contains(text)) || (e.ResponseBody != null && e.ResponseBody.ToLower().Contains(text)));
#pragma warning restore CA1862
        }

        var total = await query.CountAsync(cancellationToken);
        var pages = Math.Max(1, (total + PageSize - 1) / PageSize);
        var page = Math.Clamp(filter.Page, 1, pages);
        var rows = await query.OrderByDescending(e => e.Id).Skip((page - 1) * PageSize).Take(PageSize)
            .Select(e => new CallLogRow(e.Id, e.At, e.Direction, e.WebService, e.Invoker, e.Method, e.Url, e.StatusCode, e.DurationMs, e.Error, e.Caller))
            .ToListAsync(cancellationToken);
        return new CallLogPage(rows, page, pages, total);
    }

    /// <summary>What the debugger holds now (characters of its text, see <see cref="CallLogBound"/>) and how many calls.</summary>
    public async Task<(long Size, int Calls)> SizeAsync(CancellationToken cancellationToken) =>
        (await CallLogBound.StoredSizeAsync(db, cancellationToken), await db.CallLogEntries.CountAsync(cancellationToken));

    public Task<CallLogEntry?> FindAsync(long id, CancellationToken cancellationToken) =>
        db.CallLogEntries.AsNoTracking().SingleOrDefaultAsync(e => e.Id == id, cancellationToken);

    public async Task<IReadOnlyList<string>> WebServiceNamesAsync(CancellationToken cancellationToken) =>
        await db.CallLogEntries.AsNoTracking().Where(e => e.WebService != null).Select(e => e.WebService!).Distinct().OrderBy(n => n).ToListAsync(cancellationToken);
}
