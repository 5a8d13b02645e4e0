using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.WebServices;

namespace TokenAdmin.Pages.WebServices;

public sealed class WebServicesDeleteModel(WebServiceService service) : PageModel
{
    public WebService Service { get; private set; } = null!;
    public IReadOnlyList<string> Blockers { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(int id, CancellationToken cancellationToken)
    {
        if (await service.FindAsync(id, cancellationToken) is not { } found)
        {
            return NotFound();
        }

        Service = found;
        Blockers = WebServiceService.Uses(found);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(int id, CancellationToken cancellationToken)
    {
        var (deleted, message) = await service.DeleteAsync(id, AdminAuthentication.Actor(User), cancellationToken);
        if (deleted)
        {
            TempData["Success"] = message;
            return RedirectToPage("/WebServices/Index");
        }

        if (await service.FindAsync(id, cancellationToken) is not { } found)
        {
            TempData["Error"] = message;
            return RedirectToPage("/WebServices/Index");
        }

        // An invoker was added since the page was shown: show what, as the page would have.
        Service = found;
        Blockers = WebServiceService.Uses(found) is { Count: > 0 } uses ? uses : [message];
        return Page();
    }
}
