using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using TokenAdmin.Admin;

namespace TokenAdmin.Pages.Admins;

public sealed class AdminsAddModel(AdminManagement admins, IOptions<AdminOptions> options) : PageModel
{
    [BindProperty]
    public AddInput Input { get; set; } = new();

    public int MinPasswordLength => options.Value.MinPasswordLength;

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var errors = await admins.AddAsync(Input.UserName, Input.Password, Input.ConfirmPassword, AdminAuthentication.Actor(User), cancellationToken);
        if (errors.Count > 0)
        {
            ModelState.AddFieldErrors(errors);

            return Page();
        }

        TempData["Success"] = $"Admin '{Input.UserName!.Trim()}' was added.";
        return RedirectToPage("/Admins/Index");
    }

    public sealed class AddInput
    {
        [Display(Name = "User name")]
        public string? UserName { get; set; }

        [Display(Name = "Password")]
        public string? Password { get; set; }

        [Display(Name = "Repeat password")]
        public string? ConfirmPassword { get; set; }
    }
}
