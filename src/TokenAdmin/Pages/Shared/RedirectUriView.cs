namespace TokenAdmin.Pages.Forms;

/// <summary>
/// What _RedirectUri.cshtml renders on a form whose source signs a person in with the authorization code flow: the
/// redirect URI to register at the provider (built from the public URL setting), in a read-only field with a copy
/// button (site.js; without the script the field's text is selected and copied by hand).
/// </summary>
/// <param name="Help">What the URI is for on this form.</param>
/// <param name="ShowFor">The data-shows group of the form's flow (grant type) select, or null: always shown.</param>
/// <param name="When">The values of that select that show the field.</param>
/// <param name="Hidden">Rendered hidden: the chosen flow signs nobody in.</param>
public sealed record RedirectUriView(string Help, string? ShowFor = null, string? When = null, bool Hidden = false);
