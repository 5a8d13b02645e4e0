using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.Alerts;
using TokenAdmin.Alerts.Channels;

namespace TokenAdmin.Pages.Alerts;

public sealed class AlertsChannelsModel(AlertChannelService service) : PageModel
{
    public IReadOnlyList<AlertChannel> Channels { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) => Channels = await service.ListAsync(cancellationToken);

    /// <summary>Sends a test alert now and shows the channel's answer.</summary>
    public async Task<IActionResult> OnPostTestAsync(int id, CancellationToken cancellationToken)
    {
        var result = await service.TestAsync(id, AdminAuthentication.Actor(User), cancellationToken);
        TempData[result.Sent ? "Success" : "Error"] = result.Sent ? "The test alert was sent." : "The test alert was not sent: " + result.Error;
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostDeleteAsync(int id, CancellationToken cancellationToken)
    {
        var (deleted, message) = await service.DeleteAsync(id, AdminAuthentication.Actor(User), cancellationToken);
        TempData[deleted ? "Success" : "Error"] = message;
        return RedirectToPage();
    }
}
