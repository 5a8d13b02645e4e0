using System.Net;
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
    [InlineData("Input.ClientId", "has space", "Client ID is required, without spaces.")]
    [InlineData("Input.AuthorizationParameters", "prompt", "'prompt' is not key=value")]
    [InlineData("Input.AuthorizationParameters", "redirect_uri=https://evil.example/", "Parameter 'redirect_uri' is set by TokenAdmin itself")]
    [InlineData("Input.ExpiringSoonDays", "soon", "'soon' is not a whole number.")]
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

        var response = await browser.PostFormAsync($"/tokens/delete/{id}", []);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("&#x27;support-mailbox&#x27; is still used by mail account support@example.com", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
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
