using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.Oidc;

namespace TokenAdmin.Pages.OidcProfiles;

public sealed class OidcProfilesDeleteModel(OidcProfileService profiles) : PageModel
{
    public OidcProfile Profile { get; private set; } = null!;
    public IReadOnlyList<string> Blockers { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(int id, CancellationToken cancellationToken)
    {
        if (await profiles.FindAsync(id, cancellationToken) is not { } profile)
        {
            return NotFound();
        }

        Profile = profile;
        Blockers = await profiles.UsesAsync(id, cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(int id, CancellationToken cancellationToken)
    {
        if (await profiles.FindAsync(id, cancellationToken) is not { } profile)
        {
            return NotFound();
        }

        Profile = profile;
        if (await profiles.DeleteAsync(id, AdminAuthentication.Actor(User), cancellationToken) is { } refused)
        {
            // Something started to use it since the page was shown: show what, as the page would have.
            var uses = await profiles.UsesAsync(id, cancellationToken);
            Blockers = uses.Count > 0 ? uses : [refused];
            return Page();
        }

        TempData["Success"] = $"OIDC profile '{profile.Name}' deleted.";
        return RedirectToPage("/OidcProfiles/Index");
    }
}
