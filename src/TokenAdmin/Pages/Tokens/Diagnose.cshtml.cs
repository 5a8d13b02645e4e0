using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Tokens;

namespace TokenAdmin.Pages.Tokens;

/// <summary>
/// Diagnose a token config's or functional account's current access token: its claims in words and what mail
/// servers will likely say (<see cref="TokenDiagnostics"/>). Claims only: never the token, never a secret.
/// </summary>
public sealed class TokensDiagnoseModel(TokenDiagnostics diagnostics) : PageModel
{
    public SourceDiagnosis Result { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(string kind, int id, CancellationToken cancellationToken)
    {
        if (TokenSource.Parse($"{kind}:{id}") is not { } source)
        {
            return NotFound();
        }

        try
        {
            if (await diagnostics.DiagnoseAsync(source, cancellationToken) is not { } result)
            {
                return NotFound();
            }

            Result = result;
        }
        catch (TokenSourceUnreadableException ex)
        {
            TempData["Error"] = ex.Message;
            return NotFound();
        }

        Response.Headers.CacheControl = "no-store";
        return Page();
    }
}
