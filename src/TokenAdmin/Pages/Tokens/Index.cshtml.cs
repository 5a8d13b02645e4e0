using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.Data;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Pages.Tokens;

public sealed class TokensIndexModel(TokenAdminDb db, TimeProvider time) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "q")]
    public string? Search { get; set; }

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public TokenOverviewPage Result { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        Result = await TokenOverview.ReadAsync(db, Search, PageNumber, time.GetUtcNow().UtcDateTime, cancellationToken);

    public async Task<IActionResult> OnPostRefreshAsync(int id, [FromServices] TokenEngine engine, CancellationToken cancellationToken)
    {
        var result = await engine.RenewAsync(TokenSource.Config(id), AdminAuthentication.Actor(User), cancellationToken);
        TempData[result.Succeeded ? "Success" : "Error"] = result.Message;
        return RedirectToPage(new { q = Search, p = PageNumber });
    }
}
