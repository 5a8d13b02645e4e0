using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;
using TokenAdmin.FunctionalAccounts;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tests.Oidc;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Tokens;

/// <summary>
/// The JWT bearer grant (RFC 7523 section 2.1) of both kinds of source against the test identity provider, which checks
/// the assertion for real (signature with the registered public key, iss, aud, exp): a Google-style service-account key
/// file, the token handed out by the token provider, the grant run again when the token is due, key files that must be
/// refused, and the key carried by a YAML export with secrets.
/// </summary>
public sealed class JwtBearerGrantTests : AccountTestBase
{
    private const string SaClient = "sa-client";
    private const string Email = "mail-robot@project.iam.gserviceaccount.com";
    private const string Mailbox = "support@example.test";
    private static readonly RSA Key = RSA.Create(2048);
    private static readonly RSA OtherKey = RSA.Create(2048);

    public override async Task InitializeAsync()
    {
        App.Settings["TokenAdmin:TokenStoreUpdater:Enabled"] = "false";
        await base.InitializeAsync();
        await Idp.AddClientAsync(new TestClient(SaClient, null, []) { AllowedGrantTypes = [TestIdentityProviderServer.JwtBearerGrantType] });
        Idp.AddJwtBearerKey(Email, "key-1", new RsaSecurityKey(Key.ExportParameters(false)));
    }

