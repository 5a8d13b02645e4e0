using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.Oidc;

namespace TokenAdmin.Pages.OidcProfiles;

public sealed class OidcProfilesDeleteModel(OidcProfileService profiles) : PageModel
{
    public OidcProfile Profile { get; private set; } = null!;
    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(int id, CancellationToken cancellationToken)
    {
        if (await profiles.FindAsync(id, cancellationToken) is not { } profile)
        {
            return NotFound();
        }

        Profile = profile;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(int id, CancellationToken cancellationToken)
    {
        if (await profiles.FindAsync(id, cancellationToken) is not { } profile)
        {
            return NotFound();
        }

        Profile = profile;
        Error = await profiles.DeleteAsync(id, AdminAuthentication.Actor(User), cancellationToken);
        if (Error is not null)
        {
            return Page();
        }

        TempData["Success"] = $"OIDC profile '{profile.Name}' deleted.";
        return RedirectToPage("/OidcProfiles/Index");
    }
}
