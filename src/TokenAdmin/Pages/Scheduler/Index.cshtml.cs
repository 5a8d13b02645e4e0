using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.Refresh;
using TokenAdmin.Settings;

namespace TokenAdmin.Pages.Scheduler;

/// <summary>The token store updater: its schedule (settings TokenStoreUpdater.*), its next runs, "Run now" and the last runs.</summary>
public sealed class SchedulerModel(SettingsStore settings, TokenStoreUpdaterScheduler updater, UpdaterRunLog runs) : PageModel
{
    [BindProperty]
    public ScheduleInput Input { get; set; } = new();

    /// <summary>Messages by setting name, shown next to their fields.</summary>
    public IReadOnlyDictionary<string, string> Errors { get; private set; } = new Dictionary<string, string>();
    public UpdaterScheduleView View { get; private set; } = null!;
    public IReadOnlyList<UpdaterRunSummary> Runs { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var current = await settings.GetAsync(cancellationToken);
        Input = new ScheduleInput
        {
            Schedule = current.Get(RefreshSettings.Schedule),
            Interval = current.Get(RefreshSettings.Interval),
            Parallelism = current.Get(RefreshSettings.Parallelism),
        };
        await LoadAsync(cancellationToken);
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var result = await settings.UpdateAsync(new Dictionary<string, string?>
        {
            [RefreshSettings.Schedule] = Input.Schedule,
            [RefreshSettings.Interval] = Input.Interval,
            [RefreshSettings.Parallelism] = Input.Parallelism,
        }, AdminAuthentication.Actor(User), cancellationToken);
        if (!result.Succeeded)
        {
            Errors = result.Errors;
            await LoadAsync(cancellationToken);
            return Page();
        }

        // Note: applied here as well as by the settings' Changed event, so the page after the redirect shows the new runs.
        var schedule = await updater.ApplyScheduleAsync(cancellationToken);
        TempData["Success"] = result.Changed.Count == 0
            ? "Nothing changed."
            : $"Saved. The token store updater now runs on {schedule.Cron} ({schedule.QuartzCron} in Quartz).";
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostRunNowAsync(CancellationToken cancellationToken)
    {
        if (await updater.RunNowAsync(AdminAuthentication.Actor(User), cancellationToken))
        {
            TempData["Success"] = "The token store updater was started. Its summary is listed under Last runs when it has finished (reload the page).";
        }
        else
        {
            TempData["Error"] = "The scheduler is not running in this process (TokenAdmin:TokenStoreUpdater:Enabled is false), so nothing was started. " +
                "Run `jobs run token-store-updater` on the console instead.";
        }

        return RedirectToPage();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        View = await updater.DescribeAsync(cancellationToken);
        Runs = await runs.RecentAsync(cancellationToken);
    }
}

public sealed class ScheduleInput
{
    public string? Schedule { get; set; }
    public string? Interval { get; set; }
    public string? Parallelism { get; set; }
}
