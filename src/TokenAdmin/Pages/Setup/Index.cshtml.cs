using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using TokenAdmin.Admin;
using TokenAdmin.Hosting;

namespace TokenAdmin.Pages.Setup;

[EnableRateLimiting(TokenAdminHostingExtensions.SignInRateLimit)]
public sealed class SetupModel(SetupLinks links, IOptions<AdminOptions> options) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? Token { get; set; }

    [BindProperty]
    public SetupInput Input { get; set; } = new();

    public string? Problem { get; private set; }
    public int MinPasswordLength => options.Value.MinPasswordLength;

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var status = await links.CheckAsync(Token, cancellationToken);
        Problem = status == SetupLinkStatus.Valid ? null : SetupLinks.Message(status);
        Response.Headers["Referrer-Policy"] = "no-referrer";
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var (result, errors) = await links.CompleteAsync(Token, Input.UserName, Input.Password, Input.ConfirmPassword, cancellationToken);
        if (result != SetupLinkStatus.Valid)
        {
            Problem = SetupLinks.Message(result);
            return Page();
        }

        if (errors.Count > 0)
        {
            ModelState.AddFieldErrors(errors);
            return Page();
        }

        TempData["Success"] = $"Admin '{Input.UserName!.Trim()}' was created. Sign in with it now.";
        return RedirectToPage("/Account/Login");
    }

    public sealed class SetupInput
    {
        [Display(Name = "User name")]
        public string? UserName { get; set; }

        [Display(Name = "Password")]
        public string? Password { get; set; }

        [Display(Name = "Repeat password")]
        public string? ConfirmPassword { get; set; }
    }
}
