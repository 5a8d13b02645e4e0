using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using TokenAdmin.FunctionalAccounts;
using TokenAdmin.Mail;
using TokenAdmin.Oidc;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Mail;

/// <summary>
/// Delegated access: the Graph account's token comes from an authorization-code sign-in of Adele with the delegated
/// permission Mail.ReadWrite (Entra-style <c>scp</c>, no <c>roles</c>), from a token config and from a functional
/// account. The loopback Graph server lets her token into her own mailbox (/me or /users/{upn}) and answers another
/// mailbox with Graph's 403 body.
/// </summary>
public sealed class GraphDelegatedTests : GraphMailTestBase
{
    private const string Adele = "adele@contoso.test";
    private const string AdelePassword = "adele-password-1";
    private const string DelegatedScope = "openid offline_access " + GraphMailServer.GraphResource + "/Mail.ReadWrite";
    private GraphMailServer.GraphMailbox _own = null!;

    protected override void ConfigureIdp(TestIdentityProviderOptions options)
    {
        base.ConfigureIdp(options);
        options.DelegatedScpClaim = true;
    }

    public override async Task InitializeAsync()
    {
        // The sign-ins redeem codes at the provider: give a loaded machine more than the base's two seconds.
        App.Settings["TokenAdmin:Providers:Timeout"] = "00:00:10";
        await base.InitializeAsync();
        await Idp.AddClientAsync(new TestClient("graph-delegated", ClientSecret, ["http://localhost:5080/oauth2/callback"])
        {
            AllowedGrantTypes = ["authorization_code", "refresh_token"],
            AllowedScopes = ["openid", "offline_access", GraphMailServer.GraphResource + "/Mail.ReadWrite"],
        });
        // Entra ID's preferred_username is the user principal name.
        Idp.AddUser(new TestUser("adele", AdelePassword) { Claims = new Dictionary<string, string[]> { ["preferred_username"] = [Adele] } });
        _own = Graph.AddMailbox(Adele);
    }

    [Fact]
    public async Task TokenConfig_DelegatedToken_FetchesTheUsersOwnMailbox_AndIsRefusedAnotherWithTheDelegatedPermissionNamed()
    {
        var config = await CreateConfigAsync("adele-graph", TokenFlows.AuthorizationCode, d =>
        {
            d.ClientId = "graph-delegated";
            d.Scope = DelegatedScope;
        });
        var back = await SignInAtProviderAsync(await StartAuthorizationAsync(config), "adele", AdelePassword);
        Assert.Equal(HttpStatusCode.Redirect, (await Browser.GetAsync(back)).StatusCode);
        var source = TokenSource.Config(config);
        await AssertDelegatedTokenAsync(source);

        await AssertOwnMailboxOnlyAsync(source);
    }

    [Fact]
    public async Task FunctionalAccount_DelegatedToken_FetchesTheUsersOwnMailbox_AndIsRefusedAnotherWithTheDelegatedPermissionNamed()
    {
        int profileId;
        using (var scope = App.Services.CreateScope())
        {
            var profile = await scope.ServiceProvider.GetRequiredService<OidcProfileService>().CreateAsync(new OidcProfileInput
            {
                Name = "entra-delegated", DiscoveryUrl = Idp.MetadataAddress, ClientId = "graph-delegated", ClientSecret = ClientSecret,
            }, "test", default);
            Assert.True(profile.Succeeded, string.Join("; ", profile.Errors.Values));
            profileId = profile.Profile!.Id;
            var account = await scope.ServiceProvider.GetRequiredService<FunctionalAccountService>().CreateAsync(new FunctionalAccountInput
            {
                Name = "adele-mail", OidcProfileId = profileId, GrantType = AccountGrantTypes.AuthorizationCode, Scope = DelegatedScope,
                TokenType = AccountTokenTypes.AccessToken,
            }, "test", default);
            Assert.True(account.Succeeded, string.Join("; ", account.Errors.Values));
            profileId = account.Account!.Id;
        }

        var start = await Browser.PostFormAsync($"/functionalaccounts?handler=RequestToken&id={profileId}", [], "/functionalaccounts");
        Assert.Equal(HttpStatusCode.Redirect, start.StatusCode);
        var back = await SignInAtProviderAsync(start.Headers.Location!, "adele", AdelePassword);
        Assert.Equal(HttpStatusCode.Redirect, (await Browser.GetAsync(back)).StatusCode);
        var source = TokenSource.Account(profileId);
        await AssertDelegatedTokenAsync(source);

        await AssertOwnMailboxOnlyAsync(source);
    }

