using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Mail;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tests.Oidc;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Tokens;

/// <summary>
/// The Diagnose page (and console verb) of both kinds of source, on real tokens of the test identity provider issued
/// Exchange-Online-style: audience https://outlook.office365.com, app-only roles or delegated scp.
/// </summary>
public sealed class DiagnosePageTests : AccountTestBase
{
    private const string ExchangeResource = "https://outlook.office365.com";
    private const string AppClient = "exchange-app";
    private const string UserClient = "exchange-user";

    protected override void ConfigureIdp(TestIdentityProviderOptions options)
    {
        options.AccessTokenAudiences.Add(ExchangeResource);
        options.DelegatedScpClaim = true;
    }

    public override async Task InitializeAsync()
    {
        App.Settings["TokenAdmin:TokenStoreUpdater:Enabled"] = "false";
        await base.InitializeAsync();
        await Idp.AddClientAsync(new TestClient(AppClient, ClientSecret, [])
        {
            AllowedGrantTypes = ["client_credentials"],
            AllowedScopes = [ExchangeResource + "/.default"],
            ClientCredentialsClaims = new Dictionary<string, string[]> { ["roles"] = ["IMAP.AccessAsApp", "SMTP.SendAsApp"] },
        });
        await Idp.AddClientAsync(new TestClient(UserClient, ClientSecret, [])
        {
            AllowedGrantTypes = ["password", "refresh_token"],
            AllowedScopes = ["openid", "offline_access", "https://outlook.office.com/IMAP.AccessAsUser.All"],
        });
    }

    private async Task<TokenSource> AppOnlySourceAsync(TokenSourceKind kind)
    {
        if (kind == TokenSourceKind.TokenConfig)
        {
            return TokenSource.Config(await CreateConfigAsync("exchange-app-only", TokenFlows.ClientCredentials, d =>
            {
                d.ClientId = AppClient;
                d.Scope = ExchangeResource + "/.default";
            }));
        }

        var profile = await CreateProfileAsync(change: p => p.ClientId = AppClient);
        var account = await CreateAccountAsync(profile.Id, "exchange-robot", a => a.Scope = ExchangeResource + "/.default");
        return TokenSource.Account(account.Id);
    }

    private async Task<string> RequestAsync(TokenSource source)
    {
        using var scope = App.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<TokenEngine>().RenewAsync(source, "test", default);
        Assert.True(result.Succeeded, result.Message);
        var state = source.Kind == TokenSourceKind.TokenConfig
            ? await App.WithDbAsync(db => db.TokenStates.AsNoTracking().SingleAsync(s => s.TokenConfigId == source.Id))
            : await App.WithDbAsync(db => db.TokenStates.AsNoTracking().SingleAsync(s => s.FunctionalAccountId == source.Id));
        return Unprotect(state.AccessTokenProtected!);
    }

