using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Quartz;
using TokenAdmin.Settings;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tokens;
using TokenAdmin.WebServices;

namespace TokenAdmin.Tests.WebServices;

public sealed class DebuggerTests : WebServiceTestBase
{
    private const string BasicPassword = "basic-pass-7781";
    private const string SecretHeader = "key-secret-5521";
    private const string JsonPassword = "json-secret-pass-3345";
    private const string JsonClientSecret = "client-secret-8812";
    private const string AnsweredToken = "resp-token-9911";
    private const string QueryToken = "query-token-4477";

    private ICallRecorder Recorder => App.Services.GetRequiredService<ICallRecorder>();

    [Fact]
    public async Task Debugger_StoresEveryCall_AndNeverTheTokenPasswordSecretHeaderOrSecretFields()
    {
        var profile = await CreateProfileAsync();
        var account = await CreateAccountAsync(profile.Id);
        var bearerId = await CreateWebServiceAsync("crm", w =>
        {
            w.Authentication = WebServiceAuthentication.FunctionalAccount;
            w.TokenSource = $"FunctionalAccount:{account.Id}";
        });
        await CreateInvokerAsync(bearerId, "login", "POST", "/login");
        var basicId = await CreateWebServiceAsync("legacy", w =>
        {
            w.Authentication = WebServiceAuthentication.Basic;
            w.BasicUserName = "otobo";
            w.BasicPassword = BasicPassword;
            w.SecretHeaders = "X-Tenant-Key: " + SecretHeader;
        });
        await CreateInvokerAsync(basicId, "search", "POST", "/search");
        Echo.ExtraAnswer["access_token"] = AnsweredToken;
        var first = true;
        Echo.Authorize = _ =>
        {
            // The first bearer call is refused once, so the debugger holds both attempts.
            var answer = !first;
            first = false;
            return answer;
        };
        var body = "{\"user\":\"alice\",\"password\":\"" + JsonPassword + "\",\"nested\":{\"client_secret\":\"" + JsonClientSecret + "\"}}";

        Assert.Equal(200, (await InvokeAsync("crm", "login", body, query: new() { ["access_token"] = QueryToken, ["page"] = "2" })).StatusCode);
        Assert.Equal(200, (await InvokeAsync("legacy", "search", body)).StatusCode);
        var token = await App.Services.GetRequiredService<ITokenProvider>().GetTokenAsync(TokenSource.Account(account.Id), default);
        var sentTokens = Echo.Requests.Select(r => r.Headers["Authorization"]).ToList();

        var entries = await App.WithDbAsync(db => db.CallLogEntries.AsNoTracking().OrderBy(e => e.Id).ToListAsync());
        Assert.Equal(3, entries.Count);
        Assert.Equal([401, 200, 200], entries.Select(e => e.StatusCode));
        Assert.All(entries, e => Assert.Equal(CallDirection.Outgoing, e.Direction));
        Assert.Equal(["crm", "crm", "legacy"], entries.Select(e => e.WebService));
        Assert.Equal("test", entries[0].Caller);
        Assert.Contains("Authorization: Bearer [redacted]", entries[0].RequestHeaders, StringComparison.Ordinal);
        Assert.Contains("Authorization: Basic [redacted]", entries[2].RequestHeaders, StringComparison.Ordinal);
        Assert.Contains("X-Tenant-Key: [redacted]", entries[2].RequestHeaders, StringComparison.Ordinal);
        Assert.Contains("access_token=[redacted]&page=2", entries[1].Url, StringComparison.Ordinal);
        Assert.Contains("\"user\":\"alice\"", entries[2].RequestBody, StringComparison.Ordinal);
        Assert.Contains("X-Echo: yes", entries[2].ResponseHeaders, StringComparison.Ordinal);

        var secrets = new List<string>
        {
            token.Value, BasicPassword, Convert.ToBase64String(Encoding.UTF8.GetBytes("otobo:" + BasicPassword)), SecretHeader,
            JsonPassword, JsonClientSecret, AnsweredToken, QueryToken,
        };
        secrets.AddRange(sentTokens.Select(t => t.Split(' ')[1]));
        var raw = await DatabaseFiles.RawTextAsync(App.DataDirectory);
        var list = await Browser.GetStringAsync("/webservices/debugger");
        var details = new List<string>();
        foreach (var entry in entries)
        {
            details.Add(await Browser.GetStringAsync($"/webservices/debugger/{entry.Id}"));
        }

        Assert.Contains("/api/login", list, StringComparison.Ordinal);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, raw, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, list, StringComparison.Ordinal);
            Assert.All(details, d => Assert.DoesNotContain(secret, d, StringComparison.Ordinal));
        }

        Assert.Contains("[redacted]", details[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Debugger_Filters_ByWebServiceStatusDirectionAndText()
    {
        await RecordAsync("crm", 200, DateTimeOffset.UtcNow.AddMinutes(-5), url: "https://crm.example.test/tickets/1");
        await RecordAsync("crm", 503, DateTimeOffset.UtcNow.AddMinutes(-4), url: "https://crm.example.test/tickets/2");
        await RecordAsync("erp", 404, DateTimeOffset.UtcNow.AddMinutes(-3), url: "https://erp.example.test/orders/7");
        await RecordAsync(null, null, DateTimeOffset.UtcNow.AddMinutes(-2), url: "http://localhost/api/v1/tokens", direction: CallDirection.Incoming, error: "invalid_token");

        var crm = await Browser.GetStringAsync("/webservices/debugger?WebService=crm");
        var failures = await Browser.GetStringAsync("/webservices/debugger?Status=5xx");
        var incoming = await Browser.GetStringAsync("/webservices/debugger?Direction=Incoming");
        var text = await Browser.GetStringAsync("/webservices/debugger?Text=orders");
        var range = await Browser.GetStringAsync($"/webservices/debugger?From={DateTime.UtcNow.AddMinutes(-3.5):yyyy-MM-ddTHH:mm:ss}");

        Assert.Contains("/tickets/1", crm, StringComparison.Ordinal);
        Assert.DoesNotContain("/orders/7", crm, StringComparison.Ordinal);
        Assert.Contains("/tickets/2", failures, StringComparison.Ordinal);
        Assert.DoesNotContain("/tickets/1", failures, StringComparison.Ordinal);
        Assert.Contains("/api/v1/tokens", incoming, StringComparison.Ordinal);
        Assert.DoesNotContain("/tickets/", incoming, StringComparison.Ordinal);
        Assert.Contains("/orders/7", text, StringComparison.Ordinal);
        Assert.DoesNotContain("/tickets/", text, StringComparison.Ordinal);
        Assert.Contains("/orders/7", range, StringComparison.Ordinal);
        Assert.DoesNotContain("/tickets/", range, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await Browser.GetAsync("/webservices/debugger/999999")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await App.CreateBrowser().GetAsync("/webservices/debugger")).StatusCode);
    }

    [Fact]
    public async Task PurgeJob_RemovesEntriesOlderThanTheRetentionOnly()
    {
        await SetAsync(DebuggerSettings.RetentionDays, "7");
        await RecordAsync("crm", 200, DateTimeOffset.UtcNow.AddDays(-8), url: "https://crm.example.test/old");
        await RecordAsync("crm", 200, DateTimeOffset.UtcNow.AddDays(-6), url: "https://crm.example.test/recent");
        await RecordAsync("crm", 200, DateTimeOffset.UtcNow, url: "https://crm.example.test/now");

        var deleted = await App.Services.GetRequiredService<CallLogPurgeJob>().PurgeAsync(default);

        Assert.Equal(1, deleted);
        var left = await App.WithDbAsync(db => db.CallLogEntries.Select(e => e.Url).OrderBy(u => u).ToListAsync());
        Assert.Equal(["https://crm.example.test/now", "https://crm.example.test/recent"], left);
    }

    [Fact]
    public async Task PurgeJob_IsScheduledHourly_NeverTwiceAtOnce()
    {
        var scheduler = await App.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();

        var cron = Assert.IsAssignableFrom<ICronTrigger>(Assert.Single(await scheduler.GetTriggersOfJob(CallLogPurgeJob.Key)));

        Assert.Equal("0 23 * * * ?", cron.CronExpressionString);
        Assert.True((await scheduler.GetJobDetail(CallLogPurgeJob.Key))!.ConcurrentExecutionDisallowed);
    }

    [Fact]
    public async Task RetentionSetting_RefusesValuesOutOfRange_AndChangesNothing()
    {
        var response = await Browser.PostFormAsync("/webservices/debugger?handler=Retention", new() { ["RetentionDays"] = "0" }, formPage: "/webservices/debugger");
        var page = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Retention must be a whole number from 1 to 3650.", page, StringComparison.Ordinal);
        Assert.False(await App.WithDbAsync(db => db.Settings.AnyAsync(s => s.Name == DebuggerSettings.RetentionDays)));

        var saved = await Browser.PostFormAsync("/webservices/debugger?handler=Retention", new() { ["RetentionDays"] = "30" }, formPage: "/webservices/debugger");
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        Assert.Equal("30", (await App.Services.GetRequiredService<SettingsStore>().GetAsync()).Get(DebuggerSettings.RetentionDays));
    }

    [Fact]
    public async Task Recorder_CutsBodiesAtTheLimit_AfterRedacting()
    {
        await SetAsync(DebuggerSettings.BodyLimit, "1024");
        var body = "{\"password\":\"" + JsonPassword + "\",\"text\":\"" + new string('x', 5000) + "\"}";

        await Recorder.RecordAsync(new CallRecord(CallDirection.Incoming, DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(12), "POST", "http://localhost/api/v1/x", 200,
            [new("Cookie", "session=abcdef123456")], body, [new("Set-Cookie", "session=zyxw98765; HttpOnly")], "ok"), default);

        var entry = await App.WithDbAsync(db => db.CallLogEntries.SingleAsync());
        Assert.StartsWith("{\"password\":\"[redacted]\"", entry.RequestBody, StringComparison.Ordinal);
        Assert.Matches(@"\[cut at 1024 of 50\d\d characters\]$", entry.RequestBody);
        Assert.True(entry.RequestBody!.Length < 1100);
        Assert.Equal("Cookie: [redacted]\n", entry.RequestHeaders);
        Assert.Equal("Set-Cookie: [redacted]\n", entry.ResponseHeaders);
        Assert.Equal(12, entry.DurationMs);
    }

    [Fact]
    public async Task Recorder_NeverThrows_WhenTheDebuggerCannotStore()
    {
        await App.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("DROP TABLE CallLogEntries"));

        await RecordAsync("crm", 200, DateTimeOffset.UtcNow, url: "https://crm.example.test/x");

        Assert.Contains(App.LogMessages, m => m.Contains("The debugger could not store", StringComparison.Ordinal));
    }

    private async Task RecordAsync(string? webService, int? status, DateTimeOffset at, string url, CallDirection direction = CallDirection.Outgoing, string? error = null) =>
        await Recorder.RecordAsync(new CallRecord(direction, at, TimeSpan.FromMilliseconds(5), "GET", url, status, [], null, [], null, error, webService, webService is null ? null : "op", "test"), default);

    private async Task SetAsync(string name, string value)
    {
        var result = await App.Services.GetRequiredService<SettingsStore>().UpdateAsync(new Dictionary<string, string?> { [name] = value }, "test", default);
        Assert.True(result.Succeeded);
    }
}
