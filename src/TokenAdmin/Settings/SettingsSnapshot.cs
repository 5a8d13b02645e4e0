using System.Collections.Frozen;
using TokenAdmin.Secrets;

namespace TokenAdmin.Settings;

/// <summary>An immutable view of all settings at one moment; secrets stay encrypted until asked for.</summary>
public sealed class SettingsSnapshot(FrozenDictionary<string, string> stored, SettingCatalog catalog, ISecretProtector protector, DateTimeOffset loadedAt)
{
    public DateTimeOffset LoadedAt => loadedAt;

    internal bool SameValues(SettingsSnapshot other) =>
        stored.Count == other.Stored.Count && stored.All(kv => other.Stored.TryGetValue(kv.Key, out var v) && v == kv.Value);

    private FrozenDictionary<string, string> Stored => stored;

    public string Get(string name)
    {
        var definition = catalog.Find(name) ?? throw new ArgumentException($"Unknown setting {name}.", nameof(name));
        if (definition.Kind == SettingKind.Secret)
        {
            throw new InvalidOperationException($"{name} is a secret; use GetSecret.");
        }

        return stored.TryGetValue(definition.Name, out var value) ? value : definition.DefaultValue;
    }

    public bool GetBool(string name) => Get(name) == "true";

    public bool IsSet(string name) => stored.TryGetValue(name, out var value) && value.Length > 0;

    /// <summary>Whether a value was ever written for <paramref name="name"/> (even an empty one), as opposed to its default.</summary>
    public bool IsStored(string name) => stored.ContainsKey(name);

    /// <summary>The decrypted secret, or null when none is stored.</summary>
    public string? GetSecret(string name) =>
        stored.TryGetValue(name, out var value) && value.Length > 0 ? protector.Unprotect(value) : null;

    /// <summary>http(s)://FQDN/PathBase, without a trailing slash: what browsers and providers use to reach TokenAdmin.</summary>
    public string PublicBaseUrl => $"{Get(PublicUrlSettings.HttpType)}://{Get(PublicUrlSettings.Fqdn)}{Get(PublicUrlSettings.PathBase)}";

    /// <summary>The OAuth2 redirect URI to register at every provider.</summary>
    public string RedirectUri => PublicBaseUrl + "/oauth2/callback";

    /// <summary>True when FQDN names this machine itself, where plain http is harmless.</summary>
    public bool IsLoopbackHost => Loopback.IsLoopback(new Uri(PublicBaseUrl));

    /// <summary>Plain http on a host other people reach: tokens and passwords would cross the network in clear.</summary>
    public bool IsInsecurePublicUrl => Get(PublicUrlSettings.HttpType) != "https" && !IsLoopbackHost;
}
