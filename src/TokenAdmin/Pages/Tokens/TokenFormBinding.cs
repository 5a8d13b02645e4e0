using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace TokenAdmin.Pages.Tokens;

internal static class TokenFormBinding
{
    private static readonly Dictionary<string, string> Fields = new()
    {
        ["Input.RefreshTokenLifetimeDays"] = "refreshToken.lifetimeDays",
        ["Input.ExpiringSoonDays"] = "notifications.expiringSoonDays",
        ["Input.LeadTimeSeconds"] = "leadTimeSeconds",
        ["Input.ClientSecretExpires"] = "clientSecretExpires",
    };

    /// <summary>Form values the binder could not read (a word in a number field) become messages next to their fields.</summary>
    public static void AddBindingErrors(ModelStateDictionary modelState, Dictionary<string, string> errors)
    {
        foreach (var (key, entry) in modelState)
        {
            if (entry.Errors.Count > 0)
            {
                var message = Fields.TryGetValue(key, out var field)
                    ? (field, field == "clientSecretExpires" ? $"'{entry.AttemptedValue}' is not a date (YYYY-MM-DD)." : $"'{entry.AttemptedValue}' is not a whole number.")
                    : ("", $"The form field {key} could not be read.");
                errors.TryAdd(message.Item1, message.Item2);
            }
        }
    }
}
