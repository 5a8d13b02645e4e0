using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Dashboard;

namespace TokenAdmin.Pages;

/// <summary>The dashboard: what needs attention first, then counts by state, the last runs and the redirect URI.</summary>
public sealed class IndexModel(DashboardQuery dashboard) : PageModel
{
    public DashboardView View { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken cancellationToken) => View = await dashboard.ReadAsync(cancellationToken);
}
