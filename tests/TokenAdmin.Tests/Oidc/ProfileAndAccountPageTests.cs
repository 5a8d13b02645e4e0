using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Admin;
using TokenAdmin.FunctionalAccounts;
using TokenAdmin.Settings;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.Tests.Oidc;

public sealed class ProfileAndAccountPageTests : AccountTestBase
{
    private Dictionary<string, string> ProfileForm(string name = "keycloak") => new()
    {
        ["Input.Name"] = name,
        ["Input.DiscoveryUrl"] = Idp.MetadataAddress,
        ["Input.ClientId"] = "tokenadmin",
        ["Input.ClientSecret"] = ClientSecret,
        ["Input.DiscoveryCacheSeconds"] = "1800",
        ["Input.RandLength"] = "22",
        ["Input.RandTtlSeconds"] = "300",
        ["Input.LeewaySeconds"] = "2",
        ["Input.UidClaim"] = "sub",
        ["Input.IncomingOrder"] = "0",
        ["Input.VerifyHostname"] = "true",
        ["Input.VerifyCertificate"] = "true",
        ["Input.UseNonce"] = "true",
    };

    [Fact]
    public async Task A_profile_added_on_the_page_is_saved_with_its_secret_encrypted_and_never_rendered_back()
    {
        var response = await Browser.PostFormAsync("/oidcprofiles/edit", ProfileForm(), "/oidcprofiles/edit");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);

