using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tokens;
using TokenAdmin.WebServices;

namespace TokenAdmin.Tests.WebServices;

public sealed class WebServicePageTests : WebServiceTestBase
{
    private const string Password = "page-basic-pass-6610";
    private const string HeaderSecret = "page-header-secret-2290";

    private Dictionary<string, string> Form(string name = "crm", Action<Dictionary<string, string>>? change = null)
    {
        var form = new Dictionary<string, string>
        {
            ["Input.Name"] = name,
            ["Input.BaseUrl"] = Echo.BaseUrl + "/api",
            ["Input.Authentication"] = "Basic",
            ["Input.BasicUserName"] = "otobo",
            ["Input.BasicPassword"] = Password,
            ["Input.TokenType"] = WebServiceTokenTypes.AccessToken,
            ["Input.Headers"] = "X-Tenant: acme",
            ["Input.SecretHeaders"] = "X-Api-Key: " + HeaderSecret,
            ["Input.Enabled"] = "true",
        };
        change?.Invoke(form);
        return form;
    }

    [Fact]
    public async Task AddPage_SavesTheWebService_AuditsIt_AndNeverRendersOrStoresTheSecretsInPlaintext()
    {
        var response = await Browser.PostFormAsync("/webservices/add", Form());

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var service = await App.WithDbAsync(db => db.WebServices.Include(w => w.Headers).SingleAsync());
        Assert.Equal("otobo", service.BasicUserName);
        var edit = await Browser.GetStringAsync(response.Headers.Location!.ToString());
        Assert.Contains("X-Tenant: acme", edit, StringComparison.Ordinal);
        Assert.Contains("X-Api-Key: ********", edit, StringComparison.Ordinal);
        Assert.Contains("stored - leave empty to keep", edit, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, edit, StringComparison.Ordinal);
        Assert.DoesNotContain(HeaderSecret, edit, StringComparison.Ordinal);
        var raw = await DatabaseFiles.RawTextAsync(App.DataDirectory);
        Assert.DoesNotContain(Password, raw, StringComparison.Ordinal);
        Assert.DoesNotContain(HeaderSecret, raw, StringComparison.Ordinal);
        var audit = await App.WithDbAsync(db => db.AuditEntries.SingleAsync(a => a.Action == "web-service.created"));
        Assert.Equal("crm", audit.Target);
        Assert.Contains("X-Api-Key(secret)", audit.Details, StringComparison.Ordinal);
        Assert.Contains("Web Services", await Browser.GetStringAsync("/webservices"), StringComparison.Ordinal);

        // Saving again with the mask and an empty password keeps both secrets.
        var form = Form(change: f =>
        {
            f["Input.BasicPassword"] = "";
            f["Input.SecretHeaders"] = "X-Api-Key: ********";
            f["Input.Version"] = service.Version;
            f["Version"] = service.Version;
        });
        Assert.Equal(HttpStatusCode.Redirect, (await Browser.PostFormAsync($"/webservices/edit/{service.Id}", form)).StatusCode);
        await CreateInvokerAsync(service.Id);
        Echo.Authorize = h => h == "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("otobo:" + Password));
        Assert.Equal(200, (await InvokeAsync("crm", "create-ticket")).StatusCode);
        Assert.Equal(HeaderSecret, Assert.Single(Echo.Requests).Headers["X-Api-Key"]);
    }

    [Fact]
    public async Task Forms_WithBadInput_ShowMessages_AndChangeNothing()
    {
        var bad = await Browser.PostFormAsync("/webservices/add", Form("bad name!", f =>
        {
            f["Input.BaseUrl"] = "ftp://x";
            f["Input.Authentication"] = "TokenConfig";
            f["Input.SecretHeaders"] = "Authorization: Bearer abc";
        }));
        var page = await bad.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, bad.StatusCode);
        Assert.Contains("Nothing was saved.", page, StringComparison.Ordinal);
        Assert.Contains("Name: 1 to 100 letters", page, StringComparison.Ordinal);
        Assert.DoesNotContain(">Name is required.<", page, StringComparison.Ordinal); // not for a name that was given
        Assert.Contains("absolute http or https address", page, StringComparison.Ordinal);
        Assert.Contains("Choose the token config that gives this web service its token.", page, StringComparison.Ordinal);
        Assert.Contains("Authorization cannot be set as an extra header", page, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, page, StringComparison.Ordinal);
        Assert.False(await App.WithDbAsync(db => db.WebServices.AnyAsync()));

