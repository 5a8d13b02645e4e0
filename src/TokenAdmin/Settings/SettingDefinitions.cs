using System.Collections.Frozen;

namespace TokenAdmin.Settings;

public enum SettingKind { Text, Choice, Boolean, Secret }

/// <summary>What a setting is, how it is shown and what values it accepts.</summary>
public sealed record SettingDefinition(
    string Name,
    string Group,
    string Label,
    string Help,
    string DefaultValue,
    SettingKind Kind = SettingKind.Text,
    IReadOnlyList<string>? Choices = null,
    Func<string, string?>? Validate = null)
{
    /// <summary>Returns an error message, or null when <paramref name="value"/> is acceptable (already trimmed).</summary>
    public string? Check(string value)
    {
        switch (Kind)
        {
            case SettingKind.Choice when !Choices!.Contains(value, StringComparer.Ordinal):
                return $"{Name} must be one of: {string.Join(", ", Choices!)}.";
            case SettingKind.Boolean when value is not ("true" or "false"):
                return $"{Name} must be true or false.";
            default:
                return value.Length > 2000 ? $"{Name} is longer than 2000 characters." : Validate?.Invoke(value);
        }
    }
}

/// <summary>
/// Rules across the settings of one group, checked with the values they will have after a change: <c>after(name)</c>
/// is a setting's value after the change, <c>secretAfter(name)</c> whether a secret will be set. Errors are added by
/// setting name.
/// </summary>
public delegate void SettingCombinationCheck(Func<string, string> after, Func<string, bool> secretAfter, IDictionary<string, string> errors);

/// <summary>
/// The settings one capability contributes (registered with <see cref="SettingServices.AddSettingGroup"/> from its
/// own <c>AddX()</c>): shown together under <see cref="Name"/> on the Settings page unless edited on a page of their own.
/// </summary>
public sealed record SettingGroup(string Name, IReadOnlyList<SettingDefinition> Definitions, SettingCombinationCheck? CheckCombination = null)
{
    /// <summary>False for a group edited on its own page (SMTP sending, where the token source is picked from a list).</summary>
    public bool OnSettingsPage { get; init; } = true;

    /// <summary>The definition named <paramref name="name"/> of this group.</summary>
    public SettingDefinition this[string name] =>
        Definitions.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"{Name} has no setting {name}.", nameof(name));
}

/// <summary>Every setting the registered capabilities contribute, by name (case-insensitive), in registration order.</summary>
public sealed class SettingCatalog
{
    private readonly FrozenDictionary<string, SettingDefinition> _byName;

    public SettingCatalog(IEnumerable<SettingGroup> groups)
    {
        Groups = groups.ToList();
        var byName = new Dictionary<string, SettingDefinition>(StringComparer.OrdinalIgnoreCase);
        foreach (var group in Groups)
        {
            foreach (var definition in group.Definitions)
            {
                if (definition.Group != group.Name)
                {
                    throw new InvalidOperationException($"Setting {definition.Name} says it belongs to '{definition.Group}' but is registered in '{group.Name}'.");
                }

                if (!byName.TryAdd(definition.Name, definition))
                {
                    throw new InvalidOperationException($"Setting {definition.Name} is registered twice.");
                }
            }
        }

        _byName = byName.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        All = Groups.SelectMany(g => g.Definitions).ToList();
    }

    public IReadOnlyList<SettingGroup> Groups { get; }

    public IReadOnlyList<SettingDefinition> All { get; }

    public SettingDefinition? Find(string name) => _byName.GetValueOrDefault(name);

    public SettingGroup Group(string name) =>
        Groups.FirstOrDefault(g => g.Name == name) ?? throw new ArgumentException($"No setting group {name} is registered.", nameof(name));

    /// <summary>Runs every group's rules across settings.</summary>
    public void CheckCombination(Func<string, string> after, Func<string, bool> secretAfter, IDictionary<string, string> errors)
    {
        foreach (var group in Groups)
        {
            group.CheckCombination?.Invoke(after, secretAfter, errors);
        }
    }
}

/// <summary>Parsing and checks that several capabilities' settings share.</summary>
public static class SettingValues
{
    public static IReadOnlyList<string> SplitList(string value) =>
        value.Split([' ', ',', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static string? CheckNumber(string value, int min, int max, string label) =>
        int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? null
            : $"{label} must be a whole number from {min} to {max}.";
}
