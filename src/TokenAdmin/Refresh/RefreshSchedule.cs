using System.Globalization;
using System.Text.RegularExpressions;
using Quartz;
using TokenAdmin.Settings;

namespace TokenAdmin.Refresh;

/// <summary>
/// When the token store updater runs, read from the settings: a 5-field cron expression as admins write it in crontab,
/// turned into Quartz's form (seconds first, <c>?</c> in day-of-month or day-of-week), plus OTOBO's Interval.
/// </summary>
/// <remarks>
/// Interval keeps the meaning it has in OTOBO: the time between two runs, which the updater looks ahead by. It does not
/// change when runs fire (the cron does). OTOBO trusts it blindly, so a schedule made more frequent without touching
/// Interval still works there, but one made rarer lets tokens expire between runs; here the look-ahead is the longer of
/// Interval and the time to the schedule's next run, so a stale Interval can only make the updater refresh earlier.
/// </remarks>
public sealed partial class RefreshSchedule
{
    public const string DefaultCron = "0 * * * *";
    public const int MinIntervalSeconds = 60;
    public const int MaxIntervalSeconds = 7 * 24 * 3600;
    public const int MaxParallelism = 32;

    public static readonly JobKey JobKey = new("TokenStoreUpdater", "TokenAdmin");
    public static readonly TriggerKey TriggerKey = new("TokenStoreUpdater.Schedule", "TokenAdmin");

