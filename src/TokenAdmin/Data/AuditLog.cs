using Microsoft.EntityFrameworkCore;

namespace TokenAdmin.Data;

/// <summary>Writes and reads the audit log. An entry is added to the caller's unit of work, so it commits with the change.</summary>
public static class AuditLog
{
    public const int PageSize = 50;

    public static void Add(TokenAdminDb db, TimeProvider time, string actor, string action, string target, string details = "") =>
        db.AuditEntries.Add(new AuditEntry
        {
            At = time.GetUtcNow().UtcDateTime,
            Actor = Cut(actor, 200),
            Action = Cut(action, 100),
            Target = Cut(target, 300),
            Details = Cut(details, 2000),
        });

    /// <summary>Newest first; <paramref name="filter"/> matches actor, action, target or details.</summary>
    public static async Task<AuditPage> ReadAsync(TokenAdminDb db, string? filter, int page, CancellationToken cancellationToken)
    {
        var query = db.AuditEntries.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(filter))
        {
            // Note: ToLower on both sides keeps the match case-insensitive on SQLite and PostgreSQL alike.
            var f = filter.Trim().ToLowerInvariant();
#pragma warning disable CA1862 // EF Core translates ToLower().Contains(); the StringComparison overload has no SQL.
            query = query.Where(e => e.Actor.ToLower().Contains(f) || e.Action.ToLower().Contains(f)
                || e.Target.ToLower().Contains(f) || e.Details.ToLower().Contains(f));
#pragma warning restore CA1862
        }

        var total = await query.CountAsync(cancellationToken);
        var pages = Math.Max(1, (total + PageSize - 1) / PageSize);
        page = Math.Clamp(page, 1, pages);
        var entries = await query.OrderByDescending(e => e.Id)
            .Skip((page - 1) * PageSize).Take(PageSize)
            .ToListAsync(cancellationToken);
        return new AuditPage(entries, page, pages, total);
    }

    private static string Cut(string value, int max) => value.Length <= max ? value : value[..(max - 1)] + "…";
}

public sealed record AuditPage(IReadOnlyList<AuditEntry> Entries, int Page, int Pages, int Total);
