using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Quartz;
using TokenAdmin.Admin;
using TokenAdmin.Refresh;
using TokenAdmin.Settings;

namespace TokenAdmin.Pages.Scheduler;

/// <summary>The token store updater: its schedule (settings TokenStoreUpdater.*), its next runs, "Run now" and the last runs.</summary>
public sealed class SchedulerModel(SettingsStore settings, TokenStoreUpdaterScheduler updater, UpdaterRunLog runs, ISchedulerFactory schedulers, TimeProvider time) : PageModel
{
    [BindProperty]
    public ScheduleInput Input { get; set; } = new();

    /// <summary>Messages by setting name, shown next to their fields.</summary>
    public IReadOnlyDictionary<string, string> Errors { get; private set; } = new Dictionary<string, string>();
    public UpdaterScheduleView View { get; private set; } = null!;
    public IReadOnlyList<UpdaterRunSummary> Runs { get; private set; } = [];

    /// <summary>Each background job's last and next run in plain words, shown at the top.</summary>
    public IReadOnlyList<JobSummary> Jobs { get; private set; } = [];

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
        var now = time.GetUtcNow().UtcDateTime;
        var jobs = new List<JobSummary> { UpdaterSummary(now) };
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        if (await scheduler.GetStatus(cancellationToken) is not (SchedulerStatus.ShuttingDown or SchedulerStatus.Shutdown))
        {
            // The other jobs keep no run records of their own: when Quartz last fired them and when it fires them next.
            foreach (var (key, name, outcome) in new[]
            {
                (TokenAdmin.Mail.MailFetchJob.Key, "Mail fetch", "What each mail account fetched is on its page under Mail accounts."),
                (TokenAdmin.WebServices.CallLogPurgeJob.Key, "Call log purge", "What it removed is written to the application log."),
            })
            {
                var triggers = await scheduler.GetTriggersOfJob(key, cancellationToken);
                if (triggers.Count == 0)
                {
                    continue;
                }

                var last = triggers.Select(t => t.PreviousFireTimeUtc).Where(t => t is not null).Max();
                var next = triggers.Select(t => t.NextFireTimeUtc).Where(t => t is not null).Min();
                jobs.Add(new JobSummary(name,
                    last is { } l ? $"Last started {When(l.UtcDateTime, now)}. {outcome}" : "Has not run since this process started.",
                    next is { } n ? $"Next run {When(n.UtcDateTime, now)}." : "No next run is scheduled in this process."));
            }
        }

        Jobs = jobs;
    }

    private JobSummary UpdaterSummary(DateTime now)
    {
        var last = Runs.Count == 0 ? "Has not run yet." : LastRun(Runs[0], now);
        var next = View.NextFireTimes.Count > 0
            ? $"Next run {When(View.NextFireTimes[0].UtcDateTime, now)}."
            : !View.Enabled
                ? "No next run: the scheduler is not started in this process (TokenAdmin:TokenStoreUpdater:Enabled is false); run `jobs run token-store-updater` on the console."
                : "No next run is scheduled in this process.";
        return new JobSummary("Token store updater", last, next);
    }

    private static string LastRun(UpdaterRunSummary run, DateTime now)
    {
        var outcome = run.Cancelled ? "it was stopped before it finished"
            : run.Failed.Count > 0 ? $"{Count(run.Failed.Count, "token config")} could not be refreshed"
            : "no failures";
        return $"Last ran {When(run.StartedAt, now)}, started by {run.TriggeredBy}, took {run.Duration.TotalSeconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)} s: {outcome}. "
            + $"Refreshed {run.Refreshed.Count}, failed {run.Failed.Count}, skipped {run.Skipped.Count}.";
    }

    /// <summary>"2026-12-03 08:40 UTC (12 minutes ago)" or "(in 8 minutes)".</summary>
    internal static string When(DateTime utc, DateTime now)
    {
        var span = utc - now;
        var distance = span.Duration();
        var words = distance < TimeSpan.FromMinutes(1) ? null
            : distance < TimeSpan.FromHours(1) ? Count((int)distance.TotalMinutes, "minute")
            : distance < TimeSpan.FromDays(2) ? Count((int)distance.TotalHours, "hour")
            : Count((int)distance.TotalDays, "day");
        var relative = words is null ? (span < TimeSpan.Zero ? "less than a minute ago" : "within a minute")
            : span < TimeSpan.Zero ? words + " ago" : "in " + words;
        return $"at {utc.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture)} UTC ({relative})";
    }

    private static string Count(int n, string noun) => $"{n} {noun}{(n == 1 ? "" : "s")}";
}

/// <summary>One background job's last and next run, in plain words.</summary>
public sealed record JobSummary(string Name, string LastRun, string NextRun);

public sealed class ScheduleInput
{
    public string? Schedule { get; set; }
    public string? Interval { get; set; }
    public string? Parallelism { get; set; }
}
