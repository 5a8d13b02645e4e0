using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tests.WebServices;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;
using TokenAdmin.WebServices;

namespace TokenAdmin.Tests.Api;

/// <summary>The invoke endpoint against a loopback echo server, and the debugger entries of incoming calls.</summary>
public sealed class ApiInvokeAndDebuggerTests : ApiTestBase
{
    private static readonly string[] Invoker = ["invoker"];
    private static readonly string[] ReaderAndBroker = ["reader", "broker"];
    private EchoServer _echo = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _echo = await EchoServer.StartAsync();
    }

    public override async Task DisposeAsync()
    {
        await _echo.DisposeAsync();
        await base.DisposeAsync();
    }

    private async Task CreateWebServiceAsync(string name, string baseUrl)
    {
        using var scope = App.Services.CreateScope();
        var service = scope.ServiceProvider.GetRequiredService<WebServiceService>();
        var created = await service.CreateAsync(new WebServiceInput { Name = name, BaseUrl = baseUrl }, "test", default);
        Assert.True(created.Succeeded, string.Join("; ", created.Errors.Values));
        var invoker = await service.CreateInvokerAsync(created.Id, new InvokerInput { Name = "create-ticket", Method = "POST", Path = "/tickets/{queue}", TimeoutSeconds = 1 }, "test", default);
        Assert.True(invoker.Succeeded, string.Join("; ", invoker.Errors.Values));
    }

    [Fact]
    public async Task Invoke_CallsTheWebService_AndMapsFailures()
    {
        await CreateApiProfileAsync();
        await CreateWebServiceAsync("crm", _echo.BaseUrl + "/api");
        await CreateWebServiceAsync("gone", "http://127.0.0.1:9/api");
        var token = Mint(c => c["roles"] = Invoker);
        var input = new { path = new Dictionary<string, string> { ["queue"] = "support" }, body = new { title = "Printer on fire" } };

        var ok = await CallAsync(HttpMethod.Post, "/api/v1/webservices/crm/invokers/create-ticket", token, JsonContent.Create(input));
        var unknown = await CallAsync(HttpMethod.Post, "/api/v1/webservices/crm/invokers/no-such-invoker", token, JsonContent.Create(input));
        var badInput = await CallAsync(HttpMethod.Post, "/api/v1/webservices/crm/invokers/create-ticket", token, JsonContent.Create(new { body = new { } }));
        var unreachable = await CallAsync(HttpMethod.Post, "/api/v1/webservices/gone/invokers/create-ticket", token, JsonContent.Create(input));
        _echo.Delay = TimeSpan.FromSeconds(5);
        var timeout = await CallAsync(HttpMethod.Post, "/api/v1/webservices/crm/invokers/create-ticket", token, JsonContent.Create(input));
        var withoutRole = await CallAsync(HttpMethod.Post, "/api/v1/webservices/crm/invokers/create-ticket", Mint(), JsonContent.Create(input));

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var json = await JsonAsync(ok);
        Assert.Equal(200, json.GetProperty("status").GetInt32());
        Assert.Contains("Printer on fire", json.GetProperty("body").GetString(), StringComparison.Ordinal);
        Assert.Contains(_echo.Requests, r => r.RawTarget == "/api/tickets/support");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badInput.StatusCode);
        Assert.Equal(HttpStatusCode.BadGateway, unreachable.StatusCode);
        Assert.Equal(HttpStatusCode.GatewayTimeout, timeout.StatusCode);
        Assert.Equal("application/problem+json", timeout.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Forbidden, withoutRole.StatusCode);

        var incoming = await App.WithDbAsync(db => db.CallLogEntries.AsNoTracking().Where(e => e.Direction == CallDirection.Incoming).ToListAsync());
        var invoked = incoming.First(e => e.StatusCode == 200);
        Assert.Equal("crm", invoked.WebService);
        Assert.Equal("create-ticket", invoked.Invoker);
        Assert.Equal("robot", invoked.Caller);
        Assert.Contains(await App.WithDbAsync(db => db.CallLogEntries.AsNoTracking().Where(e => e.Direction == CallDirection.Outgoing).ToListAsync()),
            e => e.WebService == "crm" && e.Caller == "api:robot");
    }

    [Fact]
    public async Task Invoke_NeverHandsOutOrStores_WhatTheWebServiceWasSent_OrRemoteCredentials()
    {
        const string tenantKey = "tenant-key-secret-6612";
        const string cookie = "remote-session-8834";
        const string authToken = "remote-auth-token-2290";
        var profile = await CreateApiProfileAsync();
        var account = await CreateAccountAsync(profile.Id);
        using (var scope = App.Services.CreateScope())
        {
            var service = scope.ServiceProvider.GetRequiredService<WebServiceService>();
            var created = await service.CreateAsync(new WebServiceInput
            {
                Name = "crm", BaseUrl = _echo.BaseUrl + "/api",
                Authentication = WebServiceAuthentication.FunctionalAccount, TokenSource = $"FunctionalAccount:{account.Id}",
                SecretHeaders = "X-Tenant-Key: " + tenantKey,
            }, "test", default);
            Assert.True(created.Succeeded, string.Join("; ", created.Errors.Values));
            Assert.True((await service.CreateInvokerAsync(created.Id, new InvokerInput { Name = "create-ticket", Method = "POST", Path = "/tickets/{queue}" }, "test", default)).Succeeded);
        }

        _echo.EchoHeaders.AddRange(["X-Tenant-Key", "Authorization"]);
        _echo.ExtraHeaders["Set-Cookie"] = "session=" + cookie + "; HttpOnly";
        _echo.ExtraHeaders["X-Auth-Token"] = authToken;
        var input = new { path = new Dictionary<string, string> { ["queue"] = "support" }, body = new { title = "Printer on fire" } };

        var ok = await CallAsync(HttpMethod.Post, "/api/v1/webservices/crm/invokers/create-ticket", Mint(c => c["roles"] = Invoker), JsonContent.Create(input));

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var answer = await ok.Content.ReadAsStringAsync();
        Assert.Contains("Printer on fire", answer, StringComparison.Ordinal);
        Assert.Contains("X-Echo", answer, StringComparison.Ordinal);
        var bearer = await App.Services.GetRequiredService<ITokenProvider>().GetTokenAsync(TokenSource.Account(account.Id), default);
        var incoming = await App.WithDbAsync(db => db.CallLogEntries.AsNoTracking().Where(e => e.Direction == CallDirection.Incoming).ToListAsync());
        var entry = Assert.Single(incoming);
        Assert.Contains("[redacted]", entry.ResponseBody, StringComparison.Ordinal);
        var raw = await DatabaseFiles.RawTextAsync(App.DataDirectory);
        var page = await Browser.GetStringAsync($"/webservices/debugger/{entry.Id}");
        foreach (var secret in new[] { tenantKey, cookie, authToken, bearer.Value })
        {
            Assert.DoesNotContain(secret, answer, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, raw, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, page, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task IncomingCalls_AreRecorded_WithStatusAndCaller_NeverTheToken()
    {
        await CreateApiProfileAsync();
        await CreateConfigAsync("shared-cc", TokenAdmin.Tokens.TokenFlows.ClientCredentials, d => d.SharedThroughApi = true);
        var good = Mint(c => c["roles"] = ReaderAndBroker);
        var expired = Mint(c => { c["iat"] = 1_000_000; c["nbf"] = 1_000_000; c["exp"] = 1_000_100; });
        var unsigned = UnsignedToken(Claims());

        var ok = await GetTokensAsync(good);
        var brokered = await CallAsync(HttpMethod.Post, "/api/v1/token-configs/shared-cc/token", good);
        var refusedExpired = await GetTokensAsync(expired);
        var refusedUnsigned = await GetTokensAsync(unsigned);
        var anonymous = await GetTokensAsync(null);
        var brokeredToken = (await JsonAsync(brokered)).GetProperty("access_token").GetString()!;

        var entries = await App.WithDbAsync(db => db.CallLogEntries.AsNoTracking().Where(e => e.Direction == CallDirection.Incoming).OrderBy(e => e.Id).ToListAsync());
        Assert.Equal(5, entries.Count);
        Assert.Equal([200, 200, 401, 401, 401], entries.Select(e => e.StatusCode ?? 0));
        Assert.Equal(["robot", "robot", "anonymous", "anonymous", "anonymous"], entries.Select(e => e.Caller));
        // The reason is in the one-line summary of a refused call (issue 17), which replaces its headers.
        Assert.Contains("expired", entries[2].RequestHeaders, StringComparison.Ordinal);
        Assert.All(entries.Skip(2), e => { Assert.Null(e.ResponseBody); Assert.Null(e.RequestBody); });
        Assert.Contains("not recorded", entries[1].ResponseBody, StringComparison.Ordinal);
        foreach (var entry in entries)
        {
            var all = string.Join("\n", entry.Url, entry.RequestHeaders, entry.RequestBody, entry.ResponseHeaders, entry.ResponseBody, entry.Error);
            foreach (var secret in new[] { good, expired, unsigned, brokeredToken })
            {
                // A JWT's signature part (or the payload of an unsigned one) must appear nowhere.
                var part = secret.Split('.')[secret.EndsWith('.') ? 1 : 2];
                Assert.DoesNotContain(part, all, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task AnonymousAndRefusedCalls_AreRecordedWithoutBodies()
    {
        await CreateApiProfileAsync();
        var junk = "{\"junk\":\"" + new string('x', 30_000) + "\"}";

        var anonymous = await CallAsync(HttpMethod.Post, "/api/v1/anything/at/all", null, new StringContent(junk, System.Text.Encoding.UTF8, "application/json"));
        var refused = await CallAsync(HttpMethod.Post, "/api/v1/webservices/crm/invokers/x", UnsignedToken(Claims()), new StringContent(junk, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        var entries = await App.WithDbAsync(db => db.CallLogEntries.AsNoTracking().Where(e => e.Direction == CallDirection.Incoming).ToListAsync());
        Assert.Equal(2, entries.Count);
        Assert.All(entries, e =>
        {
            Assert.Null(e.RequestBody);
            Assert.Null(e.ResponseBody);
            Assert.Equal("anonymous", e.Caller);
        });
        // Only a one-line summary with the reason (issue 17): never the caller's headers.
        Assert.Contains("not signed", entries[1].RequestHeaders, StringComparison.Ordinal);
        Assert.Equal("", entries[1].ResponseHeaders);
        Assert.NotEqual(HttpStatusCode.OK, anonymous.StatusCode);
    }
}
