using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;

namespace TokenAdmin.Pages.Account;

/// <summary>Signing out is a POST (with antiforgery), so a link on another site cannot sign an admin out.</summary>
public sealed class LogoutModel : PageModel
{
    public IActionResult OnGet() => RedirectToPage("/Index");

    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(AdminAuthentication.CookieScheme);
        return RedirectToPage("/Account/Login", new { signedOut = 1 });
    }
}
