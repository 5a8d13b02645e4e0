using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.Tokens;

namespace TokenAdmin.Pages.Tokens;

public sealed class TokensDeleteModel(TokenConfigService service) : PageModel
{
    public TokenConfig Config { get; private set; } = null!;

    /// <summary>What still uses the config (mail accounts, web services), asked when the page is shown.</summary>
    public IReadOnlyList<string> Blockers { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(int id, CancellationToken cancellationToken)
    {
        if (await service.LoadAsync(id, cancellationToken) is not { } loaded)
        {
            return NotFound();
        }

        Config = loaded.Config;
        Blockers = await service.UsesAsync(id, cancellationToken);
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

        // Something started to use it since the page was shown: show what, as the page would have.
        Config = loaded.Config;
        var uses = await service.UsesAsync(id, cancellationToken);
        Blockers = uses.Count > 0 ? uses : [message];
        return Page();
    }
}
