using System.Globalization;
using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;
using TokenAdmin.Settings;

namespace TokenAdmin.WebServices;

/// <summary>
/// Bounds the debugger's total size (setting Debugger.MaxSizeMB): the size of an entry is the characters of its text
/// columns; beyond the limit the oldest entries go first, down to 90 % of it, so the next calls do not trim again at once.
/// </summary>
public static class CallLogBound
{
    public const long Megabyte = 1024 * 1024;

    /// <summary>The stored size of one entry, as SQL can compute it on SQLite and PostgreSQL alike.</summary>
    public static readonly Expression<Func<CallLogEntry, long>> Size = e =>
        (long)e.Url.Length + e.Method.Length + e.RequestHeaders.Length + e.ResponseHeaders.Length
        + (e.RequestBody == null ? 0 : e.RequestBody.Length) + (e.ResponseBody == null ? 0 : e.ResponseBody.Length)
        + (e.Error == null ? 0 : e.Error.Length) + (e.WebService == null ? 0 : e.WebService.Length)
        + (e.Invoker == null ? 0 : e.Invoker.Length) + (e.Caller == null ? 0 : e.Caller.Length);

    private static readonly Func<CallLogEntry, long> SizeInMemory = Size.Compile();

    private sealed record IdSize(long Id, long Size);

    private static readonly Expression<Func<CallLogEntry, IdSize>> IdAndSize = Expression.Lambda<Func<CallLogEntry, IdSize>>(
        Expression.New(typeof(IdSize).GetConstructor([typeof(long), typeof(long)])!,
            Expression.Property(Size.Parameters[0], nameof(CallLogEntry.Id)), Size.Body),
        Size.Parameters[0]);

    public static long SizeOf(CallLogEntry entry) => SizeInMemory(entry);

    public static long MaxSize(SettingsSnapshot settings) =>
        (long.TryParse(settings.Get(DebuggerSettings.MaxSizeMb), NumberStyles.None, CultureInfo.InvariantCulture, out var mb) && mb >= 1 ? mb : 100) * Megabyte;

    public static Task<long> StoredSizeAsync(TokenAdminDb db, CancellationToken cancellationToken) =>
        db.CallLogEntries.AsNoTracking().Select(Size).SumAsync(cancellationToken);

    /// <summary>Removes the oldest entries while the debugger holds more than <paramref name="maxSize"/>; returns the size left and how many went.</summary>
    public static async Task<(long Size, int Removed)> TrimAsync(TokenAdminDb db, long maxSize, CancellationToken cancellationToken)
    {
        var total = await StoredSizeAsync(db, cancellationToken);
        if (total <= maxSize)
        {
            return (total, 0);
        }

        var excess = total - maxSize * 9 / 10;
        long freed = 0;
        long lastId = 0;
        while (freed < excess)
        {
            var after = lastId;
            var batch = await db.CallLogEntries.AsNoTracking().Where(e => e.Id > after).OrderBy(e => e.Id).Take(500)
                .Select(IdAndSize).ToListAsync(cancellationToken);
            if (batch.Count == 0)
            {
                break;
            }

            foreach (var entry in batch)
            {
                freed += entry.Size;
                lastId = entry.Id;
                if (freed >= excess)
                {
                    break;
                }
            }
        }

        var removed = await db.CallLogEntries.Where(e => e.Id <= lastId).ExecuteDeleteAsync(cancellationToken);
        return (total - freed, removed);
    }
}
