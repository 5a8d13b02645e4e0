using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;

namespace TokenAdmin.Pages.Admins;

public sealed class AdminsIndexModel(AdminManagement admins) : PageModel
{
    public IReadOnlyList<AdminRow> Rows { get; private set; } = [];

    /// <summary>The signed-in admin's own row, if it is a local admin.</summary>
    public int? SelfId => AdminManagement.LocalId(User);

    public async Task OnGetAsync(CancellationToken cancellationToken) => Rows = await admins.ListAsync(cancellationToken);

    public Task<IActionResult> OnPostDisableAsync(int id, CancellationToken cancellationToken) =>
        DoneAsync(admins.DisableAsync(id, User, cancellationToken));

    public Task<IActionResult> OnPostEnableAsync(int id, CancellationToken cancellationToken) =>
        DoneAsync(admins.EnableAsync(id, User, cancellationToken));

    public Task<IActionResult> OnPostUnlockAsync(int id, CancellationToken cancellationToken) =>
        DoneAsync(admins.UnlockAsync(id, User, cancellationToken));

    private async Task<IActionResult> DoneAsync(Task<AdminChange> change)
    {
        var result = await change;
        TempData[result.Done ? "Success" : "Error"] = result.Message;
        return RedirectToPage("/Admins/Index");
    }
}
