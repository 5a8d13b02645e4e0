using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.Oidc;

namespace TokenAdmin.Pages.OidcProfiles;

/// <summary>Add (no id) or edit an OIDC profile; "Test" fetches the saved profile's discovery document and keys.</summary>
public sealed class OidcProfilesEditModel(OidcProfileService profiles, OidcProfileRuntime runtime) : PageModel
{
    [BindProperty]
    public OidcProfileInput Input { get; set; } = new();

    public OidcProfile? Profile { get; private set; }
    public DiscoveryReport? Report { get; private set; }

    public bool HasClientSecret => Profile?.ClientSecretProtected is not null;
    public bool HasClientKeyPassword => Profile?.ClientKeyPasswordProtected is not null;

    public async Task<IActionResult> OnGetAsync(int? id, CancellationToken cancellationToken)
    {
        if (id is null)
        {
            Input = await profiles.NewInputAsync(cancellationToken);
            return Page();
        }

        Profile = await profiles.FindAsync(id.Value, cancellationToken);
        if (Profile is null)
        {
            return NotFound();
        }

        Input = OidcProfileInput.From(Profile);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(int? id, CancellationToken cancellationToken)
    {
        var actor = AdminAuthentication.Actor(User);
        var result = id is null
            ? await profiles.CreateAsync(Input, actor, cancellationToken)
            : await profiles.UpdateAsync(id.Value, Input, actor, cancellationToken);
        if (result.Succeeded)
        {
            TempData["Success"] = $"OIDC profile '{result.Profile!.Name}' saved.";
            return RedirectToPage("/OidcProfiles/Edit", new { id = result.Profile.Id });
        }

        ModelState.AddFieldErrors(result.Errors);
        if (id is not null)
        {
            Profile = await profiles.FindAsync(id.Value, cancellationToken);
            if (Profile is null)
            {
                return NotFound();
            }
        }

        // Note: secrets typed into the form are never sent back.
        Input.ClientSecret = null;
        Input.ClientKeyPassword = null;
        ModelState.SetModelValue("Input.ClientSecret", null, null);
        ModelState.SetModelValue("Input.ClientKeyPassword", null, null);
        return Page();
    }

    public async Task<IActionResult> OnPostTestAsync(int id, CancellationToken cancellationToken)
    {
        Profile = await profiles.FindAsync(id, cancellationToken);
        if (Profile is null)
        {
            return NotFound();
        }

        Input = OidcProfileInput.From(Profile);
        Report = await runtime.TestAsync(Profile, cancellationToken);
        return Page();
    }
}
