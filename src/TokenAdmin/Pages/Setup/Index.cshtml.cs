using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using TokenAdmin.Admin;
using TokenAdmin.Hosting;
using TokenAdmin.Settings;

namespace TokenAdmin.Pages.Setup;

[EnableRateLimiting(TokenAdminHostingExtensions.SignInRateLimit)]
public sealed class SetupModel(SetupLinks links, IOptions<AdminOptions> options, SettingsStore settings, SettingCatalog catalog) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? Token { get; set; }

    [BindProperty]
    public SetupInput Input { get; set; } = new();

    public string? Problem { get; private set; }
    public int MinPasswordLength => options.Value.MinPasswordLength;

    /// <summary>The public URL stored before setup (with `config update`, from another process), shown instead of the fields; null: the form asks.</summary>
    public string? ConfiguredPublicUrl { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var status = await links.CheckAsync(Token, cancellationToken);
        Problem = status == SetupLinkStatus.Valid ? null : SetupLinks.Message(status);
        Response.Headers["Referrer-Policy"] = "no-referrer";
        if (Problem is null && await ConfiguredAsync(cancellationToken) is null)
        {
            // Note: the address this request came in on is the best first guess of the public URL: the
            // redirect URI providers must know is built from it, and the default (http://localhost:5080) is seldom right.
            Input.HttpType = Request.Scheme;
            Input.Fqdn = Request.Host.Value;
            Input.PathBase = Request.PathBase.Value;
        }
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var configured = await ConfiguredAsync(cancellationToken);
        var publicUrl = new Dictionary<string, string>(StringComparer.Ordinal);
        var urlErrors = new Dictionary<string, string>(StringComparer.Ordinal);
        // Note: the form always sends the HTTP type (a select); a client that posts none of the public URL fields (a
        // script completing setup, as before the form had them) leaves the public URL as it is.
        if (configured is null && (Input.HttpType ?? Input.Fqdn ?? Input.PathBase) is not null)
        {
            foreach (var (field, name, value) in new[]
            {
                (nameof(SetupInput.HttpType), PublicUrlSettings.HttpType, Input.HttpType),
                (nameof(SetupInput.Fqdn), PublicUrlSettings.Fqdn, Input.Fqdn),
                (nameof(SetupInput.PathBase), PublicUrlSettings.PathBase, Input.PathBase),
            })
            {
                var trimmed = value?.Trim() ?? "";
                if (catalog.Find(name)!.Check(trimmed) is { } error)
                {
                    urlErrors[field] = error;
                }

                publicUrl[name] = trimmed;
            }
        }

        var (result, errors) = await links.CompleteAsync(Token, Input.UserName, Input.Password, Input.ConfirmPassword, cancellationToken, urlErrors, publicUrl);
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

        var userName = Input.UserName!.Trim();
        TempData["Success"] = $"Admin '{userName}' was created. Sign in with it now.";
        if (publicUrl.Count > 0)
        {
            settings.Invalidate();
            var now = await settings.GetAsync(cancellationToken);
            TempData["Success"] = publicUrl.All(setting => now.Get(setting.Key) == setting.Value)
                ? $"Admin '{userName}' was created, and TokenAdmin's public URL is {now.PublicBaseUrl}. Sign in with it now."
                : $"Admin '{userName}' was created. Sign in with it now. The public URL had been set meanwhile, to {now.PublicBaseUrl}, and was kept.";
        }

        return RedirectToPage("/Account/Login");
    }

    private async Task<string?> ConfiguredAsync(CancellationToken cancellationToken)
    {
        // Note: read fresh: `config update` writes from another process, which the 30-second snapshot would not see yet.
        settings.Invalidate();
        var snapshot = await settings.GetAsync(cancellationToken);
        var stored = snapshot.IsStored(PublicUrlSettings.HttpType) || snapshot.IsStored(PublicUrlSettings.Fqdn) || snapshot.IsStored(PublicUrlSettings.PathBase);
        return ConfiguredPublicUrl = stored ? snapshot.PublicBaseUrl : null;
    }

    public sealed class SetupInput
    {
        [Display(Name = "User name")]
        public string? UserName { get; set; }

        [Display(Name = "Password")]
        public string? Password { get; set; }

        [Display(Name = "Repeat password")]
        public string? ConfirmPassword { get; set; }

        [Display(Name = "HTTP type")]
        public string? HttpType { get; set; }

        [Display(Name = "FQDN")]
        public string? Fqdn { get; set; }

        [Display(Name = "Path base")]
        public string? PathBase { get; set; }
    }
}
