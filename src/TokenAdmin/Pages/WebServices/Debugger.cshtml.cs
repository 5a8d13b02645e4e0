using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.Settings;
using TokenAdmin.WebServices;

namespace TokenAdmin.Pages.WebServices;

public sealed class DebuggerModel(CallLog log, SettingsStore settings) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public CallDirection? Direction { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? WebService { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Status { get; set; }

    [BindProperty(SupportsGet = true)]
    public DateTime? From { get; set; }

    [BindProperty(SupportsGet = true)]
    public DateTime? To { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Text { get; set; }

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    [BindProperty]
    public string? RetentionDays { get; set; }

    public CallLogPage Result { get; private set; } = null!;
    public IReadOnlyList<string> WebServices { get; private set; } = [];
    public string? RetentionError { get; private set; }
    public string SizeText { get; private set; } = "";

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    /// <summary>Changes the retention (days) through the settings store: validated, audited.</summary>
    public async Task<IActionResult> OnPostRetentionAsync(CancellationToken cancellationToken)
    {
        var result = await settings.UpdateAsync(new Dictionary<string, string?> { [DebuggerSettings.RetentionDays] = RetentionDays ?? "" }, AdminAuthentication.Actor(User), cancellationToken);
        if (!result.Succeeded)
        {
            RetentionError = string.Join(" ", result.Errors.Values);
            await LoadAsync(cancellationToken);
            return Page();
        }

        TempData["Success"] = $"The debugger keeps calls for {RetentionDays!.Trim()} days.";
        return RedirectToPage();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var filter = new CallLogFilter { Direction = Direction, WebService = WebService, Status = Status, From = From, To = To, Text = Text, Page = PageNumber };
        Result = await log.ReadAsync(filter, cancellationToken);
        WebServices = await log.WebServiceNamesAsync(cancellationToken);
        var snapshot = await settings.GetAsync(cancellationToken);
        RetentionDays ??= snapshot.Get(DebuggerSettings.RetentionDays);
        var (size, calls) = await log.SizeAsync(cancellationToken);
        SizeText = string.Create(CultureInfo.InvariantCulture,
            $"{calls} call(s), {size / (double)CallLogBound.Megabyte:0.0} MB of {CallLogBound.MaxSize(snapshot) / CallLogBound.Megabyte} MB (setting Debugger.MaxSizeMB; the oldest calls go first).");
    }

    public Dictionary<string, string?> Route(int page) => new()
    {
        ["Direction"] = Direction?.ToString(),
        ["WebService"] = WebService,
        ["Status"] = Status,
        ["From"] = From?.ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture),
        ["To"] = To?.ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture),
        ["Text"] = Text,
        ["p"] = page.ToString(CultureInfo.InvariantCulture),
    };
}
