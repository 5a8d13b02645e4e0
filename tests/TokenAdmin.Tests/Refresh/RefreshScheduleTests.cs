using System.Collections.Frozen;
using Quartz;
using TokenAdmin.Refresh;
using TokenAdmin.Settings;

namespace TokenAdmin.Tests.Refresh;

public sealed class RefreshScheduleTests
{
    [Theory]
    [InlineData("0 * * * *", "0 0 * * * ?")]
    [InlineData("*/10 * * * *", "0 */10 * * * ?")]
    [InlineData("0 0 * * *", "0 0 0 * * ?")]
    [InlineData("30 4 * * 1", "0 30 4 ? * MON")]
    [InlineData("0 0 1 * *", "0 0 0 1 * ?")]
    [InlineData("0 9 * * mon-fri", "0 0 9 ? * MON-FRI")]
    [InlineData("0 0 * * 7", "0 0 0 ? * SUN")]
    [InlineData("0 0 * * 0", "0 0 0 ? * SUN")]
    [InlineData("15 */4 * jan-mar 6-7", "0 15 */4 ? JAN-MAR SAT-SUN")]
    [InlineData("0 0 13 * 5", "0 0 0 13 * FRI")]
    [InlineData("  0   *  * * *  ", "0 0 * * * ?")]
    [InlineData("@hourly", "0 0 * * * ?")]
    [InlineData("@daily", "0 0 0 * * ?")]
    public void TryParseCron_ConvertsCrontabToQuartzForm(string crontab, string quartz)
    {
        Assert.True(RefreshSchedule.TryParseCron(crontab, out var expression, out var error), error);
        Assert.Equal(quartz, expression!.CronExpressionString);
        Assert.Null(RefreshSchedule.CheckCron(crontab));
    }

    /// <summary>The converted schedule fires exactly when crontab would (checked minute by minute against a reference).</summary>
    [Theory]
    [InlineData("0 * * * *")]
    [InlineData("*/10 * * * *")]
    [InlineData("5,35 1-3 * * *")]
    [InlineData("10-50/20 * * * *")]
    [InlineData("30 4 * * 1")]
    [InlineData("0 0 * * 5-7")]
    [InlineData("0 0 * * */2")]
    [InlineData("0 0 * * 1-5/2")]
    [InlineData("0 0 */5 * *")]
    [InlineData("0 12 1-7 * 1")]
    [InlineData("0 0 13 * 5")]
    [InlineData("0 0 * 2-11/3 *")]
    public void TryParseCron_FiresWhenCrontabWould(string crontab)
    {
        Assert.True(RefreshSchedule.TryParseCron(crontab, out var expression, out var error), error);
        var utc = expression!.WithTimeZone(TimeZoneInfo.Utc);
        var from = new DateTimeOffset(2026, 11, 23, 7, 13, 0, TimeSpan.Zero);

        var quartz = new List<DateTimeOffset>();
        for (DateTimeOffset? at = from; quartz.Count < 40 && (at = utc.GetNextValidTimeAfter(at.Value)) is { } next;)
        {
            quartz.Add(next);
        }

        Assert.Equal(Crontab.NextTimes(crontab, from, 40), quartz);
    }

