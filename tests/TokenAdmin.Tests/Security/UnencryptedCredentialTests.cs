using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Tests.WebServices;
using TokenAdmin.WebServices;

namespace TokenAdmin.Tests.Security;

/// <summary>
/// Issue 17, item 2: a web service whose password or token would go over plain http to another machine is refused,
/// unless an admin ticks "Allow unencrypted" on it, which is audited and flagged in red.
/// </summary>
public sealed class UnencryptedCredentialTests : WebServiceTestBase
{
    // Note: .invalid never resolves (RFC 6761); these tests never send anything there, the web service is refused first.
    private const string RemoteHttp = "http://crm.tokenadmin-test.invalid/api";

    private async Task<WebServiceSaveResult> SaveAsync(string baseUrl, bool allowUnencrypted, WebServiceAuthentication authentication = WebServiceAuthentication.Basic)
    {
        using var scope = App.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<WebServiceService>().CreateAsync(new WebServiceInput
        {
            Name = "legacy",
            BaseUrl = baseUrl,
            Authentication = authentication,
            BasicUserName = "otobo",
            BasicPassword = "basic-pass-1234",
            AllowUnencrypted = allowUnencrypted,
        }, "admin:alice", default);
    }

    [Fact]
    public async Task WebService_PlainHttpToAnotherMachine_WithCredentials_IsRefused_AndNothingIsSaved()
    {
        var result = await SaveAsync(RemoteHttp, allowUnencrypted: false);

        Assert.False(result.Succeeded);
        Assert.Contains("unencrypted", result.Errors[nameof(WebServiceInput.BaseUrl)], StringComparison.Ordinal);
        Assert.Equal(0, await App.WithDbAsync(db => db.WebServices.CountAsync()));
    }

    [Fact]
    public async Task WebService_PlainHttp_OnThisMachine_OrWithoutCredentials_IsSaved()
    {
        Assert.True((await SaveAsync(Echo.BaseUrl + "/api", allowUnencrypted: false)).Succeeded);
        using var scope = App.Services.CreateScope();
        var anonymous = await scope.ServiceProvider.GetRequiredService<WebServiceService>().CreateAsync(
            new WebServiceInput { Name = "public", BaseUrl = RemoteHttp, Authentication = WebServiceAuthentication.None }, "test", default);
        Assert.True(anonymous.Succeeded, string.Join("; ", anonymous.Errors.Values));
    }

    [Fact]
    public async Task WebService_AllowUnencrypted_IsSaved_Audited_AndFlaggedInRed()
    {
        var result = await SaveAsync(RemoteHttp, allowUnencrypted: true);

        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Values));
        var audit = await App.WithDbAsync(db => db.AuditEntries.AsNoTracking().Where(e => e.Action == "web-service.unencrypted-allowed").ToListAsync());
        Assert.Equal("admin:alice", Assert.Single(audit).Actor);
        var browser = await App.SignedInBrowserAsync("carol");
        Assert.Contains("id=\"unencrypted-warning\"", await browser.GetStringAsync($"/webservices/edit/{result.Id}"), StringComparison.Ordinal);
        Assert.Contains("credentials sent unencrypted", await browser.GetStringAsync("/webservices"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invoke_OfAnOlderPlainHttpWebService_IsNotMade_UntilAnAdminDecides()
    {
        var id = await CreateWebServiceAsync("legacy", w =>
        {
            w.Authentication = WebServiceAuthentication.Basic;
            w.BasicUserName = "otobo";
            w.BasicPassword = "basic-pass-1234";
        });
        await CreateInvokerAsync(id, "search", "POST", "/search", timeout: 2);
        // Saved before plain http needed consent.
        await App.WithDbAsync(db => db.WebServices.Where(w => w.Id == id).ExecuteUpdateAsync(s => s.SetProperty(w => w.BaseUrl, RemoteHttp)));

        var refused = await Assert.ThrowsAsync<InvokeException>(() => InvokeAsync("legacy", "search", "{}"));

        Assert.Equal(InvokeFailure.BadInput, refused.Failure);
        Assert.Contains("plain http", refused.Message, StringComparison.Ordinal);
        Assert.Empty(Echo.Requests);
    }
}
