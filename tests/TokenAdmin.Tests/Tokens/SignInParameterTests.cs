using System.Net;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.FunctionalAccounts;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tests.Oidc;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Tokens;

/// <summary>
/// Consent and sign-in parameters (prompt, login_hint, domain_hint) of both kinds of authorization-code source: sent to
/// the test identity provider, winning over extra parameters of the same name, refused when malformed; and Microsoft's
/// admin consent link and its return to the redirect URI.
/// </summary>
public sealed class SignInParameterTests : AccountTestBase
{
    public override async Task InitializeAsync()
    {
        App.Settings["TokenAdmin:TokenStoreUpdater:Enabled"] = "false";
        await base.InitializeAsync();
    }

    private static Dictionary<string, string> Query(Uri url) =>
        QueryHelpers.ParseQuery(url.Query).ToDictionary(p => p.Key, p => p.Value.ToString());

    [Fact]
    public async Task TokenConfig_SendsSignInFields_OverExtraParameters_AndTheProviderAcceptsThem()
    {
        var id = await CreateConfigAsync(change: d =>
        {
            d.Parameters.Authorization = new() { ["prompt"] = "consent", ["access_type"] = "offline" };
            d.SignIn = new SignInOptions { Prompt = "select_account", LoginHint = "alice@example.com", DomainHint = "example.com" };
        });
        var plain = await CreateConfigAsync("extra-only", change: d => d.Parameters.Authorization = new() { ["prompt"] = "consent" });

        var authorize = await StartAuthorizationAsync(id);
        var query = Query(authorize);
        Assert.Equal("select_account", query["prompt"]);
        Assert.Equal("alice@example.com", query["login_hint"]);
        Assert.Equal("example.com", query["domain_hint"]);
        Assert.Equal("offline", query["access_type"]);
        Assert.Equal("consent", Query(await StartAuthorizationAsync(plain))["prompt"]);

        var back = await SignInAtProviderAsync(authorize);
        Assert.Equal(HttpStatusCode.Redirect, (await Browser.GetAsync(back)).StatusCode);
        Assert.NotNull((await StateAsync(id))?.AccessTokenProtected);

        var yaml = await App.WithDbAsync(db => db.TokenConfigs.Where(c => c.Id == id).Select(c => c.Yaml).SingleAsync());
        Assert.Contains("signIn:\n  prompt: select_account\n  loginHint: alice@example.com\n  domainHint: example.com", yaml, StringComparison.Ordinal);
        Assert.Equal("example.com", TokenConfigYaml.Parse(yaml).SignIn!.DomainHint);
    }

    [Fact]
    public async Task FunctionalAccount_SendsSignInFields_AndBadValuesAreRefusedForBothKinds()
    {
        var profile = await CreateProfileAsync();
        var account = await CreateAccountAsync(profile.Id, change: a =>
        {
            a.GrantType = AccountGrantTypes.AuthorizationCode;
            a.Scope = "openid offline_access";
            a.Prompt = "login";
            a.LoginHint = "robot@example.com";
        });

        var start = await Browser.PostFormAsync($"/functionalaccounts?handler=RequestToken&id={account.Id}", [], "/functionalaccounts");

        Assert.Equal(HttpStatusCode.Redirect, start.StatusCode);
        var query = Query(start.Headers.Location!);
        Assert.Equal("login", query["prompt"]);
        Assert.Equal("robot@example.com", query["login_hint"]);
        Assert.False(query.ContainsKey("domain_hint"));
        var edit = WebUtility.HtmlDecode(await Browser.GetStringAsync($"/functionalaccounts/edit/{account.Id}"));
        Assert.Contains("<option value=\"login\" selected=\"selected\">", edit, StringComparison.Ordinal);

        using var scope = App.Services.CreateScope();
        var bad = await scope.ServiceProvider.GetRequiredService<FunctionalAccountService>().CreateAsync(
            new FunctionalAccountInput { Name = "bad", OidcProfileId = profile.Id, GrantType = AccountGrantTypes.AuthorizationCode, Prompt = "always", DomainHint = "not a domain" }, "test", default);
        Assert.False(bad.Succeeded);
        Assert.StartsWith("Prompt must be one of: none, login, consent, select_account", bad.Errors["Prompt"], StringComparison.Ordinal);
        Assert.StartsWith("Domain hint:", bad.Errors["DomainHint"], StringComparison.Ordinal);

        var document = TokenTemplates.Find(TokenTemplates.Custom)!.NewDocument();
        document.SignIn = new SignInOptions { Prompt = "always", LoginHint = "two words" };
        var errors = TokenConfigValidator.Validate(document, hasClientSecret: true, hasPassword: false, hasCertificate: false, certificateKeyType: null);
        Assert.StartsWith("Prompt must be one of", errors["signIn.prompt"], StringComparison.Ordinal);
        Assert.StartsWith("Login hint:", errors["signIn.loginHint"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task MicrosoftConfig_OffersTheAdminConsentLink_AndItsReturnIsUnderstood()
    {
        var document = TokenTemplates.Find(TokenTemplates.MicrosoftExchangeOnline)!.NewDocument();
        document.Name = "entra";
        document.ClientId = "00001111-aaaa-2222-bbbb-3333cccc4444";
        document.Tenant = "contoso.onmicrosoft.com";
        int id;
        using (var scope = App.Services.CreateScope())
        {
            var result = await scope.ServiceProvider.GetRequiredService<TokenConfigService>().CreateAsync(document, new TokenConfigSecrets("secret"), "test", default);
            Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => $"{e.Key}: {e.Value}")));
            id = result.Config!.Id;
        }

        var details = WebUtility.HtmlDecode(await Browser.GetStringAsync($"/tokens/details/{id}"));

        var expected = "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/adminconsent?client_id=00001111-aaaa-2222-bbbb-3333cccc4444"
            + "&scope=https%3A%2F%2Foutlook.office.com%2FIMAP.AccessAsUser.All%20https%3A%2F%2Foutlook.office.com%2FPOP.AccessAsUser.All%20https%3A%2F%2Foutlook.office.com%2FSMTP.Send"
            + "&redirect_uri=http%3A%2F%2Flocalhost%3A5080%2Foauth2%2Fcallback";
        Assert.Contains($"href=\"{expected}\"", details, StringComparison.Ordinal);
        Assert.Null(AdminConsent.Link("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize", "organizations", "c", "s", "http://localhost/cb"));
        Assert.Null(AdminConsent.Link(Idp.AuthorizationEndpoint, "contoso.com", "c", "s", "http://localhost/cb"));
        var ownConfig = await CreateConfigAsync();
        Assert.DoesNotContain("adminconsent", await Browser.GetStringAsync($"/tokens/details/{ownConfig}"), StringComparison.Ordinal);

        var back = await Browser.GetAsync("/oauth2/callback?admin_consent=True&tenant=contoso.onmicrosoft.com");
        Assert.Equal(HttpStatusCode.Redirect, back.StatusCode);
        var overview = WebUtility.HtmlDecode(await Browser.GetStringAsync(back.Headers.Location!.OriginalString));
        Assert.Contains("Admin consent was granted in tenant contoso.onmicrosoft.com.", overview, StringComparison.Ordinal);
    }
}
