using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;
using TokenAdmin.WebServices;

namespace TokenAdmin.Tests.WebServices;

public sealed class OutgoingCallTests : WebServiceTestBase
{
    private ITokenProvider Tokens => App.Services.GetRequiredService<ITokenProvider>();

    private async Task<int> AccountWebServiceAsync(string name = "crm")
    {
        var profile = await CreateProfileAsync();
        var account = await CreateAccountAsync(profile.Id);
        await CreateWebServiceAsync(name, w =>
        {
            w.Authentication = WebServiceAuthentication.FunctionalAccount;
            w.TokenSource = $"FunctionalAccount:{account.Id}";
        });
        return account.Id;
    }

    [Fact]
    public async Task Invoke_SendsTheFunctionalAccountsBearerToken_AndReturnsTheAnswer()
    {
        var accountId = await AccountWebServiceAsync();
        var id = (await App.WithDbAsync(db => Task.FromResult(db.WebServices.Single().Id)));
        await CreateInvokerAsync(id);
        var token = await Tokens.GetTokenAsync(TokenSource.Account(accountId), default);
        Echo.Authorize = header => header == "Bearer " + token.Value;

        var result = await InvokeAsync("CRM", "Create-Ticket", """{"subject":"printer on fire"}""");

        Assert.Equal(200, result.StatusCode);
        var echoed = Assert.Single(Echo.Requests);
        Assert.Equal("POST", echoed.Method);
        Assert.Equal("/api/tickets", echoed.RawTarget);
        Assert.Equal("""{"subject":"printer on fire"}""", echoed.Body);
        Assert.StartsWith("application/json", echoed.Headers["Content-Type"], StringComparison.Ordinal);
        Assert.Contains(result.Headers, h => h.Key == "X-Echo" && h.Value == "yes");
        Assert.Contains("printer on fire", result.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invoke_On401_ForcesOneRefreshAndRetriesOnce_WithTheNewToken()
    {
        await AccountWebServiceAsync();
        await CreateInvokerAsync(await App.WithDbAsync(db => Task.FromResult(db.WebServices.Single().Id)));
        var seen = new List<string?>();
        Echo.Authorize = header =>
        {
            lock (seen)
            {
                seen.Add(header);
                return seen.Count > 1;
            }
        };
        Idp.ResetCounters();

        var result = await InvokeAsync("crm", "create-ticket", """{"a":1}""");

        Assert.Equal(200, result.StatusCode);
        Assert.Equal(2, seen.Count);
        Assert.NotEqual(seen[0], seen[1]);
        Assert.All(seen, h => Assert.StartsWith("Bearer ey", h, StringComparison.Ordinal));
        Assert.Equal(2, Idp.TokenRequestsByGrantType["client_credentials"]);
        // The body went out again unchanged.
        Assert.All(Echo.Requests, r => Assert.Equal("""{"a":1}""", r.Body));
    }

    [Fact]
    public async Task Invoke_ReturnsTheSecond401_InsteadOfLooping()
    {
        await AccountWebServiceAsync();
        await CreateInvokerAsync(await App.WithDbAsync(db => Task.FromResult(db.WebServices.Single().Id)));
        Echo.Authorize = _ => false;
        Idp.ResetCounters();

        var result = await InvokeAsync("crm", "create-ticket");

        Assert.Equal(401, result.StatusCode);
        Assert.Equal(2, Echo.Requests.Count);
        Assert.Equal(2, Idp.TokenRequestsByGrantType["client_credentials"]);
    }

    [Fact]
    public async Task Invoke_WithBasicAuthentication_AndExtraHeaders_SendsThemAll()
    {
        var id = await CreateWebServiceAsync("legacy", w =>
        {
            w.Authentication = WebServiceAuthentication.Basic;
            w.BasicUserName = "otobo";
            w.BasicPassword = "basic-pass-7781";
            w.Headers = "X-Tenant: acme\nAccept: application/json";
            w.SecretHeaders = "X-Api-Key: key-secret-5521";
        });
        await CreateInvokerAsync(id, "get-ticket", "GET", "/tickets/{id}");
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("otobo:basic-pass-7781"));
        Echo.Authorize = header => header == expected;

        var result = await InvokeAsync("legacy", "get-ticket", values: new() { ["id"] = "42" });

        Assert.Equal(200, result.StatusCode);
        var echoed = Assert.Single(Echo.Requests);
        Assert.Equal("acme", echoed.Headers["X-Tenant"]);
        Assert.Equal("application/json", echoed.Headers["Accept"]);
        Assert.Equal("key-secret-5521", echoed.Headers["X-Api-Key"]);
        Assert.Equal("/api/tickets/42", echoed.RawTarget);
    }

    [Fact]
    public async Task Invoke_FillsAndEscapesPlaceholders_AndRefusesMissingValuesAndBodiesThatAreNotJson()
    {
        var id = await CreateWebServiceAsync();
        await CreateInvokerAsync(id, "note", "PUT", "/tickets/{ticketId}/notes/{note}");

        var result = await InvokeAsync("crm", "note", """{"text":"x"}""", new() { ["ticketId"] = "a b/c?d", ["note"] = "ü#1" }, new() { ["mode"] = "a&b" });

        Assert.Equal(200, result.StatusCode);
        Assert.Equal("/api/tickets/a%20b%2Fc%3Fd/notes/%C3%BC%231?mode=a%26b", Assert.Single(Echo.Requests).RawTarget);

        var missing = await InvokeFailsAsync("crm", "note", """{"text":"x"}""", new() { ["ticketId"] = "1" });
        Assert.Equal(InvokeFailure.BadInput, missing.Failure);
        Assert.Contains("{note}", missing.Message, StringComparison.Ordinal);

        var notJson = await InvokeFailsAsync("crm", "note", "text=hello", new() { ["ticketId"] = "1", ["note"] = "2" });
        Assert.Equal(InvokeFailure.BadInput, notJson.Failure);
        Assert.Contains("not valid JSON", notJson.Message, StringComparison.Ordinal);
        Assert.Single(Echo.Requests);

        var unknown = await InvokeFailsAsync("crm", "nope");
        Assert.Equal(InvokeFailure.NotFound, unknown.Failure);
        Assert.Equal(InvokeFailure.NotFound, (await InvokeFailsAsync("nope", "note")).Failure);
    }

    [Fact]
    public async Task Invoke_GivesUpAtTheInvokersTimeout()
    {
        var id = await CreateWebServiceAsync();
        await CreateInvokerAsync(id, timeout: 1);
        Echo.Delay = TimeSpan.FromSeconds(10);
        var watch = Stopwatch.StartNew();

        var failed = await InvokeFailsAsync("crm", "create-ticket");

        Assert.Equal(InvokeFailure.Timeout, failed.Failure);
        Assert.Contains("within 1 s", failed.Message, StringComparison.Ordinal);
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(5));
        var entry = await App.WithDbAsync(db => Task.FromResult(db.CallLogEntries.Single()));
        Assert.Null(entry.StatusCode);
        Assert.Contains("Timed out after 1 s", entry.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invoke_RefusesToReadAnAnswerLargerThanTheLimit()
    {
        var id = await CreateWebServiceAsync();
        await CreateInvokerAsync(id);
        Echo.ExtraAnswer["big"] = new string('x', (int)CallRecordingHandler.MaxAnswerBytes + 1024);

        var failed = await InvokeFailsAsync("crm", "create-ticket");

        Assert.Equal(InvokeFailure.Unreachable, failed.Failure);
        Assert.Contains("is larger than 16 MB", failed.Message, StringComparison.Ordinal);
        var entry = await App.WithDbAsync(db => Task.FromResult(db.CallLogEntries.Single()));
        Assert.Equal(200, entry.StatusCode);
        Assert.Null(entry.ResponseBody);
        Assert.Contains("could not be read", entry.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invoke_ReportsAnUnreachableEndpoint()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var id = await CreateWebServiceAsync("gone", w => w.BaseUrl = $"http://127.0.0.1:{port}/api");
        await CreateInvokerAsync(id);

        var failed = await InvokeFailsAsync("gone", "create-ticket");

        Assert.Equal(InvokeFailure.Unreachable, failed.Failure);
        Assert.Contains($"127.0.0.1:{port}", failed.Message, StringComparison.Ordinal);
        var entry = await App.WithDbAsync(db => Task.FromResult(db.CallLogEntries.Single()));
        Assert.Contains("Could not reach", entry.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invoke_WithATokenConfigNotAuthorizedYet_FailsWithAClearMessage_AndSendsNothing()
    {
        var configId = await CreateConfigAsync("helpdesk");
        var id = await CreateWebServiceAsync("crm", w =>
        {
            w.Authentication = WebServiceAuthentication.TokenConfig;
            w.TokenSource = $"TokenConfig:{configId}";
        });
        await CreateInvokerAsync(id);

        var failed = await InvokeFailsAsync("crm", "create-ticket");

        Assert.Equal(InvokeFailure.TokenUnavailable, failed.Failure);
        Assert.Contains("No token for web service 'crm'", failed.Message, StringComparison.Ordinal);
        Assert.Contains("helpdesk", failed.Message, StringComparison.Ordinal);
        Assert.Empty(Echo.Requests);
        var entry = await App.WithDbAsync(db => Task.FromResult(db.CallLogEntries.Single()));
        Assert.Equal(failed.Message, entry.Error);
    }

    [Fact]
    public async Task Invoke_WithAnIdTokenOfAPasswordAccount_SendsTheIdToken()
    {
        var profile = await CreateProfileAsync();
        var account = await CreateAccountAsync(profile.Id, change: a =>
        {
            a.GrantType = FunctionalAccounts.AccountGrantTypes.Password;
            a.Username = "alice";
            a.Password = "alice-password-1";
            a.Scope = "openid offline_access email";
            a.TokenType = FunctionalAccounts.AccountTokenTypes.IdToken;
        });
        var id = await CreateWebServiceAsync("crm", w =>
        {
            w.Authentication = WebServiceAuthentication.FunctionalAccount;
            w.TokenSource = $"FunctionalAccount:{account.Id}";
            w.TokenType = WebServiceTokenTypes.IdToken;
        });
        await CreateInvokerAsync(id);

        var result = await InvokeAsync("crm", "create-ticket");

        Assert.Equal(200, result.StatusCode);
        var sent = Assert.Single(Echo.Requests).Headers["Authorization"];
        var jwt = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(sent["Bearer ".Length..]);
        Assert.Equal("alice", jwt.Subject);
        Assert.Contains("tokenadmin", jwt.Audiences);
    }

    [Fact]
    public async Task A_token_config_or_functional_account_used_by_a_web_service_cannot_be_deleted()
    {
        var configId = await CreateConfigAsync("helpdesk", TokenFlows.ClientCredentials);
        await CreateWebServiceAsync("crm", w =>
        {
            w.Authentication = WebServiceAuthentication.TokenConfig;
            w.TokenSource = $"TokenConfig:{configId}";
        });
        var profile = await CreateProfileAsync();
        var account = await CreateAccountAsync(profile.Id);
        await CreateWebServiceAsync("erp", w =>
        {
            w.Authentication = WebServiceAuthentication.FunctionalAccount;
            w.TokenSource = $"FunctionalAccount:{account.Id}";
        });
        using var scope = App.Services.CreateScope();

        var configRefused = await scope.ServiceProvider.GetRequiredService<TokenConfigService>().DeleteAsync(configId, "test", default);
        var accountRefused = await scope.ServiceProvider.GetRequiredService<FunctionalAccounts.FunctionalAccountService>().DeleteAsync(account.Id, "test", default);

        Assert.False(configRefused.Deleted);
        Assert.Contains("web service crm", configRefused.Message, StringComparison.Ordinal);
        Assert.Contains("web service erp", accountRefused, StringComparison.Ordinal);
        Assert.True(await App.WithDbAsync(db => Task.FromResult(db.TokenConfigs.Any(c => c.Id == configId))));
        Assert.True(await App.WithDbAsync(db => Task.FromResult(db.FunctionalAccounts.Any(a => a.Id == account.Id))));
    }

    [Fact]
    public async Task PlaceholderValues_CannotLeaveTheBaseUrl()
    {
        var id = await CreateWebServiceAsync("crm", w =>
        {
            w.Authentication = WebServiceAuthentication.Basic;
            w.BasicUserName = "otobo";
            w.BasicPassword = "basic-pass-7781";
        });
        await CreateInvokerAsync(id, "ticket", "GET", "/tickets/{id}");

        foreach (var value in new[] { "..", ".", " .. " })
        {
            var refused = await InvokeFailsAsync("crm", "ticket", values: new() { ["id"] = value });
            Assert.Equal(InvokeFailure.BadInput, refused.Failure);
        }

        Assert.Empty(Echo.Requests);
        var outside = Assert.Throws<InvokeException>(() => WebServiceInvoker.BuildUrl("http://127.0.0.1:1/api/v2", "/../../admin/{x}", new Dictionary<string, string> { ["x"] = "1" }, null));
        Assert.Equal(InvokeFailure.BadInput, outside.Failure);
        Assert.Equal("/api/v2/tickets/..%2F..", WebServiceInvoker.BuildUrl("http://127.0.0.1:1/api/v2/", "/tickets/{id}", new Dictionary<string, string> { ["id"] = "../.." }, null).AbsolutePath);
        Assert.Equal(200, (await InvokeAsync("crm", "ticket", values: new() { ["id"] = "..x" })).StatusCode);
    }

    [Fact]
    public async Task FailedForcedRefreshAfter401_IsRecorded_WithItsReason()
    {
        var accountId = await AccountWebServiceAsync();
        var id = await App.WithDbAsync(db => Task.FromResult(db.WebServices.Single().Id));
        await CreateInvokerAsync(id);
        await Tokens.GetTokenAsync(TokenSource.Account(accountId), default);
        Echo.Authorize = _ => false;
        Idp.Faults.TokenEndpoint = TokenAdmin.TestIdentityProvider.TokenEndpointFault.InvalidClient;

        var failed = await InvokeFailsAsync("crm", "create-ticket", "{}");

        Assert.Equal(InvokeFailure.TokenUnavailable, failed.Failure);
        Assert.Single(Echo.Requests);
        var entries = await App.WithDbAsync(db => db.CallLogEntries.AsNoTracking().OrderBy(e => e.Id).ToListAsync());
        Assert.Equal(2, entries.Count);
        Assert.Equal(401, entries[0].StatusCode);
        Assert.Null(entries[1].StatusCode);
        Assert.Contains("forced token refresh failed", entries[1].Error, StringComparison.Ordinal);
    }
}
