using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace TokenAdmin.Data;

/// <summary>
/// Gives every changed entity a new concurrency <c>Version</c> when it is saved, so no service sets it by hand: an
/// admin's form that was opened before the change is then refused instead of overwriting it. Bulk updates
/// (<c>ExecuteUpdate</c>: the row lease, the mail fetcher's status) leave it alone on purpose. Derived columns
/// (<see cref="IDerivedColumns"/>) are recomputed here too, before the stamp.
/// </summary>
public sealed class VersionStamp : SaveChangesInterceptor
{
    public const string PropertyName = "Version";

    public static readonly VersionStamp Instance = new();

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Stamp(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Stamp(eventData.Context);
        return ValueTask.FromResult(result);
    }

    private static void Stamp(DbContext? context)
    {
        if (context is null)
        {
            return;
        }

        // Note: one scan for changes; everything after reads the states it left. ChangeTracker.Entries() would scan again
        // on each call while AutoDetectChangesEnabled (each scan compares and boxes every property of every tracked
        // entity: most of the cost of saving a batch of refreshed tokens), so it is switched off meanwhile; a derived
        // column that changed is detected on its own entry.
        var tracker = context.ChangeTracker;
        tracker.DetectChanges();
        var autoDetect = tracker.AutoDetectChangesEnabled;
        tracker.AutoDetectChangesEnabled = false;
        try
        {
            foreach (var entry in tracker.Entries())
            {
                if (entry.State is not (EntityState.Added or EntityState.Modified))
                {
                    continue;
                }

                if (entry.Entity is IDerivedColumns derived)
                {
                    DerivedColumns.Derive(entry, derived);
                }

                if (entry.State == EntityState.Modified
                    && entry.Metadata.FindProperty(PropertyName) is { IsConcurrencyToken: true } property && property.ClrType == typeof(string))
                {
                    // Note: only the current value changes; EF Core still compares the original one in the UPDATE's WHERE.
                    entry.Property(property).CurrentValue = Guid.NewGuid().ToString("N");
                }
            }
        }
        finally
        {
            tracker.AutoDetectChangesEnabled = autoDetect;
        }
    }
}
