using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Tokens;

namespace TokenAdmin.Pages.OAuth2;

/// <summary>The redirect URI: the provider sends the admin's browser back here with a code or an error.</summary>
[ResponseCache(NoStore = true, Location = ResponseCacheLocation.None)]
public sealed class CallbackModel(AuthorizationFlow flow) : PageModel
{
    public AuthorizationOutcome Outcome { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        // The URL holds the code: it must not travel on to other sites as a referrer.
        Response.Headers["Referrer-Policy"] = "no-referrer";
        Outcome = await flow.CompleteAsync(Request.Query, HttpContext, cancellationToken);
        if (Outcome.Succeeded)
        {
            TempData["Success"] = Outcome.Message;
            return Outcome.FunctionalAccountId is not null
                ? RedirectToPage("/FunctionalAccounts/Index")
                : RedirectToPage("/Tokens/Details", new { id = Outcome.TokenConfigId });
        }

        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
