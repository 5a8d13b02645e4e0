using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.WebServices;

namespace TokenAdmin.Pages.WebServices;

/// <summary>Adds (no id) or edits an invoker of a web service.</summary>
public sealed class InvokerModel(WebServiceService service) : PageModel
{
    [BindProperty]
    public InvokerInput Input { get; set; } = new();

    [BindProperty]
    public string Version { get; set; } = "";

    public WebService Service { get; private set; } = null!;
    public int? InvokerId { get; private set; }

    public async Task<IActionResult> OnGetAsync(int serviceId, int? id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(serviceId, id, cancellationToken))
        {
            return NotFound();
        }

        if (id is not null)
        {
            var invoker = Service.Invokers.Single(i => i.Id == id);
            Input = InvokerInput.From(invoker);
            Version = invoker.Version;
        }

        return Page();
    }

    public async Task<IActionResult> OnPostAsync(int serviceId, int? id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(serviceId, id, cancellationToken))
        {
            return NotFound();
        }

        if (ModelState.IsValid)
        {
            var actor = AdminAuthentication.Actor(User);
            var result = id is null
                ? await service.CreateInvokerAsync(serviceId, Input, actor, cancellationToken)
                : await service.UpdateInvokerAsync(id.Value, Version, Input, actor, cancellationToken);
            if (result.Succeeded)
            {
                TempData["Success"] = $"Invoker {result.Name} was saved.";
                return RedirectToPage("/WebServices/Edit", new { id = serviceId });
            }

            ModelState.AddFieldErrors(result.Errors);
        }
        else
        {
            // The fields the binder could read are checked too, so every mistake shows at once.
            ModelState.AddFieldErrors(await service.ValidateInvokerAsync(Input, Service, id, cancellationToken));
        }

        return Page();
    }

    public async Task<IActionResult> OnPostDeleteAsync(int serviceId, int id, CancellationToken cancellationToken)
    {
        var (deleted, message) = await service.DeleteInvokerAsync(id, AdminAuthentication.Actor(User), cancellationToken);
        TempData[deleted ? "Success" : "Error"] = message;
        return RedirectToPage("/WebServices/Edit", new { id = serviceId });
    }

    private async Task<bool> LoadAsync(int serviceId, int? id, CancellationToken cancellationToken)
    {
        if (await service.FindAsync(serviceId, cancellationToken) is not { } found || (id is not null && found.Invokers.All(i => i.Id != id)))
        {
            return false;
        }

        Service = found;
        InvokerId = id;
        return true;
    }
}