        var id = await CreateWebServiceAsync();
        var invokerBad = await Browser.PostFormAsync($"/webservices/{id}/invokers", new()
        {
            ["Input.Name"] = "x", ["Input.Method"] = "BREW", ["Input.Path"] = "/a/{b", ["Input.TimeoutSeconds"] = "abc",
        });
        var invokerPage = await invokerBad.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, invokerBad.StatusCode);
        // Every mistake in one pass, the unreadable number named by its label and kept as typed.
        Assert.Contains("Timeout (seconds): &#x27;abc&#x27; is not a valid value.", invokerPage, StringComparison.Ordinal);
        Assert.Contains("value=\"abc\"", invokerPage, StringComparison.Ordinal);
        Assert.Contains("Choose one of GET, POST", invokerPage, StringComparison.Ordinal);
        Assert.Contains("Placeholders are written {name}", invokerPage, StringComparison.Ordinal);
        Assert.Contains("aria-invalid=\"true\"", invokerPage, StringComparison.Ordinal);
        var outOfRange = await Browser.PostFormAsync($"/webservices/{id}/invokers", new()
        {
            ["Input.Name"] = "x", ["Input.Method"] = "BREW", ["Input.Path"] = "/a/{b", ["Input.TimeoutSeconds"] = "0",
        });
        var outOfRangePage = await outOfRange.Content.ReadAsStringAsync();
        Assert.Contains("Choose one of GET, POST", outOfRangePage, StringComparison.Ordinal);
        Assert.Contains("Placeholders are written {name}", outOfRangePage, StringComparison.Ordinal);
        Assert.Contains("The timeout must be 1 to 300 seconds", outOfRangePage, StringComparison.Ordinal);
        Assert.False(await App.WithDbAsync(db => db.Invokers.AnyAsync()));

        var before = await App.WithDbAsync(db => db.WebServices.AsNoTracking().SingleAsync());
        var editBad = await Browser.PostFormAsync($"/webservices/edit/{id}", Form("crm", f =>
        {
            f["Version"] = before.Version;
            f["Input.BaseUrl"] = "not a url";
        }));
        Assert.Equal(HttpStatusCode.OK, editBad.StatusCode);
        var after = await App.WithDbAsync(db => db.WebServices.AsNoTracking().SingleAsync());
        Assert.Equal(before.BaseUrl, after.BaseUrl);
        Assert.Equal(before.Version, after.Version);
        Assert.Equal(WebServiceAuthentication.None, after.Authentication);
    }

    [Fact]
    public async Task TestInvokePage_OffersABody_OnlyForMethodsThatCarryOne()
    {
        var id = await CreateWebServiceAsync();
        var get = await CreateInvokerAsync(id, "read-ticket", "GET", "/tickets/1");
        var post = await CreateInvokerAsync(id, "create-ticket", "POST", "/tickets");

        var getPage = await Browser.GetStringAsync($"/webservices/invokers/{get}/test");
        var postPage = await Browser.GetStringAsync($"/webservices/invokers/{post}/test");

        Assert.DoesNotContain("<textarea", getPage, StringComparison.Ordinal);
        Assert.Contains("GET requests carry no body.", getPage, StringComparison.Ordinal);
        Assert.Matches("<textarea[^>]*id=\"Body\"[^>]*name=\"Body\"", postPage);
        Assert.Contains("<label for=\"Body\">JSON body</label>", postPage, StringComparison.Ordinal);
        // The call may take up to the invoker's timeout: the app script shows a status text while it runs.
        Assert.Contains("data-busy=\"Calling the invoker", postPage, StringComparison.Ordinal);
        Assert.Matches("<span class=\"busy-status muted\" role=\"status\"></span>", postPage);
    }

    [Fact]
    public async Task DeletePage_RefusesAWebServiceWithInvokers_AndDeletesItOnceTheyAreGone()
    {
        var id = await CreateWebServiceAsync();
        var invokerId = await CreateInvokerAsync(id, "sync");

        // Before any click: the delete page names the invokers and its Delete button is disabled.
        var page = await Browser.GetStringAsync($"/webservices/delete/{id}");
        Assert.Contains("It cannot be deleted while it is still used by:", page, StringComparison.Ordinal);
        Assert.Contains("<li>invoker &#x27;sync&#x27;</li>", page, StringComparison.Ordinal);
        Assert.Contains("<button type=\"submit\" class=\"btn\" disabled=\"disabled\">Delete</button>", page, StringComparison.Ordinal);

        // A post anyway is refused, and the page shows the same list.
        var refused = await Browser.PostFormAsync($"/webservices/delete/{id}", []);
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("<li>invoker &#x27;sync&#x27;</li>", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(await App.WithDbAsync(db => db.WebServices.AnyAsync()));

        Assert.Equal(HttpStatusCode.Redirect, (await Browser.PostFormAsync($"/webservices/{id}/invokers/{invokerId}?handler=Delete", [], formPage: $"/webservices/{id}/invokers/{invokerId}")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await Browser.PostFormAsync($"/webservices/delete/{id}", [])).StatusCode);

        Assert.False(await App.WithDbAsync(db => db.WebServices.AnyAsync()));
        var actions = await App.WithDbAsync(db => db.AuditEntries.Select(a => a.Action).ToListAsync());
        Assert.Contains("invoker.deleted", actions);
        Assert.Contains("web-service.deleted", actions);
    }

    [Fact]
    public async Task TestInvokePage_ShowsStatusHeadersAndBody_WithTheTokenMasked_AndBadInputAsAMessage()
    {
        var profile = await CreateProfileAsync();
        var account = await CreateAccountAsync(profile.Id);
        var id = await CreateWebServiceAsync("crm", w =>
        {
            w.Authentication = WebServiceAuthentication.FunctionalAccount;
            w.TokenSource = $"FunctionalAccount:{account.Id}";
        });
        var invokerId = await CreateInvokerAsync(id, "note", "POST", "/tickets/{ticketId}/notes");

        var response = await Browser.PostFormAsync($"/webservices/invokers/{invokerId}/test", new()
        {
            ["Values[ticketId]"] = "42", ["Body"] = """{"text":"hello"}""",
        });
        var page = await response.Content.ReadAsStringAsync();
        var token = await App.Services.GetRequiredService<ITokenProvider>().GetTokenAsync(TokenSource.Account(account.Id), default);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Answer: 200", page, StringComparison.Ordinal);
        Assert.Contains("X-Echo: yes", page, StringComparison.Ordinal);
        Assert.Contains("/api/tickets/42/notes", page, StringComparison.Ordinal);
        Assert.Contains("[redacted", page, StringComparison.Ordinal);
        Assert.DoesNotContain(token.Value, page, StringComparison.Ordinal);
        Assert.Equal("admin:alice", await App.WithDbAsync(db => db.CallLogEntries.Select(e => e.Caller).SingleAsync()));

        var bad = await (await Browser.PostFormAsync($"/webservices/invokers/{invokerId}/test", new() { ["Values[ticketId]"] = "42", ["Body"] = "{nope" })).Content.ReadAsStringAsync();
        Assert.Contains("BadInput: The body is not valid JSON", bad, StringComparison.Ordinal);
        Assert.Single(Echo.Requests);
    }
}
