using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.Mvc.ModelBinding.Metadata;
using TokenAdmin.Settings;

namespace TokenAdmin.Pages;

/// <summary>The form convention's one way to put a capability service's messages into ModelState (docs/forms.md).</summary>
public static class FormErrors
{
    /// <summary>
    /// Adds a service's messages (field name → message, "" for the whole form) under <paramref name="prefix"/>, so
    /// each shows next to its field and in the summary. A field that already has an error keeps only that one: the
    /// binder's "'abc' is not a number" says more than the service's "is required" for the value it never got.
    /// </summary>
    public static void AddFieldErrors(this ModelStateDictionary modelState, IEnumerable<KeyValuePair<string, string>> errors, string prefix = "Input")
    {
        foreach (var (field, message) in errors)
        {
            var key = field.Length == 0 ? "" : $"{prefix}.{field}";
            if (modelState.TryGetValue(key, out var entry) && entry.Errors.Count > 0)
            {
                continue;
            }

            modelState.AddModelError(key, message);
        }
    }

    /// <summary>
    /// Adds a capability's messages whose keys are not the input's property names (a token config's validator keys by
    /// the YAML path, "endpoints.token"): <paramref name="fieldOf"/> names the property ("" for the whole form), and a
    /// message that does not start with the field's label gets it in front ("Lead time (seconds): ..."), so every
    /// message names its field the way the form labels it.
    /// </summary>
    public static void AddLabelledErrors(this ModelStateDictionary modelState, IEnumerable<KeyValuePair<string, string>> errors, Func<string, string> fieldOf,
        IModelMetadataProvider metadata, Type inputType, string prefix = "Input")
    {
        var properties = metadata.GetMetadataForProperties(inputType).ToDictionary(p => p.PropertyName!, StringComparer.Ordinal);
        foreach (var (key, message) in errors)
        {
            var field = fieldOf(key);
            if (field.Length > 0 && properties.TryGetValue(field, out var property))
            {
                modelState.AddFieldErrors([new(field, WithLabel(property.GetDisplayName(), message))], prefix);
            }
            else
            {
                modelState.AddFieldErrors([new("", message)], prefix);
            }
        }
    }

    /// <summary>The message as it names the field: unchanged when it starts with the label (without a "(days)" at its end), else "Label: message".</summary>
    public static string WithLabel(string label, string message)
    {
        var plain = label.IndexOf(" (", StringComparison.Ordinal) is var at and > 0 ? label[..at] : label;
        if (message.StartsWith(plain, StringComparison.OrdinalIgnoreCase))
        {
            return message;
        }

        var first = message.Length > 1 && char.IsLower(message[1]) ? char.ToLowerInvariant(message[0]) : message[0];
        return $"{label}: {first}{message[1..]}";
    }

    /// <summary>Forgets what was typed into write-only fields, so the tag helpers cannot render it back (their errors stay).</summary>
    public static void ForgetValues(this ModelStateDictionary modelState, params string[] keys)
    {
        foreach (var key in keys)
        {
            if (modelState.ContainsKey(key))
            {
                modelState.SetModelValue(key, null, null);
            }
        }
    }

    /// <summary>
    /// A "Show the fields" post (a change of template, flow or grant without JavaScript): the form is shown again as
    /// typed, without messages, since nothing was meant to be saved yet.
    /// </summary>
    public static void ClearErrors(this ModelStateDictionary modelState)
    {
        foreach (var entry in modelState.Values)
        {
            entry.Errors.Clear();
        }
    }

    /// <summary>The form field of a system setting on the Settings and SMTP pages: <c>Values[NAME]</c>.</summary>
    public static string SettingField(string name) => $"Values[{name}]";

    /// <summary>
    /// Adds the settings store's messages (setting name → message) next to their fields. The store names a setting by
    /// its name (the console's word, "FQDN"); the page's message names it by the label the admin reads.
    /// </summary>
    public static void AddSettingErrors(this ModelStateDictionary modelState, IReadOnlyDictionary<string, string> errors, SettingCatalog catalog)
    {
        foreach (var (name, message) in errors)
        {
            if (catalog.Find(name) is { } definition)
            {
                modelState.AddModelError(SettingField(definition.Name), WithLabel(definition, message));
            }
            else
            {
                modelState.AddModelError("", message);
            }
        }
    }

    internal static string WithLabel(SettingDefinition definition, string message)
    {
        if (message.StartsWith(definition.Label, StringComparison.Ordinal))
        {
            return message;
        }

        if (message.StartsWith(definition.Name, StringComparison.Ordinal) && message.Length > definition.Name.Length && message[definition.Name.Length] is ' ' or ':')
        {
            return definition.Label + message[definition.Name.Length..];
        }

        // "The mailbox has no spaces" reads on as "...: the mailbox has no spaces"; "OIDC sign-in ..." keeps its capitals.
        var first = message.Length > 1 && char.IsLower(message[1]) ? char.ToLowerInvariant(message[0]) : message[0];
        return $"{definition.Label}: {first}{message[1..]}";
    }
}
