using System.Collections.Frozen;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;
using TokenAdmin.Secrets;

namespace TokenAdmin.Settings;

/// <summary>Reads (cached) and changes (validated, audited) the system settings.</summary>
public sealed class SettingsStore(IServiceScopeFactory scopes, SettingCatalog catalog, ISecretProtector protector, TimeProvider time) : IDisposable
{
    private volatile SettingsSnapshot? _current;
    private readonly SemaphoreSlim _loadLock = new(1, 1);

    /// <summary>Raised after settings changed, so that caches built from them (the OIDC sign-in options) are rebuilt.</summary>
    public event Action? Changed;

    /// <summary>
    /// How stale a node's settings may be: changes made elsewhere (a console verb, another node) are read within this
    /// time. Changes made through this store apply at once.
    /// </summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(30);

    public async ValueTask<SettingsSnapshot> GetAsync(CancellationToken cancellationToken = default)
    {
        // Note: every page reads settings (banner, path base); the snapshot makes that free after the first load.
        if (_current is { } snapshot && time.GetUtcNow() - snapshot.LoadedAt < MaxAge)
        {
            return snapshot;
        }

        await _loadLock.WaitAsync(cancellationToken);
        try
        {
            var previous = _current;
            if (previous is not null && time.GetUtcNow() - previous.LoadedAt < MaxAge)
            {
                return previous;
            }

            using var scope = scopes.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<TokenAdminDb>();
            var rows = await db.Settings.AsNoTracking().ToDictionaryAsync(s => s.Name, s => s.Value, cancellationToken);
            var loaded = _current = new SettingsSnapshot(rows.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase), catalog, protector, time.GetUtcNow());
            if (previous is not null && !previous.SameValues(loaded))
            {
                Changed?.Invoke();
            }

            return loaded;
        }
        finally
        {
            _loadLock.Release();
        }
    }

    /// <summary>
    /// Validates every change first and writes all or nothing. A secret given as empty or null keeps the stored value;
    /// <paramref name="clearSecrets"/> names secrets to remove.
    /// </summary>
    public async Task<SettingsUpdateResult> UpdateAsync(
        IReadOnlyDictionary<string, string?> changes, string actor, CancellationToken cancellationToken,
        IReadOnlyCollection<string>? clearSecrets = null)
    {
        var errors = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var normalized = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, raw) in changes)
        {
            var definition = catalog.Find(name);
            if (definition is null)
            {
                errors[name] = $"There is no setting named '{name}'. See `config list` for the names.";
                continue;
            }

            var value = raw?.Trim();
            if (definition.Kind == SettingKind.Secret && string.IsNullOrEmpty(value))
            {
                continue;
            }

            value ??= "";
            if (definition.Check(value) is { } error)
            {
                errors[definition.Name] = error;
                continue;
            }

            normalized[definition.Name] = value;
        }

        foreach (var name in clearSecrets ?? [])
        {
            if (catalog.Find(name) is { Kind: SettingKind.Secret } definition && !normalized.ContainsKey(definition.Name))
            {
                normalized[definition.Name] = null;
            }
        }

        if (errors.Count == 0)
        {
            CheckCombination(await GetAsync(cancellationToken), normalized, errors);
        }

        if (errors.Count > 0)
        {
            return new SettingsUpdateResult(errors, []);
        }

        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenAdminDb>();
        var rows = await db.Settings.Where(s => normalized.Keys.Contains(s.Name)).ToDictionaryAsync(s => s.Name, cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        var changed = new List<string>();
        foreach (var (name, value) in normalized)
        {
            var definition = catalog.Find(name)!;
            var isSecret = definition.Kind == SettingKind.Secret;
            rows.TryGetValue(name, out var row);
            var old = row?.Value ?? (isSecret ? "" : definition.DefaultValue);
            if (!isSecret && old == value)
            {
                continue;
            }

            if (isSecret && value is null && row is null)
            {
                continue;
            }

            var stored = value is null ? "" : isSecret ? protector.Protect(value) : value;
            if (row is null)
            {
                db.Settings.Add(new Setting { Name = name, Value = stored, ChangedAt = now, ChangedBy = actor });
            }
            else
            {
                row.Value = stored;
                row.ChangedAt = now;
                row.ChangedBy = actor;
            }

            var details = isSecret ? (value is null ? "secret removed" : "secret changed") : $"'{old}' → '{value}'";
            AuditLog.Add(db, time, actor, "setting.updated", name, details);
            changed.Add(name);
        }

        if (changed.Count > 0)
        {
            await db.SaveChangesAsync(cancellationToken);
            Invalidate();
        }

        return new SettingsUpdateResult(errors, changed);
    }

    /// <summary>Drops the cached snapshot; the next read loads the database again.</summary>
    public void Invalidate()
    {
        _current = null;
        Changed?.Invoke();
    }

    public void Dispose() => _loadLock.Dispose();

    private void CheckCombination(SettingsSnapshot current, Dictionary<string, string?> changes, Dictionary<string, string> errors)
    {
        string After(string name) => changes.TryGetValue(name, out var v) ? v ?? "" : current.Get(name);
        bool SecretAfter(string name) => changes.TryGetValue(name, out var v) ? v is not null : current.IsSet(name);
        catalog.CheckCombination(After, SecretAfter, errors);
    }
}

public sealed record SettingsUpdateResult(IReadOnlyDictionary<string, string> Errors, IReadOnlyList<string> Changed)
{
    public bool Succeeded => Errors.Count == 0;
}
