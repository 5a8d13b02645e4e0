using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.Settings;

namespace TokenAdmin.Pages.Settings;

public sealed class SettingsModel(SettingsStore settings, SettingCatalog catalog) : PageModel
{
    /// <summary>The groups this page edits (SMTP sending has a page of its own).</summary>
    public IReadOnlyList<SettingGroup> Groups { get; } = catalog.Groups.Where(g => g.OnSettingsPage).ToList();

    private IEnumerable<SettingDefinition> Definitions => Groups.SelectMany(g => g.Definitions);

    /// <summary>Field values by setting name; posted as Values[NAME].</summary>
    public Dictionary<string, string?> Values { get; private set; } = new(StringComparer.OrdinalIgnoreCase);

    [BindProperty]
    public List<string> ClearSecrets { get; set; } = [];

    public SettingsSnapshot Current { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Current = await settings.GetAsync(cancellationToken);
        foreach (var definition in Definitions)
        {
            // Every field has its entry (the tag helpers read Values[NAME]); a secret is never shown.
            Values[definition.Name] = definition.Kind == SettingKind.Secret ? null : Current.Get(definition.Name);
        }
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        // Note: read from the form by hand: the dictionary model binder falls back to binding every form field
        // (antiforgery token included) when no Values[...] field was posted.
        foreach (var (key, value) in Request.Form)
        {
            if (key.StartsWith("Values[", StringComparison.Ordinal) && key.EndsWith(']'))
            {
                Values[key[7..^1]] = value.ToString();
            }
        }

        // Note: an unticked checkbox posts nothing; every boolean the form shows is therefore "false" unless posted.
        foreach (var definition in Definitions.Where(d => d.Kind == SettingKind.Boolean && !Values.ContainsKey(d.Name)))
        {
            Values[definition.Name] = "false";
        }

        var result = await settings.UpdateAsync(Values, AdminAuthentication.Actor(User), cancellationToken, ClearSecrets);
        if (!result.Succeeded)
        {
            ModelState.AddSettingErrors(result.Errors, catalog);
            Current = await settings.GetAsync(cancellationToken);
            foreach (var definition in Definitions)
            {
                // A field the form did not send shows its stored value; a secret is never shown again.
                Values[definition.Name] = definition.Kind == SettingKind.Secret ? null
                    : Values.TryGetValue(definition.Name, out var posted) ? posted : Current.Get(definition.Name);
            }

            return Page();
        }

        TempData["Success"] = result.Changed.Count == 0
            ? "Nothing changed."
            : $"Saved: {string.Join(", ", result.Changed)}.";
        return RedirectToPage();
    }
}
