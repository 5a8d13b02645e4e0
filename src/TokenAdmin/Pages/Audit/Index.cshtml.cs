using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.Data;

namespace TokenAdmin.Pages.Audit;

public sealed class AuditModel(TokenAdminDb db) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? Filter { get; set; }

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public AuditPage Result { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        Result = await AuditLog.ReadAsync(db, Filter, PageNumber, cancellationToken);
}
