using Microsoft.EntityFrameworkCore;

namespace TokenAdmin.Data;

/// <summary>An entity with columns computed from its other columns, kept up to date each time it is saved.</summary>
public interface IDerivedColumns
{
    void DeriveColumns();
}

internal static class DerivedColumns
{
    /// <summary>
    /// Recomputes the derived columns of an added or changed entity. Called by <see cref="VersionStamp"/> before each
    /// save, so no service has to remember it. Bulk updates (<c>ExecuteUpdate</c>) bypass it: they must not change the
    /// columns a derived one is computed from.
    /// </summary>
    public static void Derive(Microsoft.EntityFrameworkCore.ChangeTracking.EntityEntry entry, IDerivedColumns entity)
    {
        entity.DeriveColumns();
        if (entry.State == EntityState.Modified)
        {
            entry.DetectChanges(); // this entry only: a derived column that changed is saved with the rest
        }
    }
}
