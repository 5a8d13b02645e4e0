using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.Alerts.Channels;

namespace TokenAdmin.Pages.Alerts;

public sealed class AlertsChannelModel(AlertChannelService service) : PageModel
{
    [BindProperty]
    public AlertChannelInput Input { get; set; } = new();

    [BindProperty]
    public string Version { get; set; } = "";

    public int? Id { get; private set; }
    public string Name { get; private set; } = "";
    public bool HasSecret { get; private set; }

    public async Task<IActionResult> OnGetAsync(int? id, CancellationToken cancellationToken)
    {
        if (id is { } existing)
        {
            if (await service.FindAsync(existing, cancellationToken) is not { } channel)
            {
                return NotFound();
            }

            (Id, Name, HasSecret, Version) = (channel.Id, channel.Name, channel.SecretProtected is not null, channel.Version);
            Input = AlertChannelInput.From(channel);
        }

        return Page();
    }

    public async Task<IActionResult> OnPostAsync(int? id, CancellationToken cancellationToken)
    {
        var actor = AdminAuthentication.Actor(User);
        if (id is { } existing)
        {
            if (await service.FindAsync(existing, cancellationToken) is not { } channel)
            {
                return NotFound();
            }

            (Id, Name, HasSecret) = (channel.Id, channel.Name, channel.SecretProtected is not null);
        }

        if (ModelState.IsValid)
        {
            var result = id is { } i
                ? await service.UpdateAsync(i, Version, Input, actor, cancellationToken)
                : await service.CreateAsync(Input, actor, cancellationToken);
            if (result.Succeeded)
            {
                TempData["Success"] = $"Alert channel '{result.Channel!.Name}' was saved.";
                return RedirectToPage("/Alerts/Channels");
            }

            foreach (var (field, message) in result.Errors)
            {
                ModelState.AddModelError(field.Length == 0 ? "" : $"{nameof(Input)}.{field}", message);
            }
        }

        Input.Secret = null;
        return Page();
    }
}
