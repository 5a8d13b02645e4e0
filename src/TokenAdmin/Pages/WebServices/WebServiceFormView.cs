using Microsoft.AspNetCore.Mvc.ModelBinding;
using TokenAdmin.WebServices;

namespace TokenAdmin.Pages.WebServices;

public sealed record WebServiceFormView(
    WebServiceInput Input, IReadOnlyDictionary<string, string> Errors, bool HasPassword, IReadOnlyList<(string Value, string Name)> Sources);

internal static class WebServiceFormBinding
{
    /// <summary>Form values the binder could not read (a word in a number field) become messages next to their fields.</summary>
    public static void AddBindingErrors(ModelStateDictionary modelState, Dictionary<string, string> errors)
    {
        foreach (var (key, entry) in modelState)
        {
            if (entry.Errors.Count > 0)
            {
                var field = key.StartsWith("Input.", StringComparison.Ordinal) ? key[6..] : "";
                errors.TryAdd(field, field.Length > 0 ? $"'{entry.AttemptedValue}' is not a valid value here." : $"The form field {key} could not be read.");
            }
        }
    }
}
