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
        if (ModelState.IsValid)
        {
            var result = await service.UpdateAsync(id, Version, Input, AdminAuthentication.Actor(User), cancellationToken);
            if (result.Succeeded)
            {
                TempData["Success"] = $"Web service {result.Name} was saved.";
                return RedirectToPage(new { id });
            }

            ModelState.AddFieldErrors(result.Errors);
        }
        else
        {
            ModelState.AddFieldErrors((await service.ValidateAsync(Input, found, cancellationToken)).Errors);
        }

        WebServicesAddModel.KeepSecretsOut(ModelState, Input);
        Sources = await service.TokenSourcesAsync(cancellationToken);
        return Page();
    }
}