    [Fact]
    public async Task TestConnection_ReportsADelegatedTokensUserAndScopes()
    {
        var config = await CreateConfigAsync("adele-graph", TokenFlows.AuthorizationCode, d =>
        {
            d.ClientId = "graph-delegated";
            d.Scope = DelegatedScope;
        });
        Assert.Equal(HttpStatusCode.Redirect, (await Browser.GetAsync(await SignInAtProviderAsync(await StartAuthorizationAsync(config), "adele", AdelePassword))).StatusCode);
        _own.Deliver("inbox", NewMessages("own", 4));
        var id = await CreateAccountAsync(a => { a.Login = "me"; a.TokenSource = TokenSource.Config(config).Key; });

        var response = await Browser.PostFormAsync($"/mailaccounts/edit/{id}?handler=Test", [], formPage: $"/mailaccounts/edit/{id}");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var page = WebUtility.HtmlDecode(await Browser.GetStringAsync(response.Headers.Location));

        Assert.Contains("Reached mailbox me", page, StringComparison.Ordinal);
        Assert.Contains("folder 'inbox' (Inbox) holds 4 message(s), 4 unread.", page, StringComparison.Ordinal);
        Assert.Contains($"Token audience: {GraphMailServer.GraphResource}; delegated token for {Adele}, scopes: Mail.ReadWrite.", page, StringComparison.Ordinal);
        Assert.Equal(4, _own.MessageIds("inbox").Count);
    }

    /// <summary>The source's token is delegated the Entra way: scp = Mail.ReadWrite, no roles, Adele's UPN.</summary>
    private async Task AssertDelegatedTokenAsync(TokenSource source)
    {
        var token = new JsonWebToken((await App.Services.GetRequiredService<ITokenProvider>().GetTokenAsync(source, default)).Value);
        Assert.Equal("Mail.ReadWrite", token.GetClaim("scp").Value);
        Assert.False(token.TryGetClaim("roles", out _));
        Assert.Equal(Adele, token.GetClaim("preferred_username").Value);
        Assert.Contains(GraphMailServer.GraphResource, token.Audiences);
    }

    /// <summary>/me and /users/{upn} reach Adele's mailbox; the shared support mailbox answers 403 and nothing there changes.</summary>
    private async Task AssertOwnMailboxOnlyAsync(TokenSource source)
    {
        _own.AddFolder("Inbox", "Orders");
        _own.Deliver("inbox", NewMessages("own", 3));
        _own.Deliver("Inbox/Orders", NewMessages("order", 2));
        Mailbox.Deliver("inbox", NewMessages("shared", 2));
        var me = await CreateAccountAsync(a => { a.Login = "me"; a.KeepOnServer = true; a.TokenSource = source.Key; });
        var upn = await CreateAccountAsync(a => { a.Login = Adele; a.ImapFolder = "Inbox/Orders"; a.TokenSource = source.Key; });
        var other = await CreateAccountAsync(a => { a.Login = Address; a.KeepOnServer = true; a.TokenSource = source.Key; });

        var viaMe = await FetchAsync(me);
        Assert.Empty(viaMe.Errors);
        Assert.Equal(3, viaMe.Stored);
        Assert.Equal(3, _own.ReadMessageIds("inbox").Count);
        Assert.Contains(Graph.Requests, r => r.Contains("/v1.0/me/mailFolders", StringComparison.Ordinal));

        var viaUpn = await FetchAsync(upn);
        Assert.Empty(viaUpn.Errors);
        Assert.Equal(2, viaUpn.Stored);
        Assert.Empty(_own.MessageIds("Inbox/Orders"));

        var refused = await FetchAsync(other);
        Assert.Equal(0, refused.Stored);
        var error = Assert.Single(refused.Errors);
        Assert.StartsWith($"Microsoft Graph denied access to mailbox {Address} (403 ErrorAccessDenied: Access is denied. Check credentials and try again.)", error, StringComparison.Ordinal);
        Assert.Contains($"delegated token for {Adele}, scopes: Mail.ReadWrite.", error, StringComparison.Ordinal);
        Assert.Contains("a delegated token needs Mail.ReadWrite.Shared, and the signed-in user needs full access to the mailbox", error, StringComparison.Ordinal);
        Assert.Empty(Mailbox.ReadMessageIds("inbox"));
        Assert.Empty(await StoredAsync(other));
    }
}
