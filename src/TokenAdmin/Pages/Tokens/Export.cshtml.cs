using System.Text;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Admin;
using TokenAdmin.Data;
using TokenAdmin.Tokens;

namespace TokenAdmin.Pages.Tokens;

public sealed record ExportChoice(string Name, string Template, string Flow, bool HasSecrets);

public sealed class TokensExportModel(TokenAdminDb db) : PageModel
{
    [BindProperty]
    public List<string> Names { get; set; } = [];

    [BindProperty]
    public bool All { get; set; }

    [BindProperty]
    public bool IncludeSecrets { get; set; }

    public IReadOnlyList<ExportChoice> Choices { get; private set; } = [];
    public string? Error { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken) => Choices = await ChoicesAsync(cancellationToken);

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (!All && Names.Count == 0)
        {
            Error = "Choose the token configs to export, or All.";
        }
        else
        {
            var result = await TokenConfigTransfer.Create(HttpContext.RequestServices)
                .ExportAsync(All ? [] : Names, IncludeSecrets, AdminAuthentication.Actor(User), cancellationToken);
            if (result.Succeeded)
            {
                // The file may hold secrets: no cache on the way may keep a copy.
                Response.Headers.CacheControl = "no-store";
                return File(Encoding.UTF8.GetBytes(result.Yaml), "application/yaml", result.FileName);
            }

            Error = result.Error;
        }

        Choices = await ChoicesAsync(cancellationToken);
        return Page();
    }

    private Task<List<ExportChoice>> ChoicesAsync(CancellationToken cancellationToken) =>
        db.TokenConfigs.AsNoTracking().OrderBy(c => c.NormalizedName)
            .Select(c => new ExportChoice(c.Name, c.Template, c.Flow, c.ClientSecretProtected != null || c.PasswordProtected != null))
            .ToListAsync(cancellationToken);
}
