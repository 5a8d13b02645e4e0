using System.Net;
using System.Text.RegularExpressions;
using System.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Tokens;

public sealed class TokenConfigPageTests : TokenTestBase
{
    private static Dictionary<string, string> GoogleForm(string name = "support-gmail") => new()
    {
        ["Input.Name"] = name, ["Input.Valid"] = "true", ["Input.Flow"] = TokenFlows.AuthorizationCode,
        ["Input.ClientId"] = "1234.apps.googleusercontent.com", ["Input.ClientSecret"] = "google-client-secret",
        ["Input.ClientAuthentication"] = ClientAuthentications.Post, ["Input.Scope"] = "https://mail.google.com/",
        ["Input.AuthorizationEndpoint"] = "https://accounts.google.com/o/oauth2/v2/auth", ["Input.TokenEndpoint"] = "https://oauth2.googleapis.com/token",
        ["Input.Issuer"] = "https://accounts.google.com", ["Input.AuthorizationParameters"] = "access_type=offline\nprompt=consent",
        ["Input.ExpiringSoonDays"] = "7", ["Input.NotifyTokenExpired"] = "true", ["Input.NotifyRefreshTokenExpired"] = "true",
    };

    [Fact]
    public async Task AddPage_ListsEveryTemplate()
    {
        var html = await Browser.GetStringAsync("/tokens/add");

        foreach (var template in TokenTemplates.All)
        {
            Assert.Contains($"href=\"/tokens/add?template={template.Id}\"", html, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Add_FromGoogleTemplate_SavesConfig_WithEncryptedSecret()
    {
        var form = await Browser.GetStringAsync("/tokens/add?template=GoogleMail");
        Assert.Contains("value=\"https://oauth2.googleapis.com/token\"", form, StringComparison.Ordinal);

        var response = await Browser.PostFormAsync("/tokens/add?template=GoogleMail", GoogleForm());

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var details = await Browser.GetStringAsync(response.Headers.Location!.OriginalString);
        Assert.Contains("Google Mail", details, StringComparison.Ordinal);
        Assert.Contains("stored (encrypted)", details, StringComparison.Ordinal);
        Assert.DoesNotContain("google-client-secret", details, StringComparison.Ordinal);
        var config = await App.WithDbAsync(db => db.TokenConfigs.SingleAsync());
        Assert.DoesNotContain("google-client-secret", config.Yaml, StringComparison.Ordinal);
        Assert.Contains("access_type: offline", config.Yaml, StringComparison.Ordinal);
        Assert.Equal("GoogleMail", config.Template);
    }

    [Theory]
    [InlineData("Input.TokenEndpoint", "not a url", "Token endpoint must be an absolute https URL")]
    [InlineData("Input.TokenEndpoint", "http://oauth2.googleapis.com/token", "Token endpoint must use https")]
    [InlineData("Input.Name", "", "Name is required")]
    [InlineData("Input.ClientId", "has space", "Client ID must be without spaces, at most 200 characters.")]
    [InlineData("Input.AuthorizationParameters", "prompt", "Extra authorization parameters: 'prompt' is not key=value")]
    [InlineData("Input.AuthorizationParameters", "redirect_uri=https://evil.example/", "Extra authorization parameters: parameter 'redirect_uri' is set by TokenAdmin itself")]
    [InlineData("Input.ExpiringSoonDays", "soon", "Expiring-soon warning (days): 'soon' is not a valid value.")]
    [InlineData("Input.Flow", "Implicit", "Flow must be one of")]
    [InlineData("Input.LeadTimeSeconds", "7200", "Lead time must be 0 to 3600 seconds")]
    public async Task Add_WithBadField_ShowsMessage_AndSavesNothing(string field, string value, string message)
    {
        var form = GoogleForm();
        form[field] = value;

        var response = await Browser.PostFormAsync("/tokens/add?template=GoogleMail", form);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Contains("Nothing was saved.", html, StringComparison.Ordinal);
        Assert.Contains(message, html, StringComparison.Ordinal);
        Assert.DoesNotContain("google-client-secret", html, StringComparison.Ordinal);
        Assert.Equal(0, await App.WithDbAsync(db => db.TokenConfigs.CountAsync()));
    }

    [Fact]
    public async Task Add_Empty_AndWithEveryFieldWrong_ShowsEveryErrorAtOnce_KeepingTheInputAsTyped()
    {
        var empty = WebUtility.HtmlDecode(await (await Browser.PostFormAsync("/tokens/add?template=Custom", new() { ["Input.Flow"] = TokenFlows.AuthorizationCode }, "/tokens/add?template=Custom")).Content.ReadAsStringAsync());
        Assert.Contains("Nothing was saved.", empty, StringComparison.Ordinal);
        Assert.Contains("<a href=\"#Input_Name\">Name is required.</a>", empty, StringComparison.Ordinal);
        Assert.Contains("<a href=\"#Input_ClientId\">Client ID is required.</a>", empty, StringComparison.Ordinal);
        Assert.Contains("<a href=\"#Input_TokenEndpoint\">Token endpoint is required.</a>", empty, StringComparison.Ordinal);
        Assert.Contains("<a href=\"#Input_AuthorizationEndpoint\">Authorization endpoint is required.</a>", empty, StringComparison.Ordinal);

        var wrong = new Dictionary<string, string>
        {
            ["Input.Name"] = new string('n', 101), ["Input.Flow"] = TokenFlows.Password, ["Input.ClientId"] = "has space", ["Input.ClientAuthentication"] = ClientAuthentications.Post,
            ["Input.Scope"] = "a\"b", ["Input.Tenant"] = "not a tenant!", ["Input.AuthorizationEndpoint"] = "ftp://x", ["Input.TokenEndpoint"] = "http://provider.example/token",
            ["Input.AuthorizationParameters"] = "prompt", ["Input.RefreshTokenLifetimeDays"] = "lots", ["Input.ExpiringSoonDays"] = "abc", ["Input.LeadTimeSeconds"] = "7200",
            ["Input.ClientSecretExpires"] = "someday", ["Input.Username"] = "", ["Input.Password"] = "typed-password",
        };

        var response = await Browser.PostFormAsync("/tokens/add?template=Custom", wrong, "/tokens/add?template=Custom");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        foreach (var (field, message) in new[]
        {
            ("Name", "Name must be 1 to 100 characters"), ("ClientId", "Client ID must be without spaces"), ("Scope", "Scope must be space-separated"),
            ("Tenant", "Tenant must be a directory (tenant) ID or a domain name."), ("AuthorizationEndpoint", "Authorization endpoint must be an absolute https URL"),
            ("TokenEndpoint", "Token endpoint must use https"), ("AuthorizationParameters", "Extra authorization parameters: 'prompt' is not key=value"),
            ("RefreshTokenLifetimeDays", "Refresh token lifetime (days): 'lots' is not a valid value."), ("ExpiringSoonDays", "Expiring-soon warning (days): 'abc' is not a valid value."),
            ("LeadTimeSeconds", "Lead time must be 0 to 3600 seconds"), ("ClientSecretExpires", "Client secret expires on: 'someday' is not a valid value."),
            ("Username", "User name is required for the password flow."),
        })
        {
            Assert.Contains($"<a href=\"#Input_{field}\">{message}", html, StringComparison.Ordinal);
            Assert.Matches($"<span class=\"field-error[^\"]*\"[^>]*id=\"Input_{field}-error\"[^>]*>{Regex.Escape(message)}", html);
        }

        // "is required" only where nothing was given.
        Assert.Equal(["User name is required for the password flow."], Regex.Matches(html, ">([^<>]*is required[^<>]*)<").Select(m => m.Groups[1].Value.Trim()).Distinct());
        // Rejected input stays as typed; the password is never sent back.
        Assert.Contains("value=\"lots\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"abc\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"has space\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"someday\"", html, StringComparison.Ordinal);
        Assert.Matches(">\\s*prompt</textarea>", html);
        Assert.DoesNotContain("typed-password", html, StringComparison.Ordinal);
        Assert.Equal(0, await App.WithDbAsync(db => db.TokenConfigs.CountAsync()));
    }

    [Fact]
    public async Task AddForm_ShowsTheFieldsOfItsTemplateAndFlow_WithPlaceholdersNotValues()
    {
        var google = await Browser.GetStringAsync("/tokens/add?template=GoogleMail");
        Assert.Matches("(?i)formaction=\"/tokens/add\\?(template=GoogleMail&amp;handler=Choose|handler=Choose&amp;template=GoogleMail)\"", google);
        Assert.DoesNotContain("id=\"Input_Tenant\"", google, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"Input_DiscoveryUrl\"", google, StringComparison.Ordinal);
        Assert.Matches("<div class=\"field\" data-show-for=\"flow\" data-when=\"Password\" hidden=\"hidden\">\\s*<label[^>]*for=\"Input_Username\"", google);
        Assert.Matches("<option (selected=\"selected\" )?value=\"AuthorizationCode\"( selected=\"selected\")?>Authorization code \\(a person signs in at the provider\\)</option>", google);

        var microsoft = await Browser.GetStringAsync("/tokens/add?template=MicrosoftExchangeOnline");
        Assert.Contains("id=\"Input_Tenant\"", microsoft, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"Input_DiscoveryUrl\"", microsoft, StringComparison.Ordinal);

        var oidc = await Browser.GetStringAsync("/tokens/add?template=Oidc");
        Assert.Matches("<input type=\"url\" placeholder=\"https://keycloak.example.com/[^\"]*\"[^>]*id=\"Input_DiscoveryUrl\"[^>]*value=\"\"", oidc);
        Assert.DoesNotContain("id=\"Input_Tenant\"", oidc, StringComparison.Ordinal);

        // Without JavaScript: "Show the fields" renders the chosen flow's fields, keeps what was typed and saves nothing.
        var form = GoogleForm();
        form["Input.Flow"] = TokenFlows.Password;
        form["Input.Name"] = "kept name";
        var chosen = await (await Browser.PostFormAsync("/tokens/add?template=GoogleMail&handler=Choose", form, "/tokens/add?template=GoogleMail")).Content.ReadAsStringAsync();
        Assert.Matches("<div class=\"field\" data-show-for=\"flow\" data-when=\"Password\">\\s*<label[^>]*for=\"Input_Username\"", chosen);
        Assert.Contains("value=\"kept name\"", chosen, StringComparison.Ordinal);
        Assert.DoesNotContain("Nothing was saved", chosen, StringComparison.Ordinal);
        Assert.DoesNotContain("google-client-secret", chosen, StringComparison.Ordinal);
        Assert.Equal(0, await App.WithDbAsync(db => db.TokenConfigs.CountAsync()));
    }

    [Fact]
    public async Task Add_WithExistingName_IsRefused_IgnoringCase()
    {
        await Browser.PostFormAsync("/tokens/add?template=GoogleMail", GoogleForm("Support"));

        var response = await Browser.PostFormAsync("/tokens/add?template=GoogleMail", GoogleForm("support"));

        Assert.Contains("A token config named &#x27;support&#x27; already exists.", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, await App.WithDbAsync(db => db.TokenConfigs.CountAsync()));
    }

    [Fact]
    public async Task Edit_EmptySecretKeepsStoredOne_AndUncheckedValidIsSaved()
    {
        var id = await CreateConfigAsync();
        var form = await Browser.GetStringAsync($"/tokens/edit/{id}");
        Assert.Contains($"formaction=\"/tokens/edit/{id}?handler=Choose\"", form, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("stored - leave empty to keep", form, StringComparison.Ordinal);
        Assert.DoesNotContain(ClientSecret, form, StringComparison.Ordinal);
        var fields = new Dictionary<string, string>
        {
            ["Version"] = System.Text.RegularExpressions.Regex.Match(form, "name=\"Version\" value=\"([^\"]+)\"").Groups[1].Value,
            ["Input.Name"] = "mailbox-renamed", ["Input.Valid"] = "false", ["Input.Flow"] = TokenFlows.AuthorizationCode,
            ["Input.ClientId"] = "tokenadmin", ["Input.ClientSecret"] = "", ["Input.ClientAuthentication"] = ClientAuthentications.Basic,
            ["Input.Scope"] = "openid", ["Input.AuthorizationEndpoint"] = Idp.AuthorizationEndpoint, ["Input.TokenEndpoint"] = Idp.TokenEndpoint,
            ["Input.ExpiringSoonDays"] = "3",
        };

        var response = await Browser.PostFormAsync($"/tokens/edit/{id}", fields);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        using var scope = App.Services.CreateScope();
        var service = scope.ServiceProvider.GetRequiredService<TokenConfigService>();
        var (config, document) = (await service.LoadAsync(id, default))!.Value;
        Assert.Equal("mailbox-renamed", config.Name);
        Assert.False(config.Valid);
        Assert.Equal(ClientAuthentications.Basic, document.ClientAuthentication);
        Assert.Equal(ClientSecret, service.ClientSecret(config));
    }

    [Fact]
    public async Task Edit_WithStaleVersion_ReportsConflict_InsteadOfLosingAnUpdate()
    {
        var id = await CreateConfigAsync();
        using var scope = App.Services.CreateScope();
        var service = scope.ServiceProvider.GetRequiredService<TokenConfigService>();
        var (config, document) = (await service.LoadAsync(id, default))!.Value;
        var staleVersion = config.Version;
        document.Scope = "openid";
        Assert.True((await service.UpdateAsync(id, staleVersion, document, new TokenConfigSecrets(), "admin:bob", default)).Succeeded);

        document.Scope = "mail";
        var second = await service.UpdateAsync(id, staleVersion, document, new TokenConfigSecrets(), "admin:alice", default);

        Assert.False(second.Succeeded);
        Assert.Contains("admin:bob changed this token config", second.Errors[""], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_CannotChangeTheTemplate()
    {
        var id = await CreateConfigAsync();
        using var scope = App.Services.CreateScope();
        var service = scope.ServiceProvider.GetRequiredService<TokenConfigService>();
        var (config, document) = (await service.LoadAsync(id, default))!.Value;
        document.Template = TokenTemplates.GoogleMail;

        var result = await service.UpdateAsync(id, config.Version, document, new TokenConfigSecrets(), "test", default);

        Assert.Contains("The template is fixed once saved", result.Errors["template"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delete_RemovesConfigAndItsTokens()
    {
        var id = await CreateConfigAsync();
        await AuthorizeAsync(id);

        var response = await Browser.PostFormAsync($"/tokens/delete/{id}", []);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(0, await App.WithDbAsync(db => db.TokenConfigs.CountAsync()));
        Assert.Equal(0, await App.WithDbAsync(db => db.TokenStates.CountAsync()));
    }

    [Fact]
    public async Task Delete_WhileSomethingUsesTheConfig_IsRefusedWithWhatUsesIt()
    {
        var id = await CreateConfigAsync("support-mailbox");
        await using var app = App.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<ITokenSourceUsage>(new FixedUsage("mail account support@example.com"))));
        var browser = app.CreateClient(new() { AllowAutoRedirect = false });
        await browser.PostFormAsync("/account/login", new() { ["Input.UserName"] = "alice", ["Input.Password"] = TokenAdminFactory.AdminPassword });

        // Shown before the click: what uses it, and Delete disabled.
        var page = await browser.GetStringAsync($"/tokens/delete/{id}");
        Assert.Contains("It cannot be deleted while it is still used by:", page, StringComparison.Ordinal);
        Assert.Contains("<li>mail account support@example.com</li>", page, StringComparison.Ordinal);
        Assert.Contains("<button type=\"submit\" class=\"btn\" disabled=\"disabled\">Delete</button>", page, StringComparison.Ordinal);

        var response = await browser.PostFormAsync($"/tokens/delete/{id}", []);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("<li>mail account support@example.com</li>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, await App.WithDbAsync(db => db.TokenConfigs.CountAsync()));
    }

    /// <summary>Stands in for the mail and web-service capabilities, which report their uses the same way.</summary>
    private sealed class FixedUsage(string use) : ITokenSourceUsage
    {
        public Task<IReadOnlyList<string>> FindUsesAsync(TokenSource source, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<string>>([use]);
    }

    [Fact]
    public async Task Overview_SearchAndPaging()
    {
        for (var i = 1; i <= 60; i++)
        {
            await CreateConfigAsync($"mailbox-{i:00}");
        }

        var first = await Browser.GetStringAsync("/tokens");
        var second = await Browser.GetStringAsync("/tokens?p=2");
        var search = await Browser.GetStringAsync("/tokens?q=BOX-5");

        Assert.Contains("60 token configs", first, StringComparison.Ordinal);
        Assert.Contains(">mailbox-50<", first, StringComparison.Ordinal);
        Assert.DoesNotContain(">mailbox-51<", first, StringComparison.Ordinal);
        Assert.Contains(">mailbox-60<", second, StringComparison.Ordinal);
        Assert.Contains("10 token configs match", search, StringComparison.Ordinal);
        Assert.Contains("Not requested yet", first, StringComparison.Ordinal);
    }
}

/// <summary>Each template, filled in as an admin would, produces the authorization URL its provider expects.</summary>
public sealed class TemplateAuthorizationUrlTests : TokenTestBase
{
    private async Task<Uri> AuthorizationUrlAsync(string template, Action<TokenConfigDocument> fill)
    {
        var document = TokenTemplates.Find(template)!.NewDocument();
        document.Name = template;
        document.ClientId = "client-123";
        fill(document);
        using var scope = App.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<TokenConfigService>().CreateAsync(document, new TokenConfigSecrets("secret"), "test", default);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Values));
        return await StartAuthorizationAsync(result.Config!.Id);
    }

    [Fact]
    public async Task GoogleMail_AsksForOfflineAccessAndConsent()
    {
        var url = await AuthorizationUrlAsync(TokenTemplates.GoogleMail, _ => { });
        var q = HttpUtility.ParseQueryString(url.Query);

        Assert.Equal("https://accounts.google.com/o/oauth2/v2/auth", url.GetLeftPart(UriPartial.Path));
        Assert.Equal("offline", q["access_type"]);
        Assert.Equal("consent", q["prompt"]);
        Assert.Equal("https://mail.google.com/", q["scope"]);
        Assert.Equal("client-123", q["client_id"]);
        Assert.Equal("S256", q["code_challenge_method"]);
        Assert.Null(q["nonce"]); // no openid scope, no ID token
    }

    [Fact]
    public async Task MicrosoftExchangeOnline_UsesTheTenant_NotCommon()
    {
        var url = await AuthorizationUrlAsync(TokenTemplates.MicrosoftExchangeOnline, d => d.Tenant = "contoso.onmicrosoft.com");
        var q = HttpUtility.ParseQueryString(url.Query);

        Assert.Equal("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize", url.GetLeftPart(UriPartial.Path));
        Assert.Equal("https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/POP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access", q["scope"]);
        Assert.Equal("query", q["response_mode"]);
        Assert.Equal("http://localhost:5080/oauth2/callback", q["redirect_uri"]);
    }

    [Fact]
    public async Task Oidc_ReadsEndpointsFromDiscovery()
    {
        var url = await AuthorizationUrlAsync(TokenTemplates.Oidc, d => d.DiscoveryUrl = Idp.MetadataAddress);
        var q = HttpUtility.ParseQueryString(url.Query);

        Assert.Equal(Idp.AuthorizationEndpoint, url.GetLeftPart(UriPartial.Path));
        Assert.Equal("openid offline_access", q["scope"]);
        Assert.False(string.IsNullOrEmpty(q["nonce"]));
    }

    [Fact]
    public async Task Custom_UsesTheGivenEndpointAndParameters()
    {
        var url = await AuthorizationUrlAsync(TokenTemplates.Custom, d =>
        {
            d.Endpoints.Authorization = "https://idp.example.com/authorize?tenant=a";
            d.Endpoints.Token = "https://idp.example.com/token";
            d.Scope = "read write";
            d.Parameters.Authorization["resource"] = "https://api.example.com";
        });
        var q = HttpUtility.ParseQueryString(url.Query);

        Assert.Equal("https://idp.example.com/authorize", url.GetLeftPart(UriPartial.Path));
        Assert.Equal("a", q["tenant"]);
        Assert.Equal("https://api.example.com", q["resource"]);
        Assert.Equal("read write", q["scope"]);
    }

    [Fact]
    public async Task MicrosoftClientCredentials_RequiresARealTenant()
    {
        var document = TokenTemplates.Find(TokenTemplates.Microsoft365ClientCredentials)!.NewDocument();
        document.Name = "graph";
        document.ClientId = "client-123";
        document.Tenant = "common";
        using var scope = App.Services.CreateScope();

        var result = await scope.ServiceProvider.GetRequiredService<TokenConfigService>().CreateAsync(document, new TokenConfigSecrets("secret"), "test", default);

        Assert.Contains("Client credentials need your own tenant ID or domain", result.Errors["tenant"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExchangeOnlineAppOnlyTemplate_ClientCredentialsForOutlook_TakesACertificateOrASecret()
    {
        var form = await Browser.GetStringAsync("/tokens/add?template=MicrosoftExchangeOnlineAppOnly");
        Assert.Contains("value=\"https://outlook.office365.com/.default\"", form, StringComparison.Ordinal);
        Assert.Contains("value=\"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token\"", form, StringComparison.Ordinal);
        var template = TokenTemplates.Find(TokenTemplates.MicrosoftExchangeOnlineAppOnly)!;
        Assert.Equal((TokenFlows.ClientCredentials, ClientAuthentications.Automatic), (template.Config.Flow, template.Config.ClientAuthentication));

        TokenConfigDocument Document(string name)
        {
            var document = template.NewDocument();
            document.Name = name;
            document.ClientId = "client-123";
            document.Tenant = "contoso.example";
            return document;
        }

        using var scope = App.Services.CreateScope();
        var service = scope.ServiceProvider.GetRequiredService<TokenConfigService>();
        var neither = await service.CreateAsync(Document("nothing"), new TokenConfigSecrets(), "test", default);
        var withSecret = await service.CreateAsync(Document("with-secret"), new TokenConfigSecrets("secret"), "test", default);
        var withCertificate = await service.CreateAsync(Document("with-certificate"),
            new TokenConfigSecrets { Certificate = new ClientCertificateUpload(ClientCertificateFiles.Pem(ClientCertificateFiles.Rsa("CN=exchange-app")), null) }, "test", default);

        Assert.Contains("or a client certificate with private_key_jwt", neither.Errors["clientSecret"], StringComparison.Ordinal);
        Assert.True(withSecret.Succeeded, string.Join("; ", withSecret.Errors.Values));
        Assert.True(withCertificate.Succeeded, string.Join("; ", withCertificate.Errors.Values));
        Assert.Equal(TokenTemplates.MicrosoftExchangeOnlineAppOnly, withCertificate.Config!.Template);
    }

    [Fact]
    public async Task Oidc_WithUnreachableDiscovery_SaysWhy()
    {
        var document = TokenTemplates.Find(TokenTemplates.Oidc)!.NewDocument();
        document.Name = "keycloak";
        document.ClientId = "client-123";
        document.DiscoveryUrl = "http://127.0.0.1:9/.well-known/openid-configuration";
        using var scope = App.Services.CreateScope();

        var result = await scope.ServiceProvider.GetRequiredService<TokenConfigService>().CreateAsync(document, new TokenConfigSecrets("secret"), "test", default);

        Assert.Contains("refused the connection", result.Errors["discoveryUrl"], StringComparison.Ordinal);
    }
}
