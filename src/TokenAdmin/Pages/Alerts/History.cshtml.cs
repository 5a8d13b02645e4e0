using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Alerts;
using TokenAdmin.Alerts.Channels;

namespace TokenAdmin.Pages.Alerts;

public sealed class AlertsHistoryModel(AlertChannelService service) : PageModel
{
    public AlertDeliveryStatus? Status { get; private set; }
    public IReadOnlyList<AlertHistoryRow> Rows { get; private set; } = [];

    public async Task OnGetAsync(AlertDeliveryStatus? status, CancellationToken cancellationToken)
    {
        Status = status is { } s && Enum.IsDefined(s) ? s : null;
        Rows = await service.HistoryAsync(null, Status, cancellationToken);
    }
}
