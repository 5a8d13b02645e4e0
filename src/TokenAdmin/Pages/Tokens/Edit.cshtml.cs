using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.Tokens;

namespace TokenAdmin.Pages.Tokens;

public sealed class TokensEditModel(TokenConfigService service) : PageModel
{
    [BindProperty]
    public TokenConfigInput Input { get; set; } = new();

    [BindProperty]
    public string Version { get; set; } = "";

    public TokenConfig Config { get; private set; } = null!;
    public Dictionary<string, string> Errors { get; } = [];

    public async Task<IActionResult> OnGetAsync(int id, CancellationToken cancellationToken)
    {
        if (await service.LoadAsync(id, cancellationToken) is not { } loaded)
        {
            return NotFound();
        }

        (Config, var document) = loaded;
        Input = TokenConfigInput.From(document);
        Version = Config.Version;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(int id, CancellationToken cancellationToken)
    {
        if (await service.LoadAsync(id, cancellationToken) is not { } loaded)
        {
            return NotFound();
        }

        Config = loaded.Config;
        TokenFormBinding.AddBindingErrors(ModelState, Errors);
        var document = Input.ToDocument(Config.Template, Errors);
        if (Errors.Count == 0)
        {
            var result = await service.UpdateAsync(id, Version, document, await Input.SecretsAsync(cancellationToken), AdminAuthentication.Actor(User), cancellationToken);
            if (result.Succeeded)
            {
                TempData["Success"] = $"Token config '{result.Config!.Name}' was saved.";
                return RedirectToPage("/Tokens/Details", new { id });
            }

            foreach (var (field, message) in result.Errors)
            {
                Errors.TryAdd(field, message);
            }
        }

        Input.ForgetSecrets();
        return Page();
    }
}