    [Theory]
    [InlineData("", "Schedule is required")]
    [InlineData("0 * * *", "needs 5 fields")]
    [InlineData("0 * * * * * * *", "needs 5 fields")]
    [InlineData("0 0 * * * ?", "leave out the first (seconds) field")]
    [InlineData("0 0 0 * * ? 2030", "and the last (year)")]
    [InlineData("60 * * * *", "minute field (1st) '60' has 60, which is out of range: minute values are 0-59")]
    [InlineData("-1 * * * *", "minute field (1st)")]
    [InlineData("a * * * *", "minute field (1st) 'a' has 'a', which is not a number")]
    [InlineData("0,,5 * * * *", "minute field (1st) '0,,5' has an empty item")]
    [InlineData("1-2-3 * * * *", "minute field (1st)")]
    [InlineData("*/0 * * * *", "minute field (1st) '*/0' has a step /0 that is out of range")]
    [InlineData("*/60 * * * *", "minute field (1st) '*/60' has a step /60 that is out of range")]
    [InlineData("*/x * * * *", "has a step '/x' that is not a whole number")]
    [InlineData("0 24 * * *", "hour field (2nd) '24' has 24, which is out of range: hour values are 0-23")]
    [InlineData("0 20-5 * * *", "hour field (2nd) '20-5' has the range 20-5, which runs backwards")]
    [InlineData("0 0 0 * *", "day-of-month field (3rd) '0' has 0, which is out of range: day-of-month values are 1-31")]
    [InlineData("0 0 32 * *", "day-of-month field (3rd)")]
    [InlineData("0 0 L * *", "day-of-month field (3rd) 'L' uses Quartz's L, W or # forms")]
    [InlineData("0 0 15W * *", "day-of-month field (3rd) '15W' uses Quartz's L, W or # forms")]
    [InlineData("0 0 ? * *", "day-of-month field (3rd) '?' uses ?, which crontab does not know")]
    [InlineData("0 0 * 13 *", "month field (4th) '13' has 13, which is out of range: month values are 1-12")]
    [InlineData("0 0 * FOO *", "month field (4th) 'FOO' has 'FOO', which is neither a number (1-12) nor a name (JAN-DEC)")]
    [InlineData("0 0 * MON *", "month field (4th)")]
    [InlineData("0 0 * * 8", "day-of-week field (5th) '8' has 8, which is out of range: day-of-week values are 0-7 (0 and 7 are Sunday)")]
    [InlineData("0 0 * * FRI-MON", "day-of-week field (5th) 'FRI-MON' has the range FRI-MON, which runs backwards")]
    [InlineData("0 0 * * 1#2", "day-of-week field (5th) '1#2' uses Quartz's L, W or # forms")]
    [InlineData("0 0 * * ?", "day-of-week field (5th) '?' uses ?")]
    [InlineData("0 0 31 2 *", "never fires")]
    [InlineData("0 0 31 4,6 *", "never fires")]
    [InlineData("@reboot", "'@reboot' is not a schedule TokenAdmin knows")]
    [InlineData("every hour", "needs 5 fields")]
    public void CheckCron_RejectsBadInput_WithMessageNamingTheField(string input, string expected)
    {
        var error = RefreshSchedule.CheckCron(input);

        Assert.NotNull(error);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("60")]
    [InlineData("3600")]
    [InlineData("604800")]
    public void CheckInterval_AcceptsZeroAndWholeSecondsInRange(string value) => Assert.Null(RefreshSchedule.CheckInterval(value));

