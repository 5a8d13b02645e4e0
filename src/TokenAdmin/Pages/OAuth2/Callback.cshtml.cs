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
        // Microsoft's admin consent (the link on Entra sources) returns here without a code: nothing to exchange.
        if (Request.Query.TryGetValue("admin_consent", out var consent) && !Request.Query.ContainsKey("code"))
        {
            var tenant = Request.Query["tenant"].ToString();
            TempData[string.Equals(consent, "True", StringComparison.OrdinalIgnoreCase) ? "Success" : "Error"] =
                string.Equals(consent, "True", StringComparison.OrdinalIgnoreCase)
                    ? $"Admin consent was granted{(tenant.Length is > 0 and <= 100 ? $" in tenant {tenant}" : "")}. Users of the tenant can now sign in without being asked; request the token."
                    : "Admin consent was not granted.";
            return RedirectToPage("/Tokens/Index");
        }

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
