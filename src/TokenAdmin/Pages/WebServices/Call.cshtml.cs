using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.WebServices;

namespace TokenAdmin.Pages.WebServices;

public sealed class CallModel(CallLog log) : PageModel
{
    public CallLogEntry Entry { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken cancellationToken)
    {
        if (await log.FindAsync(id, cancellationToken) is not { } entry)
        {
            return NotFound();
        }

        Entry = entry;
        return Page();
    }
}