    [Theory]
    [InlineData(TokenSourceKind.TokenConfig)]
    [InlineData(TokenSourceKind.FunctionalAccount)]
    public async Task AppOnlyToken_IsExplained_WithWhatExchangeWillSay_AndWhatUsesTheSource_NeverTheToken(TokenSourceKind kind)
    {
        var source = await AppOnlySourceAsync(kind);
        var token = await RequestAsync(source);
        using (var scope = App.Services.CreateScope())
        {
            var saved = await scope.ServiceProvider.GetRequiredService<MailAccountService>().CreateAsync(new MailAccountInput
            {
                Login = "support@contoso.example", Host = "outlook.office365.com", TokenSource = source.Key,
            }, "test", default);
            Assert.True(saved.Succeeded, string.Join("; ", saved.Errors.Values));
        }

        var response = await Browser.GetAsync($"/tokens/diagnose/{source.Kind}/{source.Id}");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        Assert.Contains("signature is not verified", html, StringComparison.Ordinal);
        Assert.Contains("app-only", html, StringComparison.Ordinal);
        Assert.Contains("IMAP.AccessAsApp, SMTP.SendAsApp", html, StringComparison.Ordinal);
        Assert.Contains(Idp.Issuer.ToString(), html, StringComparison.Ordinal);
        Assert.Matches(@"Exchange Online IMAP:</strong> <span class=""badge badge-ok"">likely accepted</span>", html);
        Assert.Matches(@"Exchange Online POP:</strong> <span class=""badge badge-error"">refused</span>", html);
        Assert.Contains("mail account support@contoso.example at outlook.office365.com", html, StringComparison.Ordinal);
        Assert.DoesNotContain(token, html, StringComparison.Ordinal);
        Assert.DoesNotContain(token.Split('.')[2], html, StringComparison.Ordinal);
        Assert.DoesNotContain(ClientSecret, html, StringComparison.Ordinal);

        // Linked from where the source is shown, and from its list.
        var (sourcePage, listPage) = kind == TokenSourceKind.TokenConfig
            ? ($"/tokens/details/{source.Id}", "/tokens")
            : ($"/functionalaccounts/edit/{source.Id}", "/functionalaccounts");
        var link = $"href=\"/tokens/diagnose/{source.Kind}/{source.Id}\"";
        Assert.Contains(link, await Browser.GetStringAsync(sourcePage), StringComparison.OrdinalIgnoreCase);
        Assert.Contains(link, await Browser.GetStringAsync(listPage), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task DelegatedToken_ImapScopeOnly_ImapLikelyAccepted_PopAndSmtpRefused()
    {
        var id = await CreateConfigAsync("exchange-user", TokenFlows.Password, d =>
        {
            d.ClientId = UserClient;
            d.Scope = "openid offline_access https://outlook.office.com/IMAP.AccessAsUser.All";
        }, password: "alice-password-1");
        var token = await RequestAsync(TokenSource.Config(id));

        var html = await Browser.GetStringAsync($"/tokens/diagnose/TokenConfig/{id}");

        Assert.Contains("delegated", html, StringComparison.Ordinal);
        Assert.Matches(@"Exchange Online IMAP:</strong> <span class=""badge badge-ok"">likely accepted</span>", html);
        Assert.Matches(@"Exchange Online SMTP:</strong> <span class=""badge badge-error"">refused</span> scp lacks SMTP.Send", html);
        Assert.Contains("No mail account, SMTP setting or web service uses this token config.", html, StringComparison.Ordinal);
        Assert.DoesNotContain(token, html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoToken_SaysRequestOne_UnknownSourceIsNotFound_NoLinkWithoutToken()
    {
        var id = await CreateConfigAsync("nothing-yet", TokenFlows.ClientCredentials, d => { d.ClientId = AppClient; d.Scope = ExchangeResource + "/.default"; });

        var html = await Browser.GetStringAsync($"/tokens/diagnose/TokenConfig/{id}");

        Assert.Contains("No access token is stored: request one first.", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await Browser.GetAsync("/tokens/diagnose/TokenConfig/999")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Browser.GetAsync($"/tokens/diagnose/Nonsense/{id}")).StatusCode);
        Assert.DoesNotContain("/tokens/diagnose/", await Browser.GetStringAsync($"/tokens/details/{id}"), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(TokenSourceKind.TokenConfig)]
    [InlineData(TokenSourceKind.FunctionalAccount)]
    public async Task ConsoleVerb_ExplainsTheToken_ExitCodeOneWithoutToken(TokenSourceKind kind)
    {
        var source = await AppOnlySourceAsync(kind);
        string[] args = kind == TokenSourceKind.TokenConfig ? ["tokens", "diagnose", "exchange-app-only"] : ["tokens", "diagnose", "exchange-robot", "--functional-account"];

        var before = await ConsoleVerbs.RunAsync(App.DataDirectory, "", args);
        var token = await RequestAsync(source);
        var after = await ConsoleVerbs.RunAsync(App.DataDirectory, "", args);

        Assert.Equal(1, before.Exit);
        Assert.Contains("No access token is stored", before.Out, StringComparison.Ordinal);
        Assert.Equal((0, ""), (after.Exit, after.Err));
        Assert.Contains("Application permissions (roles): IMAP.AccessAsApp, SMTP.SendAsApp", after.Out, StringComparison.Ordinal);
        Assert.Contains("Exchange Online IMAP: likely accepted.", after.Out, StringComparison.Ordinal);
        Assert.Contains("Exchange Online POP: refused.", after.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(token, after.Out, StringComparison.Ordinal);
        var unknown = await ConsoleVerbs.RunAsync(App.DataDirectory, "", "tokens", "diagnose", "nope", "--functional-account");
        Assert.Equal((1, "There is no functional account named 'nope'."), (unknown.Exit, unknown.Err.Trim()));
    }
}
