using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Alerts;
using TokenAdmin.Alerts.Channels;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tests.WebServices;
using TokenAdmin.WebServices;

namespace TokenAdmin.Tests.Alerts;

/// <summary>
/// "Web service calls failing": real calls through the invoker to a loopback server that answers 500 or 401, or to a
/// closed port, raise one alert per change of the web service's condition (after N failed calls in a row or failures
/// for M minutes), a "recovered" with the next call that works, and reminders while it lasts; delivered to the signed
/// webhook; the dashboard lists the web service while its last call failed.
/// </summary>
public sealed class WebServiceAlertTests : WebServiceTestBase
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private WebhookReceiver _receiver = null!;

    public override async Task InitializeAsync()
    {
        App.Settings["TokenAdmin:Alerts:FailingAfterFailures"] = "3";
        // The host's own scans would race the reminder test's: the test scans itself.
        App.Settings["TokenAdmin:Alerts:ScanInterval"] = "1.00:00:00";
        _receiver = await WebhookReceiver.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task FailedCalls_RaiseOneFailingAlertAfterTheThreshold_BadInputDoesNotCount_ThenRecovered_AndTheDashboardShowsIt()
    {
        await AddWebhookChannelAsync();
        var id = await CreateWebServiceAsync("crm");
        await CreateInvokerAsync(id, path: "/tickets/{ticketId}");
        var ok = new Dictionary<string, string> { ["ticketId"] = "7" };

        Echo.Status = 500;
        Assert.Equal(500, (await InvokeAsync("crm", "create-ticket", values: ok)).StatusCode);
        Assert.Equal(500, (await InvokeAsync("crm", "create-ticket", values: ok)).StatusCode);
        // The caller's mistake (no value for the placeholder) is not the web service failing: it neither counts nor resets.
        Assert.Equal(InvokeFailure.BadInput, (await InvokeFailsAsync("crm", "create-ticket")).Failure);
        Assert.Empty(await TypesAsync(id));
        var below = Attention(WebUtility.HtmlDecode(await Browser.GetStringAsync("/")));
        Assert.Contains("Warning:</strong>", below, StringComparison.Ordinal); // below the threshold: a warning, not yet an error
        Assert.Contains("Web service <strong>crm</strong>. The last call failed (2 in a row", below, StringComparison.Ordinal);

        Assert.Equal(500, (await InvokeAsync("crm", "create-ticket", values: ok)).StatusCode); // the third: failing
        Assert.Equal(500, (await InvokeAsync("crm", "create-ticket", values: ok)).StatusCode); // still failing: no second alert
        Assert.Equal([AlertTypes.WebServiceFailing], await TypesAsync(id));

        var failing = Assert.Single(await _receiver.WaitForAsync(1, Bound));
        Assert.Equal(AlertTypes.WebServiceFailing, failing.GetProperty("type").GetString());
        Assert.Equal("WebService", failing.GetProperty("source").GetProperty("kind").GetString());
        Assert.Equal("crm", failing.GetProperty("source").GetProperty("name").GetString());
        Assert.Equal("failing", failing.GetProperty("state").GetString());
        var message = failing.GetProperty("message").GetString()!;
        Assert.Contains("Calls to the web service 'crm' have failed 3 time(s) in a row since", message, StringComparison.Ordinal);
        Assert.Contains("Invoker 'create-ticket' got HTTP 500 Internal Server Error.", message, StringComparison.Ordinal);
        Assert.Equal("http://localhost:5080/WebServices/Debugger?WebService=crm", failing.GetProperty("link").GetString());

        var attention = Attention(WebUtility.HtmlDecode(await Browser.GetStringAsync("/")));
        Assert.Contains("Error:</strong>", attention, StringComparison.Ordinal);
        Assert.Contains("Web service <strong>crm</strong>. The last call failed (4 in a row", attention, StringComparison.Ordinal);
        Assert.Contains("href=\"/WebServices/Debugger?WebService=crm\">Open the debugger", attention, StringComparison.Ordinal);

        Echo.Status = null;
        Assert.Equal(200, (await InvokeAsync("crm", "create-ticket", values: ok)).StatusCode);
        Assert.Equal(200, (await InvokeAsync("crm", "create-ticket", values: ok)).StatusCode);
        Assert.Equal([AlertTypes.WebServiceFailing, AlertTypes.WebServiceRecovered], await TypesAsync(id));
        var received = await _receiver.WaitForAsync(2, Bound);
        Assert.Equal(AlertTypes.WebServiceRecovered, received[1].GetProperty("type").GetString());
        Assert.Equal("Calls to the web service 'crm' work again.", received[1].GetProperty("message").GetString());
        Assert.Equal(0, _receiver.BadSignatures);

        var service = await App.WithDbAsync(db => db.WebServices.AsNoTracking().SingleAsync(w => w.Id == id));
        Assert.Equal(0, service.ConsecutiveCallFailures);
        Assert.Null(service.CallFailingSince);
        Assert.Null(service.AlertCondition);
        Assert.DoesNotContain("Web service <strong>crm</strong>", WebUtility.HtmlDecode(await Browser.GetStringAsync("/")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailuresForLongerThanTheWindow_RaiseFailingBelowTheCount_AndAnUnreachableServiceAndA401CountAsFailures()
    {
        // A port nobody listens on (bound, then released): the call cannot connect.
        var closed = System.Net.Sockets.TcpListener.Create(0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var id = await CreateWebServiceAsync("erp", i => i.BaseUrl = $"http://127.0.0.1:{port}/api");
        await CreateInvokerAsync(id, name: "ping", method: "GET", path: "/ping");

        Assert.Equal(InvokeFailure.Unreachable, (await InvokeFailsAsync("erp", "ping")).Failure);
        // As if the first failure had been 31 minutes ago (the default window is 30 minutes).
        await App.WithDbAsync(db => db.WebServices.Where(w => w.Id == id)
            .ExecuteUpdateAsync(s => s.SetProperty(w => w.CallFailingSince, DateTime.UtcNow.AddMinutes(-31))));
        Assert.Equal(InvokeFailure.Unreachable, (await InvokeFailsAsync("erp", "ping")).Failure);

        var alert = Assert.Single(await App.WithDbAsync(db => db.AlertEvents.AsNoTracking().Where(e => e.SourceKind == "WebService" && e.SourceId == id).ToListAsync()));
        Assert.Equal(AlertTypes.WebServiceFailing, alert.Type);
        Assert.Contains("have failed 2 time(s) in a row", alert.Message, StringComparison.Ordinal);
        Assert.Contains($"could not be reached at 127.0.0.1:{port}", alert.Message, StringComparison.Ordinal);

        // A 401 (the bearer handler's retry included) counts too.
        var other = await CreateWebServiceAsync("helpdesk");
        await CreateInvokerAsync(other, name: "ping", method: "GET", path: "/ping");
        Echo.Authorize = _ => false;
        Assert.Equal(401, (await InvokeAsync("helpdesk", "ping")).StatusCode);
        var service = await App.WithDbAsync(db => db.WebServices.AsNoTracking().SingleAsync(w => w.Id == other));
        Assert.Equal(1, service.ConsecutiveCallFailures);
        Assert.Equal("Invoker 'ping' got HTTP 401 Unauthorized.", service.LastCallError);
    }

    [Fact]
    public async Task WhileCallsKeepFailing_TheAlertIsRemindedOncePerInterval()
    {
        var id = await CreateWebServiceAsync("crm");
        await CreateInvokerAsync(id, name: "ping", method: "GET", path: "/ping");
        Echo.Status = 503;
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(503, (await InvokeAsync("crm", "ping")).StatusCode);
        }

        Assert.Equal(0, await ScanAsync()); // younger than the interval (a day)
        // As if the alert had been raised two days ago.
        await App.WithDbAsync(db => db.AlertEvents.Where(e => e.SourceKind == "WebService" && e.SourceId == id)
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.CreatedAt, DateTime.UtcNow.AddDays(-2))));
        Assert.Equal(1, await ScanAsync());
        Assert.Equal(0, await ScanAsync());

        var alerts = await App.WithDbAsync(db => db.AlertEvents.AsNoTracking().Where(e => e.SourceKind == "WebService" && e.SourceId == id).OrderBy(e => e.Id).ToListAsync());
        Assert.Equal([AlertTypes.WebServiceFailing, AlertTypes.WebServiceFailing], alerts.Select(a => a.Type));
        Assert.StartsWith("Reminder: still failing (alerted first at ", alerts[1].Message, StringComparison.Ordinal);
        Assert.EndsWith(alerts[0].Message, alerts[1].Message, StringComparison.Ordinal);

        // Once calls work, no more reminders.
        Echo.Status = null;
        Assert.Equal(200, (await InvokeAsync("crm", "ping")).StatusCode);
        await App.WithDbAsync(db => db.AlertEvents.Where(e => e.SourceKind == "WebService" && e.SourceId == id)
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.CreatedAt, DateTime.UtcNow.AddDays(-2))));
        Assert.Equal(0, await ScanAsync());
    }

    private async Task<int> ScanAsync()
    {
        using var scope = App.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<AlertScanner>().ScanAsync(default);
    }

    private static string Attention(string page) =>
        page[page.IndexOf("Needs attention", StringComparison.Ordinal)..page.IndexOf("Token sources</h2>", StringComparison.Ordinal)];

    private async Task AddWebhookChannelAsync()
    {
        var response = await Browser.PostFormAsync("/alerts/channel", new()
        {
            ["Input.Name"] = "ops webhook",
            ["Input.Kind"] = "Webhook",
            ["Input.Target"] = _receiver.Url,
            ["Input.Secret"] = _receiver.Secret,
            ["Input.Enabled"] = "true",
        }, formPage: "/alerts/channel");
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()));
    }

    private Task<List<string>> TypesAsync(int id) =>
        App.WithDbAsync(db => db.AlertEvents.AsNoTracking().Where(e => e.SourceKind == "WebService" && e.SourceId == id).OrderBy(e => e.Id).Select(e => e.Type).ToListAsync());
}
