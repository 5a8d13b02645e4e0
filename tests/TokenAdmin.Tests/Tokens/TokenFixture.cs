using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Secrets;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Tokens;

/// <summary>
/// An app with a signed-in admin and the test identity provider, plus the steps of a browser going through the
/// authorization-code flow.
/// </summary>
public class TokenTestBase : IAsyncLifetime
{
    protected const string ClientSecret = "tokenadmin-client-secret";
    protected TokenAdminFactory App { get; } = new();
    protected TestIdentityProviderServer Idp { get; private set; } = null!;
    protected HttpClient Browser { get; private set; } = null!;
    protected HttpClient AtProvider { get; } = new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true });

    public virtual async Task InitializeAsync()
    {
        // A test class may have set a timeout of its own before.
        App.Settings.TryAdd("TokenAdmin:Providers:Timeout", "00:00:02");
        var options = new TestIdentityProviderOptions();
        ConfigureIdp(options);
        Idp = await TestIdentityProviderServer.StartAsync(options);
        await Idp.AddClientAsync(new TestClient("tokenadmin", ClientSecret, ["http://localhost:5080/oauth2/callback"]));
        Idp.AddUser(new TestUser("alice", "alice-password-1") { Claims = new Dictionary<string, string[]> { ["email"] = ["alice@example.test"] } });
        Browser = await App.SignedInBrowserAsync();
    }

    /// <summary>Options of the test identity provider before it starts (audiences, ...).</summary>
    protected virtual void ConfigureIdp(TestIdentityProviderOptions options)
    {
    }

    public virtual async Task DisposeAsync()
    {
        AtProvider.Dispose();
        await App.DisposeAsync();
        await Idp.DisposeAsync();
    }

    /// <summary>A config for the test provider, saved through the service as the pages do.</summary>
    protected async Task<int> CreateConfigAsync(string name = "mailbox", string flow = TokenFlows.AuthorizationCode, Action<TokenConfigDocument>? change = null, string? secret = ClientSecret, string? password = null)
    {
        var document = TokenTemplates.Find(TokenTemplates.Custom)!.NewDocument();
        document.Name = name;
        document.Flow = flow;
        document.ClientId = "tokenadmin";
        document.Scope = flow == TokenFlows.ClientCredentials ? "api" : "openid offline_access mail";
        document.Issuer = Idp.Issuer.ToString();
        document.Endpoints.Authorization = Idp.AuthorizationEndpoint;
        document.Endpoints.Token = Idp.TokenEndpoint;
        document.Username = flow == TokenFlows.Password ? "alice" : null;
        change?.Invoke(document);
        using var scope = App.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<TokenConfigService>()
            .CreateAsync(document, new TokenConfigSecrets(secret, password), "test", default);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => $"{e.Key}: {e.Value}")));
        return result.Config!.Id;
    }

    /// <summary>Clicks "Request token" and returns the provider URL TokenAdmin sent the browser to.</summary>
    protected async Task<Uri> StartAuthorizationAsync(int id, HttpClient? browser = null)
    {
        var response = await (browser ?? Browser).PostFormAsync($"/tokens/details/{id}?handler=RequestToken", [], formPage: $"/tokens/details/{id}");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return response.Headers.Location!;
    }

    /// <summary>Signs in at the provider's login page and returns the redirect back to TokenAdmin (path and query).</summary>
    protected async Task<string> SignInAtProviderAsync(Uri authorize, string user = "alice", string password = "alice-password-1")
    {
        var back = await ProviderLogin.SignInAsync(AtProvider, authorize, user, password);
        Assert.StartsWith("http://localhost:5080/oauth2/callback?", back.ToString(), StringComparison.Ordinal);
        return back.PathAndQuery;
    }

    /// <summary>The whole flow: request, sign in at the provider, come back. Returns the callback response.</summary>
    protected async Task<HttpResponseMessage> AuthorizeAsync(int id)
    {
        var back = await SignInAtProviderAsync(await StartAuthorizationAsync(id));
        return await Browser.GetAsync(back);
    }

    protected async Task<TokenState?> StateAsync(int id) =>
        await App.WithDbAsync(db => db.TokenStates.AsNoTracking().SingleOrDefaultAsync(s => s.TokenConfigId == id));

    protected string Unprotect(string protectedValue) => App.Services.GetRequiredService<ISecretProtector>().Unprotect(protectedValue);
}