    /// <summary>A service account's JSON key file as Google writes it.</summary>
    private static byte[] KeyFile(RSA key, string keyId = "key-1", string? tokenUri = null, string type = "service_account", string? privateKey = null) =>
        JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string?>
        {
            ["type"] = type,
            ["project_id"] = "project",
            ["private_key_id"] = keyId,
            ["private_key"] = privateKey ?? key.ExportPkcs8PrivateKeyPem() + "\n",
            ["client_email"] = Email,
            ["client_id"] = "104242424242424242424",
            ["auth_uri"] = "https://accounts.google.com/o/oauth2/auth",
            ["token_uri"] = tokenUri,
        });

    private async Task<int> ConfigAsync(byte[] keyFile, string? clientId = SaClient, string? tokenEndpoint = null, string name = "google-robot")
    {
        var document = TokenTemplates.Find(TokenTemplates.GoogleServiceAccount)!.NewDocument();
        document.Name = name;
        document.ClientId = clientId ?? "";
        document.AssertionSubject = Mailbox;
        document.Scope = "mail";
        document.Endpoints.Token = tokenEndpoint ?? Idp.TokenEndpoint;
        using var scope = App.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<TokenConfigService>().CreateAsync(
            document, new TokenConfigSecrets { ServiceAccountKeyFile = keyFile }, "test", default);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => $"{e.Key}: {e.Value}")));
        return result.Config!.Id;
    }

    private async Task<TokenSource> SourceAsync(TokenSourceKind kind, byte[] keyFile)
    {
        if (kind == TokenSourceKind.TokenConfig)
        {
            return TokenSource.Config(await ConfigAsync(keyFile));
        }

        var profile = await CreateProfileAsync(change: p => { p.ClientId = SaClient; p.ClientSecret = null; });
        var account = await CreateAccountAsync(profile.Id, change: a =>
        {
            a.GrantType = AccountGrantTypes.JwtBearer;
            a.Scope = "mail";
            a.AssertionSubject = Mailbox;
            a.ServiceAccountKeyFile = FormFile(keyFile);
        });
        return TokenSource.Account(account.Id);
    }

    private static FormFile FormFile(byte[] content) => new(new MemoryStream(content), 0, content.Length, "Input.ServiceAccountKeyFile", "key.json");

    private async Task<TokenOperationResult> RequestAsync(TokenSource source)
    {
        using var scope = App.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<TokenEngine>().RenewAsync(source, "test", default);
    }

    private Task<TokenState?> SourceStateAsync(TokenSource source) => App.WithDbAsync(db => db.TokenStates.AsNoTracking()
        .SingleOrDefaultAsync(s => source.Kind == TokenSourceKind.TokenConfig ? s.TokenConfigId == source.Id : s.FunctionalAccountId == source.Id));

    private static JsonElement Part(string jwt, int index) => JsonDocument.Parse(WebEncoders.Base64UrlDecode(jwt.Split('.')[index])).RootElement;

    [Theory]
    [InlineData(TokenSourceKind.TokenConfig)]
    [InlineData(TokenSourceKind.FunctionalAccount)]
    public async Task JwtBearer_WithServiceAccountKey_GetsTokenForTheMailbox_HandedOutByTheTokenProvider(TokenSourceKind kind)
    {
        var source = await SourceAsync(kind, KeyFile(Key, tokenUri: Idp.TokenEndpoint));

        var result = await RequestAsync(source);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal([JwtBearerGrant.GrantType], LastRequestValues("grant_type"));
        Assert.Empty(LastRequestValues("client_secret"));
        var assertion = LastRequestValues("assertion").Single();
        var (header, payload) = (Part(assertion, 0), Part(assertion, 1));
        Assert.Equal("RS256", header.GetProperty("alg").GetString());
        Assert.Equal("key-1", header.GetProperty("kid").GetString());
        Assert.Equal(Email, payload.GetProperty("iss").GetString());
        Assert.Equal(Mailbox, payload.GetProperty("sub").GetString());
        Assert.Equal(Idp.TokenEndpoint, payload.GetProperty("aud").GetString());
        Assert.Equal("mail", payload.GetProperty("scope").GetString());
        Assert.InRange(payload.GetProperty("exp").GetInt64() - payload.GetProperty("iat").GetInt64(), 60, 3600);

        var state = await SourceStateAsync(source);
        Assert.Null(state!.RefreshTokenProtected);
        var bearer = await App.Services.GetRequiredService<ITokenProvider>().GetTokenAsync(source, default);
        Assert.Equal(Unprotect(state.AccessTokenProtected!), bearer.Value);
        Assert.Equal(Mailbox, Part(bearer.Value, 1).GetProperty("sub").GetString());
    }

    [Theory]
    [InlineData(TokenSourceKind.TokenConfig)]
    [InlineData(TokenSourceKind.FunctionalAccount)]
    public async Task JwtBearer_WhenTheTokenIsDue_RunsTheGrantAgain_WithANewAssertion(TokenSourceKind kind)
    {
        var source = await SourceAsync(kind, KeyFile(Key));
        Assert.True((await RequestAsync(source)).Succeeded);
        var first = LastRequestValues("assertion").Single();
        Idp.ResetCounters();

        var bearer = await App.Services.GetRequiredService<ITokenProvider>().ForceRefreshAsync(source, default);

        Assert.Equal(1, Idp.TokenRequestsByGrantType.GetValueOrDefault(JwtBearerGrant.GrantType));
        Assert.NotEqual(first, LastRequestValues("assertion").Single());
        Assert.Equal(Unprotect((await SourceStateAsync(source))!.AccessTokenProtected!), bearer.Value);
    }

    [Theory]
    [InlineData(TokenSourceKind.TokenConfig)]
    [InlineData(TokenSourceKind.FunctionalAccount)]
    public async Task JwtBearer_WithAKeyTheProviderDoesNotKnow_RecordsTheProvidersError(TokenSourceKind kind)
    {
        // The same key id and client_email, but not the key registered at the provider.
        var source = await SourceAsync(kind, KeyFile(OtherKey));

        var result = await RequestAsync(source);

        Assert.False(result.Succeeded);
        Assert.Equal("invalid_grant", result.Failure!.Code);
        Assert.Contains("signature", result.Message, StringComparison.Ordinal);
        var state = await SourceStateAsync(source);
        Assert.Equal("invalid_grant", state!.LastErrorCode);
        Assert.Null(state.AccessTokenProtected);
    }

    [Fact]
    public async Task GoogleTemplate_WithoutClientId_SendsOnlyTheAssertion_WithTheKeysTokenUriAsAudience()
    {
        await using var google = await ScriptedTokenEndpoint.StartAsync();
        google.Answer(200, """{"access_token":"ya29.google-token","token_type":"Bearer","expires_in":3599}""");
        var id = await ConfigAsync(KeyFile(Key, tokenUri: "https://oauth2.googleapis.com/token"), clientId: null, tokenEndpoint: google.Url);

        var result = await RequestAsync(TokenSource.Config(id));

        Assert.True(result.Succeeded, result.Message);
        Assert.True(google.Requests.TryDequeue(out var form));
        Assert.False(form.ContainsKey("client_id"));
        Assert.False(form.ContainsKey("client_secret"));
        Assert.Equal(JwtBearerGrant.GrantType, form["grant_type"]);
        Assert.Equal("https://oauth2.googleapis.com/token", Part(form["assertion"], 1).GetProperty("aud").GetString());
        Assert.Equal("ya29.google-token", (await App.Services.GetRequiredService<ITokenProvider>().GetTokenAsync(TokenSource.Config(id), default)).Value);
    }

    [Fact]
    public async Task JwtBearer_WithoutKeyFile_SignsTheAssertionWithTheClientCertificate()
    {
        var certificate = ClientCertificateFiles.Rsa("CN=jwt-bearer");
        await Idp.AddClientAsync(new TestClient("cert-sa", null, []) { AssertionCertificates = [certificate], AllowedGrantTypes = [TestIdentityProviderServer.JwtBearerGrantType] });
        Idp.AddJwtBearerKey("cert-sa", ClientCertificateFiles.KeyId(certificate), new RsaSecurityKey(certificate.GetRSAPublicKey()!.ExportParameters(false)));
        var document = TokenTemplates.Find(TokenTemplates.Custom)!.NewDocument();
        document.Name = "certificate-bearer";
        document.Flow = TokenFlows.JwtBearer;
        document.ClientId = "cert-sa";
        document.ClientAuthentication = ClientAuthentications.PrivateKeyJwt;
        document.ClientAssertionAudience = ClientAssertion.AudienceIssuer;
        document.Issuer = Idp.Issuer.ToString();
        document.Endpoints.Token = Idp.TokenEndpoint;
        document.Scope = "mail";
        document.AssertionSubject = Mailbox;
        using var scope = App.Services.CreateScope();
        var saved = await scope.ServiceProvider.GetRequiredService<TokenConfigService>().CreateAsync(
            document, new TokenConfigSecrets { Certificate = new ClientCertificateUpload(ClientCertificateFiles.Pem(certificate), null) }, "test", default);
        Assert.True(saved.Succeeded, string.Join("; ", saved.Errors.Select(e => $"{e.Key}: {e.Value}")));

        var result = await RequestAsync(TokenSource.Config(saved.Config!.Id));

        Assert.True(result.Succeeded, result.Message);
        var assertion = LastRequestValues("assertion").Single();
        Assert.Equal(ClientCertificateFiles.KeyId(certificate), Part(assertion, 0).GetProperty("kid").GetString());
        Assert.Equal("cert-sa", Part(assertion, 1).GetProperty("iss").GetString());
        Assert.Equal(Mailbox, Part(assertion, 1).GetProperty("sub").GetString());
        Assert.Equal(Idp.TokenEndpoint, Part(assertion, 1).GetProperty("aud").GetString());
        Assert.Single(LastRequestValues("client_assertion"));
    }

    public static TheoryData<string, string> BadKeyFiles => new()
    {
        { "not-json", "is not JSON" },
        { "oauth-client", "its type is 'authorized_user'" },
        { "no-private-key", "lacks private_key" },
        { "broken-pem", "not a readable RSA private key" },
        { "too-large", "larger than 16 KiB" },
        { "array", "holds no JSON object" },
    };

    private static byte[] BadKeyFile(string kind) => kind switch
    {
        "not-json" => "-----BEGIN PRIVATE KEY-----\nabc\n"u8.ToArray(),
        "oauth-client" => KeyFile(Key, type: "authorized_user"),
        "no-private-key" => KeyFile(Key, privateKey: ""),
        "broken-pem" => KeyFile(Key, privateKey: "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"),
        "too-large" => Encoding.UTF8.GetBytes("{\"type\":\"service_account\",\"x\":\"" + new string('a', 20_000) + "\"}"),
        "array" => "[1,2]"u8.ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [MemberData(nameof(BadKeyFiles))]
    public async Task KeyFile_ThatIsNotAServiceAccountKey_IsRefusedWithAReason_AndNothingIsSaved(string kind, string expected)
    {
        var document = TokenTemplates.Find(TokenTemplates.GoogleServiceAccount)!.NewDocument();
        document.Name = "bad-key";
        document.Endpoints.Token = Idp.TokenEndpoint;
        using var scope = App.Services.CreateScope();

        var result = await scope.ServiceProvider.GetRequiredService<TokenConfigService>().CreateAsync(
            document, new TokenConfigSecrets { ServiceAccountKeyFile = BadKeyFile(kind) }, "test", default);

        Assert.False(result.Succeeded);
        Assert.Contains(expected, result.Errors["serviceAccountKey"], StringComparison.Ordinal);
        Assert.Equal(0, await App.WithDbAsync(db => db.TokenConfigs.CountAsync()));
    }

    [Fact]
    public async Task JwtBearer_WithoutAKey_IsRefusedOnSave_ForBothKinds()
    {
        var document = TokenTemplates.Find(TokenTemplates.GoogleServiceAccount)!.NewDocument();
        document.Name = "no-key";
        document.ClientId = SaClient;
        using var scope = App.Services.CreateScope();
        var config = await scope.ServiceProvider.GetRequiredService<TokenConfigService>().CreateAsync(document, new TokenConfigSecrets(), "test", default);
        Assert.Contains("needs the service account's JSON key file", config.Errors["serviceAccountKey"], StringComparison.Ordinal);

        var profile = await CreateProfileAsync(change: p => { p.ClientId = SaClient; p.ClientSecret = null; });
        var account = await scope.ServiceProvider.GetRequiredService<FunctionalAccountService>().CreateAsync(
            new FunctionalAccountInput { Name = "no-key", OidcProfileId = profile.Id, GrantType = AccountGrantTypes.JwtBearer, Scope = "mail" }, "test", default);
        Assert.Contains("needs the service account's JSON key file", account.Errors["ServiceAccountKey"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyFile_ToFunctionalAccount_ThatIsNotAKey_IsRefused_AndTheStoredKeyStays()
    {
        var source = await SourceAsync(TokenSourceKind.FunctionalAccount, KeyFile(Key));
        var account = await App.WithDbAsync(db => db.FunctionalAccounts.AsNoTracking().SingleAsync(a => a.Id == source.Id));
        var input = FunctionalAccountInput.From(account);
        input.ServiceAccountKeyFile = FormFile(BadKeyFile("oauth-client"));

        using var scope = App.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<FunctionalAccountService>().UpdateAsync(source.Id, input, "test", default);

        Assert.False(result.Succeeded);
        Assert.Contains("not a service account key", result.Errors["ServiceAccountKey"], StringComparison.Ordinal);
        var stored = await App.WithDbAsync(db => db.FunctionalAccounts.AsNoTracking().SingleAsync(a => a.Id == source.Id));
        Assert.Equal(account.ServiceAccountKey.Protected, stored.ServiceAccountKey.Protected);
        Assert.True((await RequestAsync(source)).Succeeded);
    }

    [Fact]
    public async Task Key_IsStoredEncrypted_AndTheEditPagesShowItsEmailAndKeyId_NeverTheKey()
    {
        var config = await SourceAsync(TokenSourceKind.TokenConfig, KeyFile(Key));
        var account = await SourceAsync(TokenSourceKind.FunctionalAccount, KeyFile(Key));

        Assert.DoesNotContain("PRIVATE KEY", await DatabaseFiles.RawTextAsync(App.DataDirectory), StringComparison.Ordinal);
        foreach (var page in new[] { $"/tokens/edit/{config.Id}", $"/functionalaccounts/edit/{account.Id}" })
        {
            var html = await Browser.GetStringAsync(page);
            Assert.Contains(Email, html, StringComparison.Ordinal);
            Assert.Contains("key-1", html, StringComparison.Ordinal);
            Assert.Contains(Mailbox, html, StringComparison.Ordinal);
            Assert.DoesNotContain("PRIVATE KEY", html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task FunctionalAccountPage_UploadsTheKeyFile_AndTheAccountGetsItsToken()
    {
        var profile = await CreateProfileAsync(change: p => { p.ClientId = SaClient; p.ClientSecret = null; });
        var page = await Browser.GetStringAsync("/functionalaccounts/edit");
        var form = new MultipartFormDataContent
        {
            { new StringContent(HttpClientForms.AntiforgeryToken(page)), "__RequestVerificationToken" },
            { new StringContent("page-robot"), "Input.Name" },
            { new StringContent(profile.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)), "Input.OidcProfileId" },
            { new StringContent(AccountGrantTypes.JwtBearer), "Input.GrantType" },
            { new StringContent("mail"), "Input.Scope" },
            { new StringContent(AccountTokenTypes.AccessToken), "Input.TokenType" },
            { new StringContent("resource"), "Input.ResourceParameterName" },
            { new StringContent(ClientAuthentications.Automatic), "Input.ClientAuthentication" },
            { new StringContent("true"), "Input.Valid" },
            { new StringContent(Mailbox), "Input.AssertionSubject" },
            { new ByteArrayContent(KeyFile(Key)), "Input.ServiceAccountKeyFile", "key.json" },
        };

        var response = await Browser.PostAsync("/functionalaccounts/edit", form);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var account = await App.WithDbAsync(db => db.FunctionalAccounts.AsNoTracking().SingleAsync(a => a.Name == "page-robot"));
        Assert.Equal(Email, account.ServiceAccountKey.ClientEmail);
        Assert.Equal(Mailbox, account.AssertionSubject);
        Assert.True((await RequestAsync(TokenSource.Account(account.Id))).Succeeded);
    }

    [Fact]
    public async Task Export_WithSecrets_CarriesTheKeyAndMailbox_AndImportRestoresIt_WithoutSecretsTheKeyStaysOut()
    {
        await ConfigAsync(KeyFile(Key));
        using var scope = App.Services.CreateScope();
        var transfer = scope.ServiceProvider.GetRequiredService<TokenConfigTransfer>();
        var without = await transfer.ExportAsync([], includeSecrets: false, "test", default);
        var with = await transfer.ExportAsync([], includeSecrets: true, "test", default);
        Assert.Contains($"assertionSubject: {Mailbox}", without.Yaml, StringComparison.Ordinal);
        Assert.Contains("flow: JwtBearer", without.Yaml, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", without.Yaml, StringComparison.Ordinal);
        Assert.Contains("serviceAccountKey: |", with.Yaml, StringComparison.Ordinal);
        Assert.Contains("BEGIN PRIVATE KEY", with.Yaml, StringComparison.Ordinal);

        await App.WithDbAsync(db => db.TokenConfigs.ExecuteDeleteAsync());
        var refused = await transfer.ImportAsync(new MemoryStream(Encoding.UTF8.GetBytes(without.Yaml)), overwrite: false, "test", "file.yaml", default);
        Assert.False(refused.Succeeded);
        Assert.Contains(refused.Errors, e => e.Message.Contains("needs the service account's JSON key file", StringComparison.Ordinal));

        var imported = await transfer.ImportAsync(new MemoryStream(Encoding.UTF8.GetBytes(with.Yaml)), overwrite: false, "test", "file.yaml", default);

        Assert.True(imported.Succeeded, string.Join("; ", imported.Errors));
        var config = await App.WithDbAsync(db => db.TokenConfigs.AsNoTracking().SingleAsync());
        Assert.Equal(Email, config.ServiceAccountKey.ClientEmail);
        Assert.Equal("key-1", config.ServiceAccountKey.PrivateKeyId);
        Assert.True((await RequestAsync(TokenSource.Config(config.Id))).Succeeded);
        Assert.Equal(Mailbox, Part(LastRequestValues("assertion").Single(), 1).GetProperty("sub").GetString());
    }
}
