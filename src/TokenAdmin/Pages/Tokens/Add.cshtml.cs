using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.Tokens;

namespace TokenAdmin.Pages.Tokens;

public sealed class TokensAddModel(TokenConfigService service) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? Template { get; set; }

    [BindProperty]
    public TokenConfigInput Input { get; set; } = new();

    public TokenTemplate? Chosen { get; private set; }
    public Dictionary<string, string> Errors { get; } = [];

    public void OnGet()
    {
        Chosen = TokenTemplates.Find(Template);
        if (Chosen is not null)
        {
            Input = TokenConfigInput.From(Chosen.NewDocument());
        }
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        Chosen = TokenTemplates.Find(Template);
        if (Chosen is null)
        {
            return RedirectToPage();
        }

        TokenFormBinding.AddBindingErrors(ModelState, Errors);
        var document = Input.ToDocument(Chosen.Id, Errors);
        if (Errors.Count == 0)
        {
            var result = await service.CreateAsync(document, await Input.SecretsAsync(cancellationToken), AdminAuthentication.Actor(User), cancellationToken);
            if (result.Succeeded)
            {
                TempData["Success"] = $"Token config '{result.Config!.Name}' was added.";
                return RedirectToPage("/Tokens/Details", new { id = result.Config.Id });
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
