using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Settings;

namespace TokenAdmin.Pages;

public sealed class IndexModel(SettingsStore settings) : PageModel
{
    public string RedirectUri { get; private set; } = "";

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        RedirectUri = (await settings.GetAsync(cancellationToken)).RedirectUri;
}
