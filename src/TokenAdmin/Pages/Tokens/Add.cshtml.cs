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

        var errors = new Dictionary<string, string>();
        var document = Input.ToDocument(Chosen.Id, errors);
        if (ModelState.IsValid && errors.Count == 0)
        {
            var result = await service.CreateAsync(document, await Input.SecretsAsync(cancellationToken), AdminAuthentication.Actor(User), cancellationToken);
            if (result.Succeeded)
            {
                TempData["Success"] = $"Token config '{result.Config!.Name}' was added.";
                return RedirectToPage("/Tokens/Details", new { id = result.Config.Id });
            }

            TokenConfigFormView.AddErrors(ModelState, result.Errors, MetadataProvider);
        }
        else
        {
            // What the binder could read is checked too, so every mistake shows at once.
            TokenConfigFormView.AddErrors(ModelState, errors, MetadataProvider);
            TokenConfigFormView.AddErrors(ModelState, TokenConfigValidator.Validate(document, Input.ClientSecret is { Length: > 0 }, Input.Password is { Length: > 0 },
                Input.ClientCertificateFile is { Length: > 0 }, hasServiceAccountKey: Input.ServiceAccountKeyFile is { Length: > 0 }), MetadataProvider);
        }

        TokenConfigFormView.ForgetSecrets(ModelState, Input);
        return Page();
    }

    /// <summary>"Show the fields" without JavaScript: the form again for the chosen flow, as typed, nothing saved.</summary>
    public IActionResult OnPostChoose()
    {
        Chosen = TokenTemplates.Find(Template);
        if (Chosen is null)
        {
            return RedirectToPage();
        }

        ModelState.ClearErrors();
        TokenConfigFormView.ForgetSecrets(ModelState, Input);
        return Page();
    }
}
