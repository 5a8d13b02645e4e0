using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Oidc;
using TokenAdmin.Providers;
using TokenAdmin.Settings;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tests.Oidc;
using TokenAdmin.Tests.WebServices;
using TokenAdmin.Tokens;
using TokenAdmin.WebServices;

namespace TokenAdmin.Tests.Providers;

/// <summary>
/// The outbound proxy against a real forward proxy on loopback. The provider and the web service are named by made-up
/// hosts (idp.proxy-test, crm.proxy-test) that only the proxy resolves, so a call that works went through it.
/// </summary>
public sealed class OutboundProxyTests : WebServiceTestBase
{
    private const string IdpHost = "idp.proxy-test";
    private const string CrmHost = "crm.proxy-test";
    private readonly TestCertificates _certificates = new(IdpHost);
    private TestIdentityProviderServer _farIdp = null!;
    private ForwardProxy _proxy = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _farIdp = await TestIdentityProviderServer.StartAsync(new TestIdentityProviderOptions
        {
            ServerCertificate = _certificates.Server,
            PublicHost = IdpHost,
        });
        await _farIdp.AddClientAsync(new TestClient("tokenadmin", ClientSecret, []));
        _proxy = ForwardProxy.Start(IdpHost, CrmHost);
    }

    public override async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _farIdp.DisposeAsync();
        await base.DisposeAsync();
        _certificates.Dispose();
    }

    private async Task<SettingsUpdateResult> SetAsync(Dictionary<string, string?> changes)
    {
        var result = await App.Services.GetRequiredService<SettingsStore>().UpdateAsync(changes, "test", default);
        return result;
    }

    private async Task UseProxyAsync(string? noProxy = null, string? user = null, string? password = null)
    {
        var result = await SetAsync(new()
        {
            [ProxySettings.Url] = _proxy.Url,
            [ProxySettings.NoProxy] = noProxy ?? "",
            [ProxySettings.UserName] = user ?? "",
            [ProxySettings.Password] = password,
        });
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Values));
    }

    private async Task<Dictionary<string, string>> ProfileRefusedAsync()
    {
        var input = new OidcProfileInput { Name = "far", DiscoveryUrl = _farIdp.MetadataAddress, ClientId = "tokenadmin", ClientSecret = ClientSecret, CaCertificatePath = _certificates.CaPath };
        using var scope = App.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<OidcProfileService>().CreateAsync(input, "test", default);
        Assert.False(result.Succeeded);
        Assert.Equal(0, await App.WithDbAsync(db => db.OidcProfiles.CountAsync()));
        return result.Errors;
    }

    private Task<OidcProfile> FarProfileAsync() =>
        CreateProfileAsync("far", p => p.CaCertificatePath = _certificates.CaPath, _farIdp.MetadataAddress);

    private bool ProxySaw(string method, string host) =>
        _proxy.Requests.Any(r => r.Method == method && r.Target.Contains(host, StringComparison.Ordinal));

    [Fact]
    public async Task ClientCredentials_ThroughTheProxy_GetsAToken_AndTheProxyTunnelledEveryCall()
    {
        Assert.StartsWith($"https://{IdpHost}:", _farIdp.TokenEndpoint, StringComparison.Ordinal);
        await UseProxyAsync();
        var profile = await FarProfileAsync();
        var account = await CreateAccountAsync(profile.Id);
        _farIdp.ResetCounters();

        var result = await RenewAsync(account.Id);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal(1, _farIdp.TokenRequestCount);
        var state = await AccountStateAsync(account.Id);
        Assert.NotNull(state!.AccessTokenProtected);
        Assert.True(ProxySaw("CONNECT", $"{IdpHost}:{_farIdp.Issuer.Port}"));
        Assert.All(_proxy.Requests, r => Assert.Equal("CONNECT", r.Method));
    }

    [Fact]
    public async Task ProxyAskingForCredentials_IsAnsweredWithTheStoredUserAndPassword_AndWithoutThemTheErrorSaysSo()
    {
        _proxy.RequiredCredentials = "proxy-user:proxy-pass-42";
        await UseProxyAsync();

        var errors = await ProfileRefusedAsync();
        Assert.Contains($"The proxy 127.0.0.1:{_proxy.Port} asks for a user name and password (HTTP 407)", errors["DiscoveryUrl"], StringComparison.Ordinal);

        await UseProxyAsync(user: "proxy-user", password: "wrong-pass");
        errors = await ProfileRefusedAsync();
        Assert.Contains($"The proxy 127.0.0.1:{_proxy.Port} refused the proxy user name 'proxy-user'", errors["DiscoveryUrl"], StringComparison.Ordinal);

        // A changed password applies at the next request, without a restart.
        await UseProxyAsync(user: "proxy-user", password: "proxy-pass-42");
        var profile = await FarProfileAsync();
        var account = await CreateAccountAsync(profile.Id);
        Assert.True((await RenewAsync(account.Id)).Succeeded);
        Assert.Contains(_proxy.Requests, r => r.ProxyAuthorization == "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("proxy-user:proxy-pass-42")));
    }

    [Fact]
    public async Task NoProxyEntry_SendsTheCallDirect_WhichCannotResolveTheMadeUpHost()
    {
        await UseProxyAsync(noProxy: "10.0.0.0/8 .proxy-test");

        var errors = await ProfileRefusedAsync();

        Assert.Contains($"The host name {IdpHost} could not be resolved (DNS)", errors["DiscoveryUrl"], StringComparison.Ordinal);
        Assert.Empty(_proxy.Requests);
    }

    [Fact]
    public async Task LoopbackDestinations_AlwaysGoDirect()
    {
        await UseProxyAsync();
        var profile = await CreateProfileAsync(); // the base test provider at http://127.0.0.1
        var account = await CreateAccountAsync(profile.Id);

        Assert.True((await RenewAsync(account.Id)).Succeeded);
        Assert.Empty(_proxy.Requests);
    }

    [Theory]
    [InlineData("refused")]
    [InlineData("403")]
    [InlineData("502")]
    public async Task ProxyThatRefuses_FailsTheTokenRequest_NamingTheProxy_AndStoresNothing(string how)
    {
        await UseProxyAsync();
        var profile = await FarProfileAsync();
        var account = await CreateAccountAsync(profile.Id);
        string proxyAuthority;
        if (how == "refused")
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            Assert.True((await SetAsync(new() { [ProxySettings.Url] = $"http://127.0.0.1:{port}" })).Succeeded);
            proxyAuthority = $"127.0.0.1:{port}";
        }
        else
        {
            _proxy.Mode = how == "403" ? ForwardProxyMode.Forbidden : ForwardProxyMode.BadGateway;
            _proxy.DropConnections(); // the tunnels opened while the profile was saved are gone, as after a proxy restart
            proxyAuthority = $"127.0.0.1:{_proxy.Port}";
        }

        _farIdp.ResetCounters();

        var result = await RenewAsync(account.Id);

        Assert.False(result.Succeeded);
        Assert.Contains($"The proxy {proxyAuthority}", result.Message, StringComparison.Ordinal);
        Assert.Contains(how == "refused" ? "could not be reached" : $"refused to connect to {IdpHost}:{_farIdp.Issuer.Port}: HTTP {how}", result.Message, StringComparison.Ordinal);
        Assert.Equal(0, _farIdp.TokenRequestCount);
        var state = await AccountStateAsync(account.Id);
        Assert.Null(state?.AccessTokenProtected);
    }

    [Fact]
    public async Task WebServiceCall_GoesThroughTheProxy_AsAnAbsoluteUriRequest()
    {
        await UseProxyAsync();
        var port = new Uri(Echo.BaseUrl).Port;
        var id = await CreateWebServiceAsync("crm", w => { w.BaseUrl = $"http://{CrmHost}:{port}/api"; w.AllowUnencrypted = true; });
        await CreateInvokerAsync(id);

        var answer = await InvokeAsync("crm", "create-ticket", "{\"title\":\"printer\"}");

        Assert.Equal(200, answer.StatusCode);
        Assert.True(ProxySaw("POST", $"http://{CrmHost}:{port}/api/tickets"));
        Assert.Contains(Echo.Requests, r => r.RawTarget == "/api/tickets" && r.Body.Contains("printer", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WebServiceCall_ToAProxyAskingForCredentials_FailsNamingTheProxy()
    {
        _proxy.RequiredCredentials = "proxy-user:proxy-pass-42";
        await UseProxyAsync();
        var port = new Uri(Echo.BaseUrl).Port;
        var id = await CreateWebServiceAsync("crm", w => { w.BaseUrl = $"http://{CrmHost}:{port}/api"; w.AllowUnencrypted = true; });
        await CreateInvokerAsync(id);

        var failed = await InvokeFailsAsync("crm", "create-ticket", "{}");

        Assert.Contains($"The proxy 127.0.0.1:{_proxy.Port} asks for a user name and password (HTTP 407)", failed.Message, StringComparison.Ordinal);
        Assert.Empty(Echo.Requests);
    }

    [Fact]
    public async Task Settings_RefuseBadValuesWithClearMessages_AndChangeNothing()
    {
        var result = await SetAsync(new()
        {
            [ProxySettings.Url] = "https://proxy.corp.example:3128",
            [ProxySettings.NoProxy] = "ok.example, http://x.example/, 10.0.0.0/99",
            [ProxySettings.UserName] = "a:b",
        });

        Assert.False(result.Succeeded);
        Assert.Contains("must start with http://", result.Errors[ProxySettings.Url], StringComparison.Ordinal);
        Assert.Contains("'http://x.example/', '10.0.0.0/99' are not a host name", result.Errors[ProxySettings.NoProxy], StringComparison.Ordinal);
        Assert.Contains("must not contain a colon", result.Errors[ProxySettings.UserName], StringComparison.Ordinal);

        Assert.Contains("without a path", (await SetAsync(new() { [ProxySettings.Url] = "http://proxy.corp.example:3128/path" })).Errors[ProxySettings.Url], StringComparison.Ordinal);
        Assert.Contains("must not contain a user name", (await SetAsync(new() { [ProxySettings.Url] = "http://u:p@proxy.corp.example:3128" })).Errors[ProxySettings.Url], StringComparison.Ordinal);
        Assert.Contains("Proxy user name is empty", (await SetAsync(new() { [ProxySettings.Url] = "http://proxy.corp.example:3128", [ProxySettings.Password] = "pw" })).Errors[ProxySettings.Password], StringComparison.Ordinal);
        Assert.Contains("Proxy URL is empty", (await SetAsync(new() { [ProxySettings.UserName] = "someone" })).Errors[ProxySettings.UserName], StringComparison.Ordinal);
        Assert.Equal(0, await App.WithDbAsync(db => db.Settings.CountAsync(s => s.Name.StartsWith("Proxy."))));
    }

    [Fact]
    public async Task Password_IsStoredEncrypted_AndNeverRenderedBack_OnTheSettingsPage()
    {
        await UseProxyAsync(user: "proxy-user", password: "proxy-pass-never-shown");

        var stored = await App.WithDbAsync(db => db.Settings.SingleAsync(s => s.Name == ProxySettings.Password));
        Assert.DoesNotContain("proxy-pass-never-shown", stored.Value, StringComparison.Ordinal);
        Assert.Equal("proxy-pass-never-shown", Unprotect(stored.Value));
        var page = await Browser.GetStringAsync("/settings");
        Assert.Contains("Outbound HTTP proxy", page, StringComparison.Ordinal);
        Assert.Contains(_proxy.Url, page, StringComparison.Ordinal);
        Assert.Contains("stored - leave empty to keep", page, StringComparison.Ordinal);
        Assert.DoesNotContain("proxy-pass-never-shown", page, StringComparison.Ordinal);
    }
}

/// <summary>Which destinations the proxy rules send through the proxy.</summary>
public sealed class ProxyRulesTests
{
    private static ProxyRules Rules(string noProxy)
    {
        var entries = SettingValues.SplitList(noProxy).Select(e => { Assert.Null(NoProxyEntry.TryParse(e, out var entry)); return entry!; }).ToList();
        return new ProxyRules(new Uri("http://proxy.corp.example:3128"), null, entries);
    }

    [Theory]
    [InlineData("https://login.microsoftonline.com/x", "", true)]
    [InlineData("https://localhost:8443/", "", false)]
    [InlineData("https://127.0.0.5/", "", false)]
    [InlineData("https://[::1]:5000/", "", false)]
    [InlineData("https://idp.corp.example/", ".corp.example", false)]
    [InlineData("https://corp.example/", "*.corp.example", false)]
    [InlineData("https://notcorp.example/", ".corp.example", true)]
    [InlineData("https://idp.corp.example/", "idp.corp.example", false)]
    [InlineData("https://other.corp.example/", "idp.corp.example", true)]
    [InlineData("https://10.1.2.3/", "10.0.0.0/8", false)]
    [InlineData("https://11.1.2.3/", "10.0.0.0/8", true)]
    [InlineData("https://192.168.1.9/", "192.168.1.9", false)]
    [InlineData("https://[fd00::1]/", "fd00::/8", false)]
    [InlineData("https://IDP.Corp.Example./", "idp.corp.example", false)]
    public void ProxyFor_HonoursLoopbackAndTheNoProxyList(string destination, string noProxy, bool throughProxy) =>
        Assert.Equal(throughProxy, Rules(noProxy).ProxyFor(new Uri(destination)) is not null);
}
