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
        var errors = new Dictionary<string, string>();
        var document = Input.ToDocument(Config.Template, errors);
        if (ModelState.IsValid && errors.Count == 0)
        {
            var result = await service.UpdateAsync(id, Version, document, await Input.SecretsAsync(cancellationToken), AdminAuthentication.Actor(User), cancellationToken);
            if (result.Succeeded)
            {
                TempData["Success"] = $"Token config '{result.Config!.Name}' was saved.";
                return RedirectToPage("/Tokens/Details", new { id });
            }

            TokenConfigFormView.AddErrors(ModelState, result.Errors, MetadataProvider);
        }
        else
        {
            // What the binder could read is checked too, so every mistake shows at once.
            TokenConfigFormView.AddErrors(ModelState, errors, MetadataProvider);
            var hasCertificate = Input.ClientCertificateFile is { Length: > 0 } || (!Input.ClearClientCertificate && Config.Certificate.Present);
            TokenConfigFormView.AddErrors(ModelState, TokenConfigValidator.Validate(document,
                Input.ClientSecret is { Length: > 0 } || (!Input.ClearClientSecret && Config.ClientSecretProtected is not null),
                Input.Password is { Length: > 0 } || (!Input.ClearPassword && Config.PasswordProtected is not null),
                hasCertificate, hasCertificate && Input.ClientCertificateFile is not { Length: > 0 } ? Config.Certificate.KeyType : null,
                Input.ServiceAccountKeyFile is { Length: > 0 } || (!Input.ClearServiceAccountKey && Config.ServiceAccountKey.Present)), MetadataProvider);
        }

        TokenConfigFormView.ForgetSecrets(ModelState, Input);
        return Page();
    }

    /// <summary>"Show the fields" without JavaScript: the form again for the chosen flow, as typed, nothing saved.</summary>
    public async Task<IActionResult> OnPostChooseAsync(int id, CancellationToken cancellationToken)
    {
        if (await service.LoadAsync(id, cancellationToken) is not { } loaded)
        {
            return NotFound();
        }

        Config = loaded.Config;
        ModelState.ClearErrors();
        TokenConfigFormView.ForgetSecrets(ModelState, Input);
        return Page();
    }
}
