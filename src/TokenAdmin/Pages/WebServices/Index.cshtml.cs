using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.WebServices;

namespace TokenAdmin.Pages.WebServices;

public sealed class WebServicesIndexModel(WebServiceService service) : PageModel
{
    public IReadOnlyList<WebService> Services { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) => Services = await service.ListAsync(cancellationToken);
}
