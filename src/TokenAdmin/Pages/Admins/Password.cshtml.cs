using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using TokenAdmin.Admin;

namespace TokenAdmin.Pages.Admins;

/// <summary>A local admin changes their own password; every session ends, and this browser is signed in afresh.</summary>
public sealed class AdminsPasswordModel(AdminManagement admins, IOptions<AdminOptions> options) : PageModel
{
    [BindProperty]
    public PasswordInput Input { get; set; } = new();

    public int MinPasswordLength => options.Value.MinPasswordLength;
    public bool IsLocal => AdminManagement.LocalId(User) is not null;

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var (errors, user) = await admins.ChangeOwnPasswordAsync(User, Input.CurrentPassword, Input.NewPassword, Input.ConfirmPassword, cancellationToken);
        if (user is null)
        {
            ModelState.AddFieldErrors(errors);

            // Note: passwords are never sent back into the form.
            Input = new PasswordInput();
            return Page();
        }

        await HttpContext.SignInAsync(AdminAuthentication.CookieScheme, AdminAuthentication.LocalPrincipal(user));
        TempData["Success"] = "Your password was changed. Your other sessions have ended.";
        return RedirectToPage("/Admins/Index");
    }

    public sealed class PasswordInput
    {
        [Display(Name = "Current password")]
        public string? CurrentPassword { get; set; }

        [Display(Name = "New password")]
        public string? NewPassword { get; set; }

        [Display(Name = "Repeat new password")]
        public string? ConfirmPassword { get; set; }
    }
}
