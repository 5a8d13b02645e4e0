using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.WebServices;

namespace TokenAdmin.Pages.WebServices;

public sealed class WebServicesDeleteModel(WebServiceService service) : PageModel
{
    public WebService Service { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(int id, CancellationToken cancellationToken)
    {
        if (await service.FindAsync(id, cancellationToken) is not { } found)
        {
            return NotFound();
        }

        Service = found;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(int id, CancellationToken cancellationToken)
    {
        var (deleted, message) = await service.DeleteAsync(id, AdminAuthentication.Actor(User), cancellationToken);
        TempData[deleted ? "Success" : "Error"] = message;
        return deleted ? RedirectToPage("/WebServices/Index") : RedirectToPage("/WebServices/Edit", new { id });
    }
}
