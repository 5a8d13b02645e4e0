using Microsoft.AspNetCore.Mvc.ModelBinding;

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
}
