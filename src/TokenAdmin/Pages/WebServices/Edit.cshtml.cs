using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.WebServices;

namespace TokenAdmin.Pages.WebServices;

public sealed class WebServicesEditModel(WebServiceService service) : PageModel
{
    [BindProperty]
    public WebServiceInput Input { get; set; } = new();

    [BindProperty]
    public string Version { get; set; } = "";

    public WebService Service { get; private set; } = null!;
    public Dictionary<string, string> Errors { get; } = [];
    public IReadOnlyList<(string Value, string Name)> Sources { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(int id, CancellationToken cancellationToken)
    {
        if (await service.FindAsync(id, cancellationToken) is not { } found)
        {
            return NotFound();
        }

        Service = found;
        Input = WebServiceInput.From(found);
        Version = found.Version;
        Sources = await service.TokenSourcesAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(int id, CancellationToken cancellationToken)
    {
        if (await service.FindAsync(id, cancellationToken) is not { } found)
        {
            return NotFound();
        }

        Service = found;
        WebServiceFormBinding.AddBindingErrors(ModelState, Errors);
        if (Errors.Count == 0)
        {
            var result = await service.UpdateAsync(id, Version, Input, AdminAuthentication.Actor(User), cancellationToken);
            if (result.Succeeded)
            {
                TempData["Success"] = $"Web service {result.Name} was saved.";
                return RedirectToPage(new { id });
            }

            foreach (var (field, message) in result.Errors)
            {
                Errors.TryAdd(field, message);
            }
        }

        Input.BasicPassword = null;
        Input.SecretHeaders = WebServicesAddModel.MaskSecretValues(Input.SecretHeaders);
        Sources = await service.TokenSourcesAsync(cancellationToken);
        return Page();
    }
}