        var profile = await App.WithDbAsync(db => db.OidcProfiles.AsNoTracking().SingleAsync());
        Assert.Equal("keycloak", profile.Name);
        Assert.NotEqual(ClientSecret, profile.ClientSecretProtected);
        Assert.Equal(ClientSecret, Unprotect(profile.ClientSecretProtected!));
        var page = await Browser.GetStringAsync(response.Headers.Location!.ToString());
        Assert.DoesNotContain(ClientSecret, page, StringComparison.Ordinal);
        Assert.Contains("stored - leave empty to keep", page, StringComparison.Ordinal);
        Assert.DoesNotContain(ClientSecret, await DatabaseFiles.RawTextAsync(App.DataDirectory), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Input.DiscoveryUrl", "not a url", "Discovery URL: an absolute https URL")]
    [InlineData("Input.DiscoveryUrl", "http://idp.example.com/.well-known/openid-configuration", "plain http is only allowed for a provider on this machine")]
    [InlineData("Input.DiscoveryUrl", "https://idp.example.com/realms/x", "must end in /.well-known/openid-configuration")]
    [InlineData("Input.RoleMapYaml", "groups: { admins: root }", "&#x27;root&#x27; is not a TokenAdmin role")]
    [InlineData("Input.RoleMapYaml", "groups: [", "RoleMap: line")]
    [InlineData("Input.UserMapYaml", "email: Shoe", "is not a user attribute")]
    [InlineData("Input.LeewaySeconds", "-1", "Allowed clock difference (seconds): a whole number from 0 to 300")]
    [InlineData("Input.CaCertificatePath", "/nonexistent/ca.pem", "neither a file nor a directory")]
    [InlineData("Input.ClientId", "", "Client ID: required")]
    public async Task Bad_profile_input_names_the_field_and_saves_nothing(string field, string value, string message)
    {
        var form = ProfileForm();
        form[field] = value;

        var response = await Browser.PostFormAsync("/oidcprofiles/edit", form, "/oidcprofiles/edit");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Nothing was saved", html, StringComparison.Ordinal);
        Assert.Contains(message, html, StringComparison.Ordinal);
        Assert.DoesNotContain(ClientSecret, html, StringComparison.Ordinal);
        Assert.Equal(0, await App.WithDbAsync(db => db.OidcProfiles.CountAsync()));
    }

    [Fact]
    public async Task A_new_profile_is_prefilled_from_the_admin_sign_in_settings_except_the_secret()
    {
        await App.WithScope(sp => sp.GetRequiredService<SettingsStore>()).UpdateAsync(new Dictionary<string, string?>
        {
            [AdminOidcSettings.MetadataAddress] = Idp.MetadataAddress,
            [AdminOidcSettings.ClientId] = "admin-client",
            [AdminOidcSettings.ClientSecret] = "admin-client-secret",
        }, "test", default);

        var page = await Browser.GetStringAsync("/oidcprofiles/edit");

        Assert.Contains($"value=\"{Idp.MetadataAddress}\"", page, StringComparison.Ordinal);
        Assert.Contains("value=\"admin-client\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain("admin-client-secret", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Test_shows_issuer_endpoints_grant_types_and_key_ids_or_the_exact_failure_when_the_provider_breaks_later()
    {
        var good = await CreateProfileAsync("good");
        var html = await (await Browser.PostFormAsync($"/oidcprofiles/edit/{good.Id}?handler=Test", [], $"/oidcprofiles/edit/{good.Id}")).Content.ReadAsStringAsync();
        Assert.Contains("discovery and keys fetched", html, StringComparison.Ordinal);
        Assert.Contains(Idp.TokenEndpoint, html, StringComparison.Ordinal);
        Assert.Contains(Idp.CurrentSigningKeyId, html, StringComparison.Ordinal);
        Assert.Contains("client_credentials", html, StringComparison.Ordinal);

        Idp.Faults.DiscoveryServerError500 = true;
        html = await (await Browser.PostFormAsync($"/oidcprofiles/edit/{good.Id}?handler=Test", [], $"/oidcprofiles/edit/{good.Id}")).Content.ReadAsStringAsync();
        Assert.Contains("answered HTTP 500", html, StringComparison.Ordinal);

        Idp.Faults.DiscoveryServerError500 = false;
        Idp.Faults.DiscoveryNotJson = true;
        html = await (await Browser.PostFormAsync($"/oidcprofiles/edit/{good.Id}?handler=Test", [], $"/oidcprofiles/edit/{good.Id}")).Content.ReadAsStringAsync();
        Assert.Contains("is not valid JSON", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("closed", "127.0.0.1:9 refused the connection")]
    [InlineData("missing", "answered HTTP 404")]
    [InlineData("not-json", "is not valid JSON")]
    [InlineData("wrong-secret", "Client secret: the provider refused the client ID and secret")]
    public async Task A_profile_whose_provider_cannot_be_used_is_refused_on_save_naming_the_field(string broken, string message)
    {
        var form = ProfileForm(broken);
        switch (broken)
        {
            case "closed": form["Input.DiscoveryUrl"] = "http://127.0.0.1:9/.well-known/openid-configuration"; break;
            case "missing": form["Input.DiscoveryUrl"] = new Uri(Idp.Issuer, "nothing/.well-known/openid-configuration").ToString(); break;
            case "not-json": Idp.Faults.DiscoveryNotJson = true; break;
            case "wrong-secret": form["Input.ClientSecret"] = "not-the-secret"; break;
        }

        var html = await (await Browser.PostFormAsync("/oidcprofiles/edit", form, "/oidcprofiles/edit")).Content.ReadAsStringAsync();

        Assert.Contains("Nothing was saved", html, StringComparison.Ordinal);
        Assert.Contains(WebUtility.HtmlEncode(message), html, StringComparison.Ordinal);
        Assert.Equal(0, await App.WithDbAsync(db => db.OidcProfiles.CountAsync()));
    }

    [Fact]
    public async Task A_profile_in_use_by_an_account_cannot_be_deleted_until_the_account_is_gone()
    {
        var profile = await CreateProfileAsync();
        var account = await CreateAccountAsync(profile.Id);

        // Before any click: the delete page names what uses the profile and offers no working Delete button.
        var page = await Browser.GetStringAsync($"/oidcprofiles/delete/{profile.Id}");
        Assert.Contains("It cannot be deleted while it is still used by:", page, StringComparison.Ordinal);
        Assert.Contains("<li>functional account &#x27;mailbox-robot&#x27;</li>", page, StringComparison.Ordinal);
        Assert.Contains("<button type=\"submit\" class=\"btn\" disabled=\"disabled\">Delete</button>", page, StringComparison.Ordinal);

        // A post anyway (an old page, a script) is refused with the same list.
        var refused = await Browser.PostFormAsync($"/oidcprofiles/delete/{profile.Id}", [], $"/oidcprofiles/delete/{profile.Id}");
        var html = await refused.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("<li>functional account &#x27;mailbox-robot&#x27;</li>", html, StringComparison.Ordinal);
        Assert.Equal(1, await App.WithDbAsync(db => db.OidcProfiles.CountAsync()));

        Assert.Equal(HttpStatusCode.Redirect, (await Browser.PostFormAsync($"/functionalaccounts/delete/{account.Id}", [], $"/functionalaccounts/delete/{account.Id}")).StatusCode);
        var free = await Browser.GetStringAsync($"/oidcprofiles/delete/{profile.Id}");
        Assert.DoesNotContain("disabled=\"disabled\">Delete", free, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, (await Browser.PostFormAsync($"/oidcprofiles/delete/{profile.Id}", [], $"/oidcprofiles/delete/{profile.Id}")).StatusCode);
        Assert.Equal(0, await App.WithDbAsync(db => db.OidcProfiles.CountAsync()));
    }

    [Fact]
    public async Task Accounts_list_shows_the_token_columns_and_renew_gets_a_token()
    {
        var profile = await CreateProfileAsync();
        var account = await CreateAccountAsync(profile.Id);

        var before = await Browser.GetStringAsync("/functionalaccounts");
        Assert.Contains("mailbox-robot", before, StringComparison.Ordinal);
        foreach (var column in new[] { "Account", "Profile", "Flow", "Status", "Refresh token expires" })
        {
            Assert.Contains($">{column}</th>", before, StringComparison.Ordinal);
        }

        var renew = await Browser.PostFormAsync($"/functionalaccounts?handler=Renew&id={account.Id}", [], "/functionalaccounts");
        Assert.Equal(HttpStatusCode.Redirect, renew.StatusCode);
        var after = await Browser.GetStringAsync("/functionalaccounts");
        Assert.Contains("Token for &#x27;mailbox-robot&#x27; received", after, StringComparison.Ordinal);
        Assert.Contains("UTC", after, StringComparison.Ordinal);
        Assert.Contains("<span class=\"badge badge-ok\">Valid until", after, StringComparison.Ordinal);
        Assert.Contains(">Refresh <span class=\"visually-hidden\">for mailbox-robot</span></button>", after, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_account_input_names_the_field_and_saves_nothing()
    {
        var profile = await CreateProfileAsync();
        var form = new Dictionary<string, string>
        {
            ["Input.Name"] = "robot",
            ["Input.OidcProfileId"] = profile.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Input.GrantType"] = "password",
            ["Input.Scope"] = "api",
            ["Input.Resources"] = "not-a-uri",
            ["Input.RefreshTokenLifetimeDays"] = "lots",
            ["Input.ResourceParameterName"] = "resource",
            ["Input.ResourcePerParameter"] = "true",
            ["Input.TokenType"] = "id_token",
            ["Input.Valid"] = "true",
        };

        var html = await (await Browser.PostFormAsync("/functionalaccounts/edit", form, "/functionalaccounts/edit")).Content.ReadAsStringAsync();

        html = System.Net.WebUtility.HtmlDecode(html);
        // Every mistake at once, each linked from the summary, the rejected input kept as typed.
        Assert.Contains("<a href=\"#Input_RefreshTokenLifetimeDays\">Refresh token lifetime (days): 'lots' is not a valid value.</a>", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"#Input_Username\">User name is required for the password grant", html, StringComparison.Ordinal);
        Assert.Contains("value=\"lots\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"not-a-uri\"", html, StringComparison.Ordinal);
        Assert.Contains("User name is required for the password grant", html, StringComparison.Ordinal);
        Assert.Contains("Password is required for the password grant", html, StringComparison.Ordinal);
        Assert.Contains("Resources: space-separated absolute URIs", html, StringComparison.Ordinal);
        Assert.Contains("needs the scope openid", html, StringComparison.Ordinal);
        Assert.Equal(0, await App.WithDbAsync(db => db.FunctionalAccounts.CountAsync()));
    }

    [Theory]
    [InlineData("authorization_code", false, TokenAdmin.Tokens.TokenStatusKind.NotRequested, "RequestToken", "Request token")]
    [InlineData("authorization_code", false, TokenAdmin.Tokens.TokenStatusKind.Failed, "RequestToken", "Request token")]
    [InlineData("authorization_code", true, TokenAdmin.Tokens.TokenStatusKind.Valid, "Renew", "Refresh")]
    [InlineData("authorization_code", true, TokenAdmin.Tokens.TokenStatusKind.Expired, "Renew", "Refresh")]
    [InlineData("authorization_code", false, TokenAdmin.Tokens.TokenStatusKind.Expired, "RequestToken", "Request token")]
    [InlineData("authorization_code", true, TokenAdmin.Tokens.TokenStatusKind.RefreshTokenRevoked, "RequestToken", "Request new authorization")]
    [InlineData("authorization_code", true, TokenAdmin.Tokens.TokenStatusKind.RefreshTokenExpired, "RequestToken", "Request new authorization")]
    [InlineData("client_credentials", false, TokenAdmin.Tokens.TokenStatusKind.NotRequested, "Renew", "Request token")]
    [InlineData("client_credentials", false, TokenAdmin.Tokens.TokenStatusKind.Valid, "Renew", "Refresh")]
    [InlineData("password", true, TokenAdmin.Tokens.TokenStatusKind.RefreshTokenRevoked, "Renew", "Request token")]
    [InlineData("client_credentials", false, TokenAdmin.Tokens.TokenStatusKind.Disabled, null, null)]
    [InlineData("authorization_code", true, TokenAdmin.Tokens.TokenStatusKind.Disabled, null, null)]
    public void AccountList_OffersOnlyTheActionTheStateAllows(string grant, bool hasRefreshToken, TokenAdmin.Tokens.TokenStatusKind kind, string? handler, string? text)
    {
        var account = new FunctionalAccount { GrantType = grant, State = hasRefreshToken ? new TokenAdmin.Tokens.TokenState { RefreshTokenProtected = "x" } : null };

        var action = TokenAdmin.Pages.FunctionalAccounts.FunctionalAccountsIndexModel.ActionFor(account, kind);

        Assert.Equal(handler, action?.Handler);
        Assert.Equal(text, action?.Text);
    }

    [Fact]
    public async Task AccountList_ShowsTheStateAsABadge_AndRequestNotRefresh_ForAnAccountWithoutToken()
    {
        var profile = await CreateProfileAsync();
        var form = new Dictionary<string, string>
        {
            ["Input.Name"] = "listed-robot", ["Input.OidcProfileId"] = profile.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Input.GrantType"] = "client_credentials", ["Input.Scope"] = "api", ["Input.ResourceParameterName"] = "resource", ["Input.ResourcePerParameter"] = "true",
            ["Input.TokenType"] = "access_token", ["Input.Valid"] = "true", ["Input.ClientAuthentication"] = "automatic",
        };
        var saved = await Browser.PostFormAsync("/functionalaccounts/edit", form, "/functionalaccounts/edit");
        Assert.Equal(System.Net.HttpStatusCode.Redirect, saved.StatusCode);

        var html = await Browser.GetStringAsync("/functionalaccounts");

        Assert.Contains("<span class=\"badge badge-muted\">Not requested yet</span>", html, StringComparison.Ordinal);
        Assert.Contains(">Request token <span class=\"visually-hidden\">for listed-robot</span></button>", html, StringComparison.Ordinal);
        Assert.DoesNotContain(">Refresh <span", html, StringComparison.Ordinal);
        Assert.Contains("Client credentials", html, StringComparison.Ordinal);
        Assert.DoesNotContain(">client_credentials<", html, StringComparison.Ordinal);
    }
}