    [Theory]
    [InlineData("59", "out of range")]
    [InlineData("604801", "out of range")]
    [InlineData("99999999", "is not")]
    [InlineData("-1", "is not")]
    [InlineData("+60", "is not")]
    [InlineData("3600.5", "is not")]
    [InlineData("1e3", "is not")]
    [InlineData("one hour", "is not")]
    [InlineData("", "is not")]
    public void CheckInterval_RejectsBadInput_WithRange(string value, string expected)
    {
        var error = RefreshSchedule.CheckInterval(value);

        Assert.NotNull(error);
        Assert.StartsWith("Interval must be", error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("4", true)]
    [InlineData("32", true)]
    [InlineData("0", false)]
    [InlineData("33", false)]
    [InlineData("-4", false)]
    [InlineData("four", false)]
    [InlineData("", false)]
    public void CheckParallelism_AcceptsOneTo32(string value, bool accepted) =>
        Assert.Equal(accepted, RefreshSchedule.CheckParallelism(value) is null);

    [Fact]
    public void SettingDefinitions_ValidateTheUpdaterSettings()
    {
        Assert.Contains("hour field (2nd)", RefreshSettings.Group[RefreshSettings.Schedule].Check("0 25 * * *"), StringComparison.Ordinal);
        Assert.NotNull(RefreshSettings.Group[RefreshSettings.Interval].Check("30"));
        Assert.NotNull(RefreshSettings.Group[RefreshSettings.Parallelism].Check("64"));
        Assert.All(RefreshSettings.Group.Definitions, d => Assert.Null(d.Check(d.DefaultValue)));
    }

    [Fact]
    public void LookAhead_IsTheTimeToTheNextRun_WhenIntervalIsZero()
    {
        var schedule = Schedule("*/10 * * * *", "0");
        var now = new DateTimeOffset(2026, 11, 23, 7, 13, 0, TimeSpan.Zero);

        var ahead = schedule.LookAhead(now);

        Assert.Equal(schedule.NextRunAfter(now)!.Value - now, ahead);
        Assert.True(ahead <= TimeSpan.FromMinutes(10));
    }

    [Fact]
    public void LookAhead_IsTheInterval_WhenItIsLongerThanTheTimeToTheNextRun()
    {
        // OTOBO admins set Interval to the time between runs; a stale, longer one makes the updater refresh earlier.
        var schedule = Schedule("*/10 * * * *", "86400");

        Assert.Equal(TimeSpan.FromDays(1), schedule.LookAhead(DateTimeOffset.UtcNow));
    }

    [Fact]
    public void LookAhead_IgnoresAnIntervalShorterThanTheSchedule()
    {
        // Interval 600 with a daily schedule: OTOBO would let tokens expire between runs; here the next run counts.
        var schedule = Schedule("0 0 * * *", "600");
        var now = DateTimeOffset.UtcNow;

        Assert.Equal(schedule.NextRunAfter(now)!.Value - now, schedule.LookAhead(now));
    }

    [Fact]
    public void From_FallsBackToDefaults_WhenStoredValuesAreUnusable()
    {
        var schedule = Schedule("0 0 0 * * ?", "abc", "99");

        Assert.Equal(RefreshSchedule.DefaultCron, schedule.Cron);
        Assert.Equal(TimeSpan.Zero, schedule.Interval);
        Assert.Equal(4, schedule.Parallelism);
        Assert.Contains("'0 0 0 * * ?' is not usable", schedule.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void BuildTrigger_IsACronTriggerThatFiresOnceAfterAMisfire()
    {
        var trigger = Schedule("*/10 * * * *", "0").BuildTrigger(TimeProvider.System);

        var cron = Assert.IsAssignableFrom<ICronTrigger>(trigger);
        Assert.Equal("0 */10 * * * ?", cron.CronExpressionString);
        Assert.Equal((int)CronTriggerMisfireInstruction.FireAndProceed, trigger.MisfireInstructionCode);
        Assert.Equal(RefreshSchedule.JobKey, trigger.JobKey);
        Assert.Equal(RefreshSchedule.TriggerKey, trigger.Key);
    }

    private static RefreshSchedule Schedule(string cron, string interval, string parallelism = "4") =>
        RefreshSchedule.From(new SettingsSnapshot(new Dictionary<string, string>
        {
            [RefreshSettings.Schedule] = cron,
            [RefreshSettings.Interval] = interval,
            [RefreshSettings.Parallelism] = parallelism,
        }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase), new SettingCatalog([RefreshSettings.Group]), null!, DateTimeOffset.UtcNow));

    /// <summary>
    /// A reference crontab (Vixie cron) evaluator, minute by minute: when day-of-month or day-of-week starts with *, a day
    /// must match both; when both are restricted, either.
    /// </summary>
    private static class Crontab
    {
        private static readonly string[] Days = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
        private static readonly string[] Months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

        public static List<DateTimeOffset> NextTimes(string expression, DateTimeOffset from, int count)
        {
            var f = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var (minutes, hours, dom, months, dow) = (Field(f[0], 0, 59), Field(f[1], 0, 23), Field(f[2], 1, 31), Field(f[3], 1, 12, Months, 1), Field(f[4], 0, 6, Days, 0));
            bool domStar = f[2].StartsWith('*'), dowStar = f[4].StartsWith('*');
            var result = new List<DateTimeOffset>();
            var t = new DateTimeOffset(from.Year, from.Month, from.Day, from.Hour, from.Minute, 0, TimeSpan.Zero).AddMinutes(1);
            for (var i = 0; i < 60 * 24 * 366 * 2 && result.Count < count; i++, t = t.AddMinutes(1))
            {
                bool byDom = dom.Contains(t.Day), byDow = dow.Contains((int)t.DayOfWeek);
                if (minutes.Contains(t.Minute) && hours.Contains(t.Hour) && months.Contains(t.Month)
                    && (domStar || dowStar ? byDom && byDow : byDom || byDow))
                {
                    result.Add(t);
                }
            }

            return result;
        }

        private static HashSet<int> Field(string field, int min, int max, string[]? names = null, int first = 0)
        {
            int Value(string s) => int.TryParse(s, out var n) ? (names == Days && n == 7 ? 0 : n) : Array.IndexOf(names!, s.ToLowerInvariant()) + first;
            var set = new HashSet<int>();
            foreach (var part in field.Split(','))
            {
                var (range, step) = part.Split('/') is [var r, var s] ? (r, int.Parse(s)) : (part, 1);
                var (a, b) = range == "*" ? (min, max) : range.Split('-') is [var lo, var hi] ? (Value(lo), Value(hi)) : (Value(range), part.Contains('/') ? max : Value(range));
                if (names == Days && range.Split('-') is [_, "7"])
                {
                    // 5-7 is Friday to Sunday.
                    set.Add(0);
                    b = 6;
                }

                for (var i = a; i <= b; i += step)
                {
                    set.Add(i);
                }
            }

            return set;
        }
    }
}
