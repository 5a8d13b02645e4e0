using System.Net;
using System.Net.Http.Headers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Settings;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.WebServices;

namespace TokenAdmin.Tests.Security;

/// <summary>
/// Issue 17, item 1: anonymous callers must not be able to fill the disk through the call debugger. /api is
/// rate-limited per client address and overall; refused calls leave a capped summary; header text is capped; the
/// debugger's total size is bounded (oldest first) and shown on its page.
/// </summary>
public sealed class DebuggerFloodTests : IAsyncLifetime
{
    private readonly PeerAddressFactory _app = new();

    public Task InitializeAsync()
    {
        _app.Settings["TokenAdmin:Api:RateLimit:PerClientPerMinute"] = "5";
        _app.Settings["TokenAdmin:Api:RateLimit:TotalPerMinute"] = "8";
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static async Task<HttpResponseMessage> AnonymousCallAsync(HttpClient client) => await client.GetAsync("/api/v1/tokens");

    [Fact]
    public async Task Api_Flood_Gets429WithRetryAfter_PerClientAndOverall_AndRefusedCallsAreNotStored()
    {
        var first = _app.BrowserFrom("203.0.113.10");
        var second = _app.BrowserFrom("203.0.113.20");

        var firstAnswers = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            firstAnswers.Add((await AnonymousCallAsync(first)).StatusCode);
        }

        var secondAnswers = new List<HttpResponseMessage>();
        for (var i = 0; i < 4; i++)
        {
            secondAnswers.Add(await AnonymousCallAsync(second));
        }

        // Per client: five calls, the sixth is refused.
        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, 5), HttpStatusCode.TooManyRequests], firstAnswers);
        // Overall: eight calls a minute, so the second client gets three although its own limit is five.
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests],
            secondAnswers.Select(r => r.StatusCode));
        var limited = secondAnswers[3];
        Assert.True(limited.Headers.RetryAfter?.Delta is { TotalSeconds: > 0 and <= 60 }, "Retry-After: " + limited.Headers.RetryAfter);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Too many", await limited.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(8, await _app.WithDbAsync(db => db.CallLogEntries.CountAsync()));
    }

    [Fact]
    public async Task Api_CallRefusedBeforeAuthentication_StoresOnlyACappedSummary()
    {
        var client = _app.BrowserFrom("203.0.113.30");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/token-configs/x/refresh?access_token=query-secret-5150");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-jwt-" + new string('t', 8000));
        request.Headers.Add("X-Junk", new string('j', 30_000));
        request.Content = new StringContent(new string('b', 50_000));

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var entry = await _app.WithDbAsync(db => db.CallLogEntries.AsNoTracking().SingleAsync());
        Assert.Equal("POST", entry.Method);
        Assert.Equal("/api/v1/token-configs/x/refresh", entry.Url);
        Assert.Equal(401, entry.StatusCode);
        var stored = entry.RequestHeaders + entry.ResponseHeaders + entry.RequestBody + entry.ResponseBody + entry.Error;
        Assert.DoesNotContain("jjjj", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("tttt", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("X-Junk", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("query-secret", stored, StringComparison.Ordinal);
        Assert.True(stored.Length <= 1024, $"{stored.Length} characters stored for a refused call:\n{stored}");
        // The summary says why and how big the call was.
        Assert.Contains("not a JWT", stored, StringComparison.Ordinal);
        Assert.Contains("bytes", stored, StringComparison.Ordinal);
    }

    [Fact]
    public void Recorder_CapsHeaderText_ForEveryCall()
    {
        var huge = Enumerable.Range(0, 200).Select(i => new KeyValuePair<string, string>($"X-Header-{i}", new string('h', 1000))).ToList();
        var record = new CallRecord(CallDirection.Outgoing, DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(5), "GET", "https://crm.example.test/api",
            200, huge, null, huge, null, null, "crm", "get", "test", null);

        var entry = CallRecorder.Redact(record, null, 16384);

        Assert.True(entry.RequestHeaders.Length <= 8 * 1024, $"request headers: {entry.RequestHeaders.Length} characters");
        Assert.True(entry.ResponseHeaders.Length <= 8 * 1024, $"response headers: {entry.ResponseHeaders.Length} characters");
        Assert.Contains("X-Header-0: hhh", entry.RequestHeaders, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Debugger_TotalSizeIsBounded_OldestGoFirst_AndThePageShowsTheSize()
    {
        var settings = _app.Services.GetRequiredService<SettingsStore>();
        var changed = await settings.UpdateAsync(new Dictionary<string, string?>
        {
            ["Debugger.MaxSizeMB"] = "1",
            [DebuggerSettings.BodyLimit] = "200000",
        }, "test", default);
        Assert.True(changed.Succeeded, string.Join("; ", changed.Errors.Values));
        var recorder = _app.Services.GetRequiredService<ICallRecorder>();

        for (var i = 0; i < 15; i++)
        {
            var body = $"call-{i:00} " + new string('x', 150_000);
            await recorder.RecordAsync(new CallRecord(CallDirection.Outgoing, DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(1), "POST",
                $"https://crm.example.test/api/{i}", 200, [], body, [], null, null, "crm", "post", "test", null), default);
        }

        var kept = await _app.WithDbAsync(db => db.CallLogEntries.AsNoTracking().OrderBy(e => e.Id).Select(e => new { e.Url, Size = e.RequestBody!.Length }).ToListAsync());
        Assert.True(kept.Sum(e => e.Size) <= 1024 * 1024, $"{kept.Sum(e => e.Size)} characters kept in {kept.Count} calls");
        Assert.Equal("https://crm.example.test/api/14", kept[^1].Url);
        Assert.DoesNotContain(kept, e => e.Url.EndsWith("/api/0", StringComparison.Ordinal));
        Assert.True(kept.Count >= 4, $"only {kept.Count} calls kept");

        var browser = await _app.SignedInBrowserAsync();
        var page = await browser.GetStringAsync("/webservices/debugger");
        Assert.Contains("of 1 MB", page, StringComparison.Ordinal);
    }
}
