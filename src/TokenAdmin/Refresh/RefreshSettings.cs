using TokenAdmin.Settings;

namespace TokenAdmin.Refresh;

/// <summary>When the token store updater runs and how many sources one run refreshes at the same time.</summary>
public static class RefreshSettings
{
    public const string Schedule = "TokenStoreUpdater.Schedule";
    public const string Interval = "TokenStoreUpdater.Interval";
    public const string Parallelism = "TokenStoreUpdater.Parallelism";
    public const string GroupName = "Token store updater";

    public static SettingGroup Group { get; } = new(GroupName,
    [
        new(Schedule, GroupName, "Schedule",
            "When the updater refreshes tokens: a cron expression with 5 fields (minute hour day-of-month month day-of-week) in the server's time zone, as in crontab. " +
            "Examples: 0 * * * * (hourly, at minute 0), */10 * * * * (every 10 minutes), 0 0 * * * (daily at midnight).",
            RefreshSchedule.DefaultCron, Validate: RefreshSchedule.CheckCron),
        new(Interval, GroupName, "Interval (seconds)",
            "The time between two runs, as in OTOBO (3600 for an hourly schedule): each run refreshes what expires before the next run. " +
            "TokenAdmin also computes the next run from the schedule and looks ahead by the longer of the two, so 0 (the schedule alone) is enough.",
            "0", Validate: RefreshSchedule.CheckInterval),
        new(Parallelism, GroupName, "Parallelism", "How many token configs one run refreshes at the same time (1 to 32).",
            "4", Validate: RefreshSchedule.CheckParallelism),
    ]);
}
