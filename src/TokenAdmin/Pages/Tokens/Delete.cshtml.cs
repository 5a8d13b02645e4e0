using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.Tokens;

namespace TokenAdmin.Pages.Tokens;

public sealed class TokensDeleteModel(TokenConfigService service) : PageModel
{
    public TokenConfig Config { get; private set; } = null!;
    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(int id, CancellationToken cancellationToken)
    {
        if (await service.LoadAsync(id, cancellationToken) is not { } loaded)
        {
            return NotFound();
        }

        Config = loaded.Config;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(int id, CancellationToken cancellationToken)
    {
        var (deleted, message) = await service.DeleteAsync(id, AdminAuthentication.Actor(User), cancellationToken);
        if (deleted)
        {
            TempData["Success"] = message;
            return RedirectToPage("/Tokens/Index");
        }

        if (await service.LoadAsync(id, cancellationToken) is not { } loaded)
        {
            return NotFound();
        }

        Config = loaded.Config;
        Error = message;
        return Page();
    }
}
