using System.Web;
using Microsoft.Extensions.Configuration;
using TokenAdmin.Cli;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Tokens;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Cli;

/// <summary>tokens list / auth-url / refresh / request against the app's data directory and the test provider.</summary>
public sealed class TokenStateVerbTests : TokenTestBase
{
    private Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) =>
        Infrastructure.ConsoleVerbs.RunAsync(App.DataDirectory, "", args);

    [Fact]
    public async Task List_ShowsStatus_AndJson()
    {
        await CreateConfigAsync("mailbox");
        await CreateConfigAsync("app-token", TokenFlows.ClientCredentials);

        var text = await RunAsync("tokens", "list");
        var json = await RunAsync("tokens", "list", "--json");

        Assert.Equal(0, text.Exit);
        Assert.Contains("mailbox  [Custom, AuthorizationCode]  Not requested yet", text.Out, StringComparison.Ordinal);
        Assert.Contains("\"name\": \"app-token\"", json.Out, StringComparison.Ordinal);
        Assert.Contains("\"status\": \"NotRequested\"", json.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_ClientCredentials_ThenRefreshFallsBackToRequest()
    {
        await CreateConfigAsync("app-token", TokenFlows.ClientCredentials);

        var request = await RunAsync("tokens", "request", "app-token");
        var refresh = await RunAsync("tokens", "refresh", "app-token");

        Assert.Equal(0, request.Exit);
        Assert.Contains("Token for 'app-token' received", request.Out, StringComparison.Ordinal);
        Assert.Equal(0, refresh.Exit);
        Assert.Equal(2, Idp.TokenRequestsByGrantType["client_credentials"]);
    }

    [Fact]
    public async Task Request_ForAuthorizationCodeConfig_PointsToAuthUrl()
    {
        await CreateConfigAsync("mailbox");

        var (exit, _, error) = await RunAsync("tokens", "request", "mailbox");

        Assert.Equal(1, exit);
        Assert.Contains("tokens auth-url", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuthUrl_PrintsAOneTimeLink_ThatASignedInAdminCanComplete()
    {
        var id = await CreateConfigAsync("mailbox");

        var (exit, output, _) = await RunAsync("tokens", "auth-url", "mailbox");

        Assert.Equal(0, exit);
        var link = new Uri(output.Trim());
        Assert.Equal(Idp.AuthorizationEndpoint, link.GetLeftPart(UriPartial.Path));
        Assert.Equal("S256", HttpUtility.ParseQueryString(link.Query)["code_challenge_method"]);
        var back = await SignInAtProviderAsync(link);
        Assert.Equal(System.Net.HttpStatusCode.Redirect, (await Browser.GetAsync(back)).StatusCode);
        Assert.NotNull((await StateAsync(id))!.AccessTokenProtected);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, (await Browser.GetAsync(back)).StatusCode); // once only
    }

    [Fact]
    public async Task Refresh_WhenProviderFails_Exits1_WithTheProvidersError()
    {
        var id = await CreateConfigAsync("mailbox");
        await AuthorizeAsync(id);
        Idp.Faults.TokenEndpoint = TokenEndpointFault.InvalidGrant;

        var (exit, _, error) = await RunAsync("tokens", "refresh", "mailbox");

        Assert.Equal(1, exit);
        Assert.Contains("invalid_grant", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownName_Exits1()
    {
        var (exit, _, error) = await RunAsync("tokens", "refresh", "nope");

        Assert.Equal(1, exit);
        Assert.Contains("There is no token config named 'nope'.", error, StringComparison.Ordinal);
    }
}