    private static readonly string[] FieldNames = ["minute", "hour", "day-of-month", "month", "day-of-week"];
    private static readonly string[] Ordinals = ["1st", "2nd", "3rd", "4th", "5th"];
    private static readonly (int Min, int Max)[] Ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];
    private static readonly string[] MonthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    private static readonly string[] Macros = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

    private RefreshSchedule(string cron, CronExpression expression, TimeSpan interval, int parallelism, string? problem)
    {
        Cron = cron;
        Expression = expression;
        Interval = interval;
        Parallelism = parallelism;
        Problem = problem;
    }

    /// <summary>The schedule as the admin wrote it (5 fields).</summary>
    public string Cron { get; }

    /// <summary>The same schedule in Quartz's form, e.g. <c>0 0 * * * ?</c> for <c>0 * * * *</c>.</summary>
    public string QuartzCron => Expression.CronExpressionString;

    public CronExpression Expression { get; }

    /// <summary>OTOBO's Interval; <see cref="TimeSpan.Zero"/> when the time between runs comes from the cron alone.</summary>
    public TimeSpan Interval { get; }

    public int Parallelism { get; }

    /// <summary>Set when a stored value was unusable (changed outside TokenAdmin) and its default is used instead.</summary>
    public string? Problem { get; }

    /// <summary>What the trigger was built from: a trigger whose description differs is replaced.</summary>
    public string Description => $"cron '{Cron}' ({QuartzCron}, {Expression.TimeZone.Id})";

    public static RefreshSchedule From(SettingsSnapshot settings)
    {
        var problems = new List<string>();
        var cron = settings.Get(RefreshSettings.Schedule);
        if (!TryParseCron(cron, out var expression, out var cronError))
        {
            problems.Add($"The stored schedule '{cron}' is not usable ({cronError}); the default {DefaultCron} is used.");
            cron = DefaultCron;
            expression = CronExpression.Parse(DefaultCron, CronFormat.Unix);
        }

        var intervalText = settings.Get(RefreshSettings.Interval);
        var seconds = 0;
        if (CheckInterval(intervalText) is { } intervalError)
        {
            problems.Add($"The stored interval '{intervalText}' is not usable ({intervalError}); the schedule alone is used.");
        }
        else
        {
            seconds = int.Parse(intervalText, NumberStyles.None, CultureInfo.InvariantCulture);
        }

        var parallelismText = settings.Get(RefreshSettings.Parallelism);
        var parallelism = 4;
        if (CheckParallelism(parallelismText) is { } parallelismError)
        {
            problems.Add($"The stored parallelism '{parallelismText}' is not usable ({parallelismError}); 4 is used.");
        }
        else
        {
            parallelism = int.Parse(parallelismText, NumberStyles.None, CultureInfo.InvariantCulture);
        }

        return new RefreshSchedule(cron, expression!, TimeSpan.FromSeconds(seconds), parallelism, problems.Count == 0 ? null : string.Join(" ", problems));
    }

    /// <summary>The first run of the schedule strictly after <paramref name="after"/>, or null if it never fires again.</summary>
    public DateTimeOffset? NextRunAfter(DateTimeOffset after) => Expression.GetNextValidTimeAfter(after);

    /// <summary>
    /// How far a run starting at <paramref name="now"/> looks ahead: to the next run of the schedule, or by Interval
    /// when that is longer.
    /// </summary>
    public TimeSpan LookAhead(DateTimeOffset now)
    {
        var toNextRun = NextRunAfter(now) is { } next ? next - now : TimeSpan.Zero;
        return toNextRun > Interval ? toNextRun : Interval;
    }

    /// <summary>The Quartz trigger for this schedule. A run that was missed (the node was busy or down) fires once, at once.</summary>
    public ITrigger BuildTrigger(TimeProvider time) =>
        TriggerBuilder.Create(time)
            .WithIdentity(TriggerKey)
            .ForJob(JobKey)
            .WithDescription(Description)
            .WithSchedule(CronScheduleBuilder.Create(Expression)
                .InTimeZone(Expression.TimeZone)
                .WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed))
            .StartNow()
            .Build();

    /// <summary>Setting validation: null when <paramref name="value"/> is a usable 5-field cron expression.</summary>
    public static string? CheckCron(string value) => TryParseCron(value, out _, out var error) ? null : error;

    /// <summary>
    /// Reads a crontab expression (5 fields, or an @-macro such as @hourly). Every field is checked here first so an
    /// admin is told which field is wrong and why; Quartz then rewrites it to its own form (its Unix dialect numbers
    /// Sunday 0 or 7 and keeps crontab's either-day rule when both day fields are restricted).
    /// </summary>
    public static bool TryParseCron(string value, out CronExpression? expression, out string error)
    {
        expression = null;
        error = "";
        var text = value.Trim();
        if (text.Length == 0)
        {
            error = $"Schedule is required: a cron expression such as {DefaultCron} (every hour at minute 0).";
            return false;
        }

        if (text.StartsWith('@'))
        {
            if (!Macros.Contains(text.ToLowerInvariant()))
            {
                error = $"Schedule: '{text}' is not a schedule TokenAdmin knows; use 5 fields or one of {string.Join(", ", Macros)}.";
                return false;
            }
        }
        else
        {
            var fields = text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 5)
            {
                error = fields.Length is 6 or 7
                    ? $"Schedule has {fields.Length} fields; TokenAdmin takes the 5 fields of crontab (minute hour day-of-month month day-of-week) and adds the seconds itself: leave out the first (seconds){(fields.Length == 7 ? " and the last (year)" : "")} field."
                    : $"Schedule needs 5 fields separated by spaces (minute hour day-of-month month day-of-week), for example {DefaultCron}; '{text}' has {fields.Length}.";
                return false;
            }

            for (var i = 0; i < fields.Length; i++)
            {
                if (CheckField(i, fields[i]) is { } fieldError)
                {
                    error = $"Schedule: the {FieldNames[i]} field ({Ordinals[i]}) '{fields[i]}' {fieldError}";
                    return false;
                }
            }

            text = string.Join(' ', fields);
        }

        if (!CronExpression.TryParse(text, CronFormat.Unix, out var parsed) || parsed is null)
        {
            error = $"Schedule '{text}' is not a cron expression Quartz accepts.";
            return false;
        }

        if (parsed.GetNextValidTimeAfter(DateTimeOffset.UtcNow) is null)
        {
            error = $"Schedule '{text}' never fires: no date matches its day-of-month and month together.";
            return false;
        }

        expression = parsed;
        return true;
    }

    /// <summary>Setting validation for Interval: 0, or whole seconds from 60 to 7 days.</summary>
    public static string? CheckInterval(string value)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || value.Length > 7)
        {
            return $"Interval must be a whole number of seconds, for example 3600 for an hourly schedule, or 0 to take it from the schedule; '{value}' is not.";
        }

        return seconds is 0 or (>= MinIntervalSeconds and <= MaxIntervalSeconds)
            ? null
            : $"Interval must be 0 (take the time between runs from the schedule) or from {MinIntervalSeconds} to {MaxIntervalSeconds} seconds (7 days); {seconds} is out of range.";
    }

    public static string? CheckParallelism(string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && value.Length <= 2 && n is >= 1 and <= MaxParallelism
            ? null
            : $"Parallelism must be a whole number from 1 to {MaxParallelism}; '{value}' is not.";

    /// <returns>The end of the message "the X field 'v' ...", or null when the field is fine.</returns>
    private static string? CheckField(int index, string field)
    {
        var (min, max) = Ranges[index];
        var names = index switch { 3 => MonthNames, 4 => DayNames, _ => null };
        if (field.Contains('?', StringComparison.Ordinal))
        {
            return "uses ?, which crontab does not know: write * (TokenAdmin adds the ? Quartz needs).";
        }

        foreach (var item in field.Split(','))
        {
            if (item.Length == 0)
            {
                return "has an empty item in its list: write items separated by commas without spaces, for example 0,30.";
            }

            var range = item;
            if (item.IndexOf('/', StringComparison.Ordinal) is var slash and >= 0)
            {
                range = item[..slash];
                var stepText = item[(slash + 1)..];
                if (!int.TryParse(stepText, NumberStyles.None, CultureInfo.InvariantCulture, out var step) || stepText.Length > 3)
                {
                    return $"has a step '/{stepText}' that is not a whole number: write for example */10.";
                }

                if (step < 1 || step > max)
                {
                    return $"has a step /{step} that is out of range: steps in this field run from 1 to {max}.";
                }
            }

            if (range == "*")
            {
                continue;
            }

            var bounds = range.Split('-');
            if (bounds.Length > 2 || bounds.Any(b => b.Length == 0))
            {
                return $"has '{range}', which is not a number, a name, * or a range such as 1-5.";
            }

            var values = new int[bounds.Length];
            for (var b = 0; b < bounds.Length; b++)
            {
                if (Value(bounds[b], names) is not { } v)
                {
                    return QuartzOnlyRegex().IsMatch(bounds[b])
                        ? $"uses Quartz's L, W or # forms ('{bounds[b]}'), which crontab does not know: use numbers, names, *, lists (1,15), ranges (1-5) and steps (*/10)."
                        : names is null
                        ? $"has '{bounds[b]}', which is not a number: {FieldNames[index]} values are {min}-{max}."
                        : $"has '{bounds[b]}', which is neither a number ({min}-{max}) nor a name ({names[0]}-{names[^1]}).";
                }

                if (v < min || v > max)
                {
                    return $"has {v}, which is out of range: {FieldNames[index]} values are {min}-{max}{(index == 4 ? " (0 and 7 are Sunday)" : "")}.";
                }

                values[b] = v;
            }

            if (values.Length == 2 && values[0] > values[1])
            {
                var instead = index == 4 && values[1] == 0 ? $"{values[0]}-7 (7 is Sunday too)" : $"two ranges such as {values[0]}-{max},{min}-{values[1]}";
                return $"has the range {range}, which runs backwards: write the smaller value first, or {instead}.";
            }
        }

        return null;
    }

    private static bool ContainsName(string field, string[] names) =>
        names.Any(n => field.Contains(n, StringComparison.OrdinalIgnoreCase));

    private static int? Value(string text, string[]? names)
    {
        if (text.Length <= 2 && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }

        if (names is not null && Array.FindIndex(names, n => n.Equals(text, StringComparison.OrdinalIgnoreCase)) is var i and >= 0)
        {
            // Months are numbered from 1, days of the week from 0 (Sunday).
            return names == MonthNames ? i + 1 : i;
        }

        return null;
    }

    [GeneratedRegex("^[0-9]*[LW#][0-9LW]*$", RegexOptions.IgnoreCase)]
    private static partial Regex QuartzOnlyRegex();
}
