using System.Net;
using System.Text;
using System.Web;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Tokens;

public sealed class AuthorizationCodeFlowTests : TokenTestBase
{
    [Fact]
    public async Task RequestToken_SendsBrowserToProvider_WithStatePkceAndNonce()
    {
        var id = await CreateConfigAsync();

        var authorize = await StartAuthorizationAsync(id);

        Assert.StartsWith(Idp.AuthorizationEndpoint + "?", authorize.ToString(), StringComparison.Ordinal);
        var query = HttpUtility.ParseQueryString(authorize.Query);
        Assert.Equal("code", query["response_type"]);
        Assert.Equal("tokenadmin", query["client_id"]);
        Assert.Equal("http://localhost:5080/oauth2/callback", query["redirect_uri"]);
        Assert.Equal("openid offline_access mail", query["scope"]);
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.Equal(43, query["code_challenge"]!.Length);
        Assert.True(query["state"]!.Length >= 43, "state must carry at least 256 random bits");
        Assert.False(string.IsNullOrEmpty(query["nonce"]));
        Assert.NotEqual(query["state"], HttpUtility.ParseQueryString((await StartAuthorizationAsync(id)).Query)["state"]);
    }

    [Fact]
    public async Task FullFlow_StoresEncryptedTokens_AndShowsThemValid()
    {
        var id = await CreateConfigAsync();

        var callback = await AuthorizeAsync(id);

        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        Assert.Equal($"/tokens/details/{id}", callback.Headers.Location!.OriginalString, ignoreCase: true);
        Assert.Equal("no-referrer", callback.Headers.GetValues("Referrer-Policy").Single());
        var details = await Browser.GetStringAsync(callback.Headers.Location.OriginalString);
        Assert.Contains("Token for &#x27;mailbox&#x27; received", details, StringComparison.Ordinal);
        Assert.Contains("Valid until", details, StringComparison.Ordinal);
        Assert.Contains("alice@example.test", details, StringComparison.Ordinal); // decoded ID token claim

        var state = await StateAsync(id);
        var access = Unprotect(state!.AccessTokenProtected!);
        var refresh = Unprotect(state.RefreshTokenProtected!);
        var idToken = Unprotect(state.IdTokenProtected!);
        Assert.True(state.AccessTokenExpiresAt > DateTime.UtcNow.AddMinutes(50));
        foreach (var token in new[] { access, refresh, idToken })
        {
            Assert.DoesNotContain(token, details, StringComparison.Ordinal);
            Assert.DoesNotContain(token, await Browser.GetStringAsync("/tokens"), StringComparison.Ordinal);
        }

        var raw = await DatabaseFiles.RawTextAsync(App.DataDirectory);
        foreach (var secret in new[] { access, refresh, idToken, ClientSecret })
        {
            Assert.DoesNotContain(secret, raw, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(App.LogMessages, m => m.Contains(access, StringComparison.Ordinal) || m.Contains(refresh, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Callback_WithoutState_IsRefused()
    {
        var response = await Browser.GetAsync("/oauth2/callback?code=abc");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("has no state parameter", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Callback_WithForgedState_IsRefused_AndNothingIsStored()
    {
        var id = await CreateConfigAsync();
        var back = await SignInAtProviderAsync(await StartAuthorizationAsync(id));
        var forged = back.Replace("state=", "state=x", StringComparison.Ordinal);

        var response = await Browser.GetAsync(forged);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("unknown state", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null((await StateAsync(id))?.AccessTokenProtected);
    }

    [Fact]
    public async Task Callback_Replayed_IsRefusedTheSecondTime()
    {
        var id = await CreateConfigAsync();
        var back = await SignInAtProviderAsync(await StartAuthorizationAsync(id));

        var first = await Browser.GetAsync(back);
        var second = await Browser.GetAsync(back);

        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, second.StatusCode);
        Assert.Contains("already used once", await second.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Callback_AfterRequestExpired_IsRefused()
    {
        var id = await CreateConfigAsync();
        var back = await SignInAtProviderAsync(await StartAuthorizationAsync(id));
        await App.WithDbAsync(db => db.AuthorizationRequests.ExecuteUpdateAsync(s => s.SetProperty(r => r.ExpiresAt, DateTime.UtcNow.AddSeconds(-1))));

        var response = await Browser.GetAsync(back);

        Assert.Contains("The token request expired", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null((await StateAsync(id))?.AccessTokenProtected);
    }

    [Fact]
    public async Task Callback_InAnotherBrowserSession_IsRefused()
    {
        var id = await CreateConfigAsync();
        var back = await SignInAtProviderAsync(await StartAuthorizationAsync(id));
        var otherBrowser = App.CreateBrowser();
        await otherBrowser.PostFormAsync("/account/login", new() { ["Input.UserName"] = "alice", ["Input.Password"] = TokenAdminFactory.AdminPassword });

        var response = await otherBrowser.GetAsync(back);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("started in another browser session", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null((await StateAsync(id))?.AccessTokenProtected);
        Assert.Equal(HttpStatusCode.Redirect, (await Browser.GetAsync(back)).StatusCode); // the right browser still can
    }

    [Fact]
    public async Task Callback_WithProviderError_ShowsErrorAndDescription_AndRecordsIt()
    {
        var id = await CreateConfigAsync(change: d => d.Parameters.Authorization["login_hint"] = "deny");
        var authorize = await StartAuthorizationAsync(id);
        var denied = await AtProvider.GetAsync(authorize);

        var response = await Browser.GetAsync(denied.Headers.Location!.PathAndQuery);

        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Contains("The provider refused the request", html, StringComparison.Ordinal);
        Assert.Contains("access_denied: The user denied the request", html, StringComparison.Ordinal);
        Assert.Equal("access_denied", (await StateAsync(id))!.LastErrorCode);
    }

    [Fact]
    public async Task Callback_WithIssuerOfAnotherProvider_IsRefused()
    {
        var id = await CreateConfigAsync(change: d => d.Issuer = "https://other-provider.example/");
        var back = await SignInAtProviderAsync(await StartAuthorizationAsync(id));

        var response = await Browser.GetAsync(back);

        Assert.Contains("expects &#x27;https://other-provider.example/&#x27; (RFC 9207)", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null((await StateAsync(id))?.AccessTokenProtected);
    }

    [Fact]
    public async Task Callback_WhenSignedOut_GoesToLoginFirst()
    {
        var response = await App.CreateBrowser().GetAsync("/oauth2/callback?code=x&state=y");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("http://localhost/account/login", response.Headers.Location!.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task RequestToken_OnPlainHttpPublicHost_NamesTheSettingToChange()
    {
        var id = await CreateConfigAsync();
        await Browser.PostFormAsync("/settings", new() { ["Values[HttpType]"] = "http", ["Values[FQDN]"] = "tokens.example.com" });

        var response = await Browser.PostFormAsync($"/tokens/details/{id}?handler=RequestToken", [], formPage: $"/tokens/details/{id}");
        var page = WebUtility.HtmlDecode(await Browser.GetStringAsync(response.Headers.Location!.OriginalString));

        Assert.Contains("Set the setting HttpType to https", page, StringComparison.Ordinal);
        Assert.Contains("config update --setting-name HttpType --value https", page, StringComparison.Ordinal);
        Assert.Equal(0, await App.WithDbAsync(db => db.AuthorizationRequests.CountAsync()));
    }

    [Fact]
    public async Task TwoRequestsInTwoTabs_BothComplete()
    {
        var first = await CreateConfigAsync("first");
        var second = await CreateConfigAsync("second");
        var firstAuthorize = await StartAuthorizationAsync(first);
        var secondAuthorize = await StartAuthorizationAsync(second);

        var secondBack = await Browser.GetAsync(await SignInAtProviderAsync(secondAuthorize));
        var firstBack = await Browser.GetAsync(await SignInAtProviderAsync(firstAuthorize));

        Assert.Equal(HttpStatusCode.Redirect, secondBack.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, firstBack.StatusCode);
        Assert.NotNull((await StateAsync(first))!.AccessTokenProtected);
        Assert.NotNull((await StateAsync(second))!.AccessTokenProtected);
    }
}
