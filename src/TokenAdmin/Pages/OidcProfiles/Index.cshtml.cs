using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Oidc;

namespace TokenAdmin.Pages.OidcProfiles;

public sealed class OidcProfilesIndexModel(OidcProfileService profiles) : PageModel
{
    public IReadOnlyList<OidcProfile> Profiles { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) => Profiles = await profiles.ListAsync(cancellationToken);
}
