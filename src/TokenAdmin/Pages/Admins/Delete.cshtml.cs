using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;

namespace TokenAdmin.Pages.Admins;

/// <summary>Shows why an admin cannot be removed before offering the button (the button is disabled then).</summary>
public sealed class AdminsDeleteModel(AdminManagement admins) : PageModel
{
    public AdminRow Admin { get; private set; } = null!;
    public IReadOnlyList<string> Blockers { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(int id, CancellationToken cancellationToken)
    {
        if (await admins.FindAsync(id, cancellationToken) is not { } admin)
        {
            return NotFound();
        }

        Admin = admin;
        Blockers = await admins.BlockersAsync(id, User, cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(int id, CancellationToken cancellationToken)
    {
        var result = await admins.RemoveAsync(id, User, cancellationToken);
        TempData[result.Done ? "Success" : "Error"] = result.Message;
        return RedirectToPage("/Admins/Index");
    }
}
