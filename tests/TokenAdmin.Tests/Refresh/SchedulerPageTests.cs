using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Quartz;
using TokenAdmin.Refresh;
using TokenAdmin.Settings;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.Tests.Refresh;

/// <summary>The Scheduler page with the app's Quartz scheduler running.</summary>
public sealed partial class SchedulerPageTests : UpdaterTestBase
{
    protected override bool SchedulerEnabled => true;

    private async Task<string> PageAsync(string url = "/scheduler") => WebUtility.HtmlDecode(await Browser.GetStringAsync(url));

    private static List<DateTime> NextRuns(string page) =>
        NextRunRegex().Matches(page).Select(m => DateTime.SpecifyKind(DateTime.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), DateTimeKind.Utc)).ToList();

    private async Task<ICronTrigger> TriggerAsync()
    {
        var scheduler = await App.Services.GetRequiredService<ISchedulerFactory>().GetScheduler(default);
        return Assert.IsAssignableFrom<ICronTrigger>(await scheduler.GetTrigger(RefreshSchedule.TriggerKey, default));
    }

    private Task<HttpResponseMessage> SaveAsync(string schedule, string interval = "0", string parallelism = "4") =>
        Browser.PostFormAsync("/scheduler", new() { ["Input.Schedule"] = schedule, ["Input.Interval"] = interval, ["Input.Parallelism"] = parallelism });

    [Fact]
    public async Task Page_ShowsTheDefaultScheduleAndTheNextFiveRunsComputedByQuartz()
    {
        var page = await PageAsync();

        Assert.Contains("<code>0 * * * *</code> · in Quartz: <code>0 0 * * * ?</code>", page, StringComparison.Ordinal);
        Assert.Contains("running", page, StringComparison.Ordinal);
        var runs = NextRuns(page);
        Assert.Equal(5, runs.Count);
        Assert.All(runs, r => Assert.Equal((0, 0), (r.Minute, r.Second)));
        Assert.All(runs.Zip(runs.Skip(1)), p => Assert.Equal(TimeSpan.FromHours(1), p.Second - p.First));
        Assert.InRange(runs[0], DateTime.UtcNow.AddSeconds(-5), DateTime.UtcNow.AddHours(1));
        Assert.Contains("No runs yet.", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Page_SummarisesTheLastAndNextRunInPlainWords_AtTheTop()
    {
        var before = await PageAsync();
        var next = NextRuns(before)[0];
        var top = before[before.IndexOf("<h1>Scheduler</h1>", StringComparison.Ordinal)..before.IndexOf("Token store updater</h2>", StringComparison.Ordinal)];
        Assert.Contains($"<strong>Token store updater:</strong> Has not run yet. Next run at {next:yyyy-MM-dd HH:mm} UTC (", top, StringComparison.Ordinal);

        var startedAt = DateTime.UtcNow.AddMinutes(-12);
        await App.Services.GetRequiredService<UpdaterRunLog>().RecordAsync(new UpdaterRunSummary(startedAt, TimeSpan.FromSeconds(3.4), "alice",
            [new UpdaterRefresh("a", "expires soon"), new UpdaterRefresh("b", "expires soon")],
            [new UpdaterFailure("c", "invalid_grant", "revoked")],
            [new UpdaterSkip("d", "not due"), new UpdaterSkip("e", "not due"), new UpdaterSkip("f", "not due")]), default);

        var page = await PageAsync();
        top = page[page.IndexOf("<h1>Scheduler</h1>", StringComparison.Ordinal)..page.IndexOf("Token store updater</h2>", StringComparison.Ordinal)];
        Assert.Contains($"<strong>Token store updater:</strong> Last ran at {startedAt:yyyy-MM-dd HH:mm} UTC (12 minutes ago), started by alice, took 3.4 s: "
            + "1 token config could not be refreshed. Refreshed 2, failed 1, skipped 3. Next run at", top, StringComparison.Ordinal);
        Assert.Matches(@"Next run at \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC \((in \d+ minutes?|within a minute)\)\.", top);
    }

    [Fact]
    public async Task Menu_LinksToTheSchedulerPage()
    {
        Assert.Contains("<li><a href=\"/Scheduler\">Scheduler</a></li>", await Browser.GetStringAsync("/"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Save_ValidCron_ReschedulesTheTrigger_AndShowsItsNextRuns()
    {
        var response = await SaveAsync("*/10 * * * *", "3600", "8");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var page = await PageAsync(response.Headers.Location!.OriginalString);
        Assert.Contains("Saved. The token store updater now runs on */10 * * * * (0 */10 * * * ? in Quartz).", page, StringComparison.Ordinal);
        Assert.Equal("0 */10 * * * ?", (await TriggerAsync()).CronExpressionString);
        var runs = NextRuns(page);
        Assert.Equal(5, runs.Count);
        Assert.All(runs, r => Assert.Equal(0, r.Minute % 10));
        Assert.All(runs.Zip(runs.Skip(1)), p => Assert.Equal(TimeSpan.FromMinutes(10), p.Second - p.First));
        Assert.Contains("or 3600 s (Interval) when that is longer", page, StringComparison.Ordinal);
        Assert.Contains("8 token configs at a time", page, StringComparison.Ordinal);
        var stored = await App.Services.GetRequiredService<SettingsStore>().GetAsync();
        Assert.Equal("*/10 * * * *", stored.Get(RefreshSettings.Schedule));
        Assert.Equal("3600", stored.Get(RefreshSettings.Interval));
        Assert.Equal("8", stored.Get(RefreshSettings.Parallelism));
    }

    [Fact]
    public async Task Save_BadInput_ShowsTheMessageNextToTheField_AndSavesNothing()
    {
        var cases = new (string Schedule, string Interval, string Parallelism, string Message)[]
        {
            ("0 * * *", "0", "4", "Schedule needs 5 fields"),
            ("0 0 * * * ?", "0", "4", "Schedule has 6 fields; TokenAdmin takes the 5 fields of crontab"),
            ("61 * * * *", "0", "4", "the minute field (1st) '61' has 61, which is out of range"),
            ("0 25 * * *", "0", "4", "the hour field (2nd) '25'"),
            ("0 0 32 * *", "0", "4", "the day-of-month field (3rd) '32'"),
            ("0 0 * 13 *", "0", "4", "the month field (4th) '13'"),
            ("0 0 * * 9", "0", "4", "the day-of-week field (5th) '9'"),
            ("0 0 ? * MON", "0", "4", "uses ?, which crontab does not know"),
            ("0 0 31 2 *", "0", "4", "never fires"),
            ("<script>alert(1)</script>", "0", "4", "Schedule needs 5 fields"),
            ("", "0", "4", "Schedule is required"),
            // All or nothing: a good schedule is not saved beside a bad interval or parallelism.
            ("*/5 * * * *", "30", "4", "Interval must be 0 (take the time between runs from the schedule) or from 60 to 604800 seconds"),
            ("*/5 * * * *", "an hour", "4", "Interval must be a whole number of seconds"),
            ("*/5 * * * *", "0", "0", "Parallelism must be a whole number from 1 to 32"),
            ("*/5 * * * *", "0", "33", "Parallelism must be a whole number from 1 to 32"),
        };

        foreach (var (schedule, interval, parallelism, message) in cases)
        {
            var response = await SaveAsync(schedule, interval, parallelism);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var html = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain("<script>alert(1)</script>", html, StringComparison.Ordinal);
            var page = WebUtility.HtmlDecode(html);
            Assert.Contains("Nothing was saved. Correct the fields marked below.", page, StringComparison.Ordinal);
            Assert.Matches("<p class=\"field-error\">[^<]*" + Regex.Escape(message), page);
        }

        Assert.Equal(0, await App.WithDbAsync(db => db.Settings.CountAsync(s => s.Name.StartsWith("TokenStoreUpdater."))));
        Assert.Equal(0, await App.WithDbAsync(db => db.AuditEntries.CountAsync(e => e.Action == "setting.updated")));
        Assert.Equal("0 0 * * * ?", (await TriggerAsync()).CronExpressionString);
    }

    [Fact]
    public async Task SettingsChangedThroughTheSettingsStore_RescheduleTheTrigger()
    {
        var scheduler = App.Services.GetRequiredService<TokenStoreUpdaterScheduler>();
        var rescheduled = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        scheduler.Rescheduled += d => rescheduled.TrySetResult(d);

        var result = await App.Services.GetRequiredService<SettingsStore>().UpdateAsync(
            new Dictionary<string, string?> { [RefreshSettings.Schedule] = "15 3 * * sun" }, "test", default);

        Assert.True(result.Succeeded);
        Assert.Contains("0 15 3 ? * SUN", await rescheduled.Task.WaitAsync(Bounded), StringComparison.Ordinal);
        Assert.Equal("0 15 3 ? * SUN", (await TriggerAsync()).CronExpressionString);
    }

    [Fact]
    public async Task RunNow_ThroughHttp_RunsTheJob_AndTheSummaryIsShown()
    {
        var id = await AuthorizedConfigAsync("mailbox");
        var fresh = await AuthorizedConfigAsync("fresh");
        await ChangeStateAsync(id, s => s.AccessTokenExpiresAt = Now.AddMinutes(1));
        await ChangeStateAsync(fresh, s => s.AccessTokenExpiresAt = Now.AddDays(1));
        Idp.ResetCounters();
        HttpResponseMessage? response = null;

        var summary = await RecordedRunAsync(
            s => s.TriggeredBy.StartsWith("Run now", StringComparison.Ordinal),
            async () => response = await Browser.PostFormAsync("/scheduler?handler=RunNow", [], formPage: "/scheduler"));

        Assert.Equal(HttpStatusCode.Redirect, response!.StatusCode);
        Assert.Equal("/Scheduler", response.Headers.Location!.OriginalString);
        Assert.Equal("Run now (admin:alice)", summary.TriggeredBy);
        Assert.Equal("mailbox", Assert.Single(summary.Refreshed).Name);
        Assert.Equal("fresh", Assert.Single(summary.Skipped).Name);
        Assert.Equal(1, Idp.TokenRequestsByGrantType["refresh_token"]);
        var page = await PageAsync();
        Assert.Contains("The token store updater was started.", page, StringComparison.Ordinal);
        Assert.Matches(@"<td[^>]*>Run now \(admin:alice\)</td>\s*<td[^>]*>[0-9.]+ s</td>\s*<td[^>]*>\s*1\s*<ul>\s*<li>mailbox", page);
        Assert.Contains("<summary>1</summary>", page, StringComparison.Ordinal);
        Assert.Equal(1, await App.WithDbAsync(db => db.AuditEntries.CountAsync(e => e.Action == "updater.run-requested" && e.Actor == "admin:alice")));
    }

    [Fact]
    public async Task RunNow_WithoutAntiforgeryToken_IsRefused()
    {
        var response = await Browser.PostAsync("/scheduler?handler=RunNow", new FormUrlEncodedContent([]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(await App.Services.GetRequiredService<UpdaterRunLog>().RecentAsync(default));
    }

    [GeneratedRegex("<li class=\"mono\">([0-9-]+ [0-9:]+)</li>")]
    private static partial Regex NextRunRegex();
}
