using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.FunctionalAccounts;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tests.Oidc;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Tokens;

/// <summary>
/// Client authentication of both kinds of source against the test identity provider, which checks client assertions
/// for real (signature with the registered public key, iss/sub, aud, lifetime): private_key_jwt with RSA and EC keys,
/// the automatic choice from the provider's metadata, and uploads that must be refused.
/// </summary>
public sealed class ClientAuthenticationTests : AccountTestBase
{
    private const string CertClient = "cert-client";
    private static readonly X509Certificate2 Registered = ClientCertificateFiles.Rsa("CN=registered");
    private static readonly X509Certificate2 RegisteredEc = ClientCertificateFiles.Ec("CN=registered-ec");
    private static readonly X509Certificate2 Unregistered = ClientCertificateFiles.Rsa("CN=not-registered");

    public override async Task InitializeAsync()
    {
        App.Settings["TokenAdmin:TokenStoreUpdater:Enabled"] = "false";
        await base.InitializeAsync();
        await Idp.AddClientAsync(new TestClient(CertClient, null, []) { AssertionCertificates = [Registered, RegisteredEc] });
    }

    private async Task<int> CertificateConfigAsync(byte[] file, string method = ClientAuthentications.PrivateKeyJwt, string? algorithm = null, string? password = null)
    {
        var document = TokenTemplates.Find(TokenTemplates.Custom)!.NewDocument();
        document.Name = "certificate-config";
        document.Flow = TokenFlows.ClientCredentials;
        document.ClientId = CertClient;
        document.ClientAuthentication = method;
        document.ClientAssertionAlgorithm = algorithm;
        // OpenIddict 7 takes the issuer as the audience of client assertions.
        document.ClientAssertionAudience = ClientAssertion.AudienceIssuer;
        document.Scope = "api";
        document.Issuer = Idp.Issuer.ToString();
        document.Endpoints.Token = Idp.TokenEndpoint;
        using var scope = App.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<TokenConfigService>().CreateAsync(
            document, new TokenConfigSecrets { Certificate = new ClientCertificateUpload(file, password) }, "test", default);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => $"{e.Key}: {e.Value}")));
        return result.Config!.Id;
    }

    private async Task<TokenSource> SourceAsync(TokenSourceKind kind, byte[] file, string method, string? algorithm = null)
    {
        if (kind == TokenSourceKind.TokenConfig)
        {
            return TokenSource.Config(await CertificateConfigAsync(file, method, algorithm));
        }

        var profile = await CreateProfileAsync(change: p => { p.ClientId = CertClient; p.ClientSecret = null; });
        var account = await CreateAccountAsync(profile.Id, change: a =>
        {
            a.ClientAuthentication = method;
            a.ClientAssertionAlgorithm = algorithm;
            a.ClientAssertionAudience = ClientAssertion.AudienceIssuer;
            a.ClientCertificateFile = FormFile(file, "client.pem");
        });
        return TokenSource.Account(account.Id);
    }

    private static FormFile FormFile(byte[] content, string name) => new(new MemoryStream(content), 0, content.Length, "Input.ClientCertificateFile", name);

    private async Task<TokenOperationResult> RequestAsync(TokenSource source)
    {
        using var scope = App.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<TokenEngine>().RenewAsync(source, "test", default);
    }

    private static (JsonElement Header, JsonElement Payload) Decode(string jwt)
    {
        var parts = jwt.Split('.');
        return (JsonDocument.Parse(WebEncoders.Base64UrlDecode(parts[0])).RootElement, JsonDocument.Parse(WebEncoders.Base64UrlDecode(parts[1])).RootElement);
    }

    [Theory]
    [InlineData(TokenSourceKind.TokenConfig, null)]
    [InlineData(TokenSourceKind.TokenConfig, "PS256")]
    [InlineData(TokenSourceKind.FunctionalAccount, null)]
    [InlineData(TokenSourceKind.FunctionalAccount, "PS256")]
    public async Task PrivateKeyJwt_WithRsaCertificate_GetsTokenWithAssertionTheProviderChecked(TokenSourceKind kind, string? algorithm)
    {
        var source = await SourceAsync(kind, ClientCertificateFiles.Pem(Registered), ClientAuthentications.PrivateKeyJwt, algorithm);

        var result = await RequestAsync(source);

        Assert.True(result.Succeeded, result.Message);
        Assert.Empty(LastRequestValues("client_secret"));
        Assert.Equal(["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"], LastRequestValues("client_assertion_type"));
        var (header, payload) = Decode(LastRequestValues("client_assertion").Single());
        Assert.Equal(algorithm ?? "RS256", header.GetProperty("alg").GetString());
        Assert.Equal("client-authentication+jwt", header.GetProperty("typ").GetString());
        Assert.Equal(ClientCertificateFiles.KeyId(Registered), header.GetProperty("x5t#S256").GetString());
        Assert.Equal(ClientCertificateFiles.KeyId(Registered), header.GetProperty("kid").GetString());
        Assert.Equal(WebEncoders.Base64UrlEncode(Registered.GetCertHash()), header.GetProperty("x5t").GetString());
        Assert.Equal(CertClient, payload.GetProperty("iss").GetString());
        Assert.Equal(CertClient, payload.GetProperty("sub").GetString());
        Assert.Equal(Idp.Issuer.ToString(), payload.GetProperty("aud").GetString());
        var lifetime = payload.GetProperty("exp").GetInt64() - payload.GetProperty("iat").GetInt64();
        Assert.InRange(lifetime, 60, 6 * 60);
        Assert.True(payload.GetProperty("nbf").GetInt64() <= DateTimeOffset.UtcNow.ToUnixTimeSeconds());
    }

    [Fact]
    public async Task PrivateKeyJwt_ByDefault_NamesTheTokenEndpointAsAudience_WhichThisProviderRefuses()
    {
        var id = await CertificateConfigAsync(ClientCertificateFiles.Pem(Registered));
        await App.WithDbAsync(async db =>
        {
            var config = await db.TokenConfigs.SingleAsync(c => c.Id == id);
            config.Yaml = config.Yaml.Replace("clientAssertionAudience: issuer\n", "", StringComparison.Ordinal);
            return await db.SaveChangesAsync();
        });

        var result = await RequestAsync(TokenSource.Config(id));

        Assert.False(result.Succeeded);
        Assert.Equal(Idp.TokenEndpoint, Decode(LastRequestValues("client_assertion").Single()).Payload.GetProperty("aud").GetString());
        Assert.Contains("audience", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Banner_WarnsBeforeTheClientCertificateExpires_ForBothKinds()
    {
        var soon = ClientCertificateFiles.Rsa(notAfter: DateTimeOffset.UtcNow.AddDays(10).AddHours(-1));
        var config = await CertificateConfigAsync(ClientCertificateFiles.Pem(soon));
        var account = await SourceAsync(TokenSourceKind.FunctionalAccount, ClientCertificateFiles.Pem(soon), ClientAuthentications.PrivateKeyJwt);
        App.Services.GetRequiredService<TokenStateEvents>().Changed();

        var page = await Browser.GetStringAsync("/");

        Assert.Contains("The client certificate of token config certificate-config expires in 10 days", page, StringComparison.Ordinal);
        Assert.Contains($"href=\"/tokens/edit/{config}\"", page, StringComparison.Ordinal);
        Assert.Contains("The client certificate of functional account mailbox-robot expires in 10 days", page, StringComparison.Ordinal);
        Assert.Contains($"href=\"/functionalaccounts/edit/{account.Id}\"", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PrivateKeyJwt_EachRequest_HasItsOwnJti()
    {
        var source = TokenSource.Config(await CertificateConfigAsync(ClientCertificateFiles.Pem(Registered)));

        Assert.True((await RequestAsync(source)).Succeeded);
        var first = Decode(LastRequestValues("client_assertion").Single()).Payload.GetProperty("jti").GetString();
        Assert.True((await RequestAsync(source)).Succeeded);
        var second = Decode(LastRequestValues("client_assertion").Single()).Payload.GetProperty("jti").GetString();

        Assert.NotEqual(first, second);
    }

    [Theory]
    [InlineData(TokenSourceKind.TokenConfig)]
    [InlineData(TokenSourceKind.FunctionalAccount)]
    public async Task PrivateKeyJwt_WithEcCertificate_SignsWithEs256(TokenSourceKind kind)
    {
        var source = await SourceAsync(kind, ClientCertificateFiles.Pem(RegisteredEc), ClientAuthentications.PrivateKeyJwt);

        var result = await RequestAsync(source);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal("ES256", Decode(LastRequestValues("client_assertion").Single()).Header.GetProperty("alg").GetString());
    }

    [Theory]
    [InlineData(TokenSourceKind.TokenConfig)]
    [InlineData(TokenSourceKind.FunctionalAccount)]
    public async Task PrivateKeyJwt_WithCertificateTheProviderDoesNotKnow_IsRefusedAsInvalidClient(TokenSourceKind kind)
    {
        var source = await SourceAsync(kind, ClientCertificateFiles.Pem(Unregistered), ClientAuthentications.PrivateKeyJwt);

        var result = await RequestAsync(source);

        Assert.False(result.Succeeded);
        Assert.Equal("invalid_client", result.Failure!.Code);
    }

    [Fact]
    public async Task Automatic_WithCertificate_ChoosesPrivateKeyJwtFromTheProvidersMetadata()
    {
        var source = await SourceAsync(TokenSourceKind.FunctionalAccount, ClientCertificateFiles.Pem(Registered), ClientAuthentications.Automatic);

        var result = await RequestAsync(source);

        Assert.True(result.Succeeded, result.Message);
        Assert.Single(LastRequestValues("client_assertion"));
    }

    [Fact]
    public void Automatic_FollowsTheMethodsTheProviderLists()
    {
        Assert.Equal(ClientAuthentications.PrivateKeyJwt, ClientAuthentications.Resolve(ClientAuthentications.Automatic, ["client_secret_basic", "private_key_jwt"], hasCertificate: true));
        Assert.Equal(ClientAuthentications.TlsClientAuth, ClientAuthentications.Resolve(ClientAuthentications.Automatic, ["tls_client_auth", "client_secret_post"], hasCertificate: true));
        Assert.Equal(ClientAuthentications.Post, ClientAuthentications.Resolve(ClientAuthentications.Automatic, ["client_secret_post"], hasCertificate: false));
        Assert.Equal(ClientAuthentications.Basic, ClientAuthentications.Resolve(ClientAuthentications.Automatic, null, hasCertificate: false));
        Assert.Equal(ClientAuthentications.Post, ClientAuthentications.Resolve(ClientAuthentications.Post, ["private_key_jwt"], hasCertificate: true));
    }

    [Fact]
    public async Task ClientSecretBasic_And_Post_SendTheSecretTheirWay()
    {
        var basic = await CreateConfigAsync("basic", TokenFlows.ClientCredentials, d => d.ClientAuthentication = ClientAuthentications.Basic);
        Assert.True((await RequestAsync(TokenSource.Config(basic))).Succeeded);
        Assert.Empty(LastRequestValues("client_secret"));

        var post = await CreateConfigAsync("post", TokenFlows.ClientCredentials, d => d.ClientAuthentication = ClientAuthentications.Post);
        Assert.True((await RequestAsync(TokenSource.Config(post))).Succeeded);
        Assert.Equal([ClientSecret], LastRequestValues("client_secret"));
    }

    public static TheoryData<string, string> BadUploads => new()
    {
        { "wrong-key", "does not belong to the certificate" },
        { "expired", "expired on" },
        { "pfx-wrong-password", "The PFX password is wrong." },
        { "pfx-no-password", "protected by a password" },
        { "no-key", "not its private key" },
        { "not-a-certificate", "neither a PEM certificate with its key nor a PFX" },
        { "small-rsa", "2048 bits or more" },
    };

    private static (byte[] File, string? Password) Upload(string kind) => kind switch
    {
        "wrong-key" => (ClientCertificateFiles.PemWithKeyOf(Registered, Unregistered), null),
        "expired" => (ClientCertificateFiles.Pem(ClientCertificateFiles.Rsa(notBefore: DateTimeOffset.UtcNow.AddDays(-30), notAfter: DateTimeOffset.UtcNow.AddDays(-1))), null),
        "pfx-wrong-password" => (ClientCertificateFiles.Pfx(Registered), "not-the-password"),
        "pfx-no-password" => (ClientCertificateFiles.Pfx(Registered), null),
        "no-key" => (Encoding.ASCII.GetBytes(Registered.ExportCertificatePem()), null),
        "not-a-certificate" => ("just some text"u8.ToArray(), null),
        "small-rsa" => (ClientCertificateFiles.Pem(ClientCertificateFiles.Rsa(bits: 1024)), null),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [MemberData(nameof(BadUploads))]
    public async Task Upload_ThatCannotBeUsed_IsRefusedWithAReason_AndNothingIsSaved(string kind, string expected)
    {
        var (file, password) = Upload(kind);
        var document = TokenTemplates.Find(TokenTemplates.Custom)!.NewDocument();
        document.Name = "bad-certificate";
        document.Flow = TokenFlows.ClientCredentials;
        document.ClientId = CertClient;
        document.ClientAuthentication = ClientAuthentications.PrivateKeyJwt;
        document.Endpoints.Token = Idp.TokenEndpoint;

        using var scope = App.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<TokenConfigService>().CreateAsync(
            document, new TokenConfigSecrets { Certificate = new ClientCertificateUpload(file, password) }, "test", default);

        Assert.False(result.Succeeded);
        Assert.Contains(expected, result.Errors["clientCertificate"], StringComparison.Ordinal);
        Assert.Equal(0, await App.WithDbAsync(db => db.TokenConfigs.CountAsync()));
    }

    [Fact]
    public async Task Upload_ToFunctionalAccount_ThatCannotBeUsed_IsRefused_AndTheStoredCertificateStays()
    {
        var profile = await CreateProfileAsync(change: p => { p.ClientId = CertClient; p.ClientSecret = null; });
        var account = await CreateAccountAsync(profile.Id, change: a =>
        {
            a.ClientAuthentication = ClientAuthentications.PrivateKeyJwt;
            a.ClientCertificateFile = FormFile(ClientCertificateFiles.Pem(Registered), "client.pem");
        });
        var (file, password) = Upload("wrong-key");
        var input = FunctionalAccountInput.From(account);
        input.ClientCertificateFile = FormFile(file, "wrong.pem");
        input.ClientCertificatePassword = password;

        using var scope = App.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<FunctionalAccountService>().UpdateAsync(account.Id, input, "test", default);

        Assert.False(result.Succeeded);
        Assert.Contains("does not belong to the certificate", result.Errors["ClientCertificate"], StringComparison.Ordinal);
        var stored = await App.WithDbAsync(db => db.FunctionalAccounts.AsNoTracking().SingleAsync(a => a.Id == account.Id));
        Assert.Equal(Registered.Thumbprint, stored.Certificate.Thumbprint);
    }

    [Fact]
    public async Task Pfx_WithItsPassword_IsStoredEncrypted_WithThumbprintAndExpiry()
    {
        var id = await CertificateConfigAsync(ClientCertificateFiles.Pfx(Registered), password: ClientCertificateFiles.PfxPassword);

        var config = await App.WithDbAsync(db => db.TokenConfigs.AsNoTracking().SingleAsync(c => c.Id == id));
        Assert.Equal(Registered.Thumbprint, config.Certificate.Thumbprint);
        Assert.Equal(ClientCertificateFiles.KeyId(Registered), config.Certificate.KeyId);
        Assert.Equal(Registered.NotAfter.ToUniversalTime(), config.Certificate.NotAfter!.Value, TimeSpan.FromSeconds(1));
        Assert.DoesNotContain("PRIVATE KEY", config.Certificate.Protected!, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", await DatabaseFiles.RawTextAsync(App.DataDirectory), StringComparison.Ordinal);
        Assert.True((await RequestAsync(TokenSource.Config(id))).Succeeded);
    }

    [Fact]
    public async Task PrivateKeyJwt_WithoutCertificate_IsRefusedOnSave()
    {
        var document = TokenTemplates.Find(TokenTemplates.Custom)!.NewDocument();
        document.Name = "no-certificate";
        document.Flow = TokenFlows.ClientCredentials;
        document.ClientId = CertClient;
        document.ClientAuthentication = ClientAuthentications.PrivateKeyJwt;
        document.Endpoints.Token = Idp.TokenEndpoint;
        using var scope = App.Services.CreateScope();

        var result = await scope.ServiceProvider.GetRequiredService<TokenConfigService>().CreateAsync(document, new TokenConfigSecrets(), "test", default);

        Assert.Contains("needs a client certificate", result.Errors["clientCertificate"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task AlgorithmThatDoesNotFitTheKey_IsRefusedOnSave()
    {
        var document = TokenTemplates.Find(TokenTemplates.Custom)!.NewDocument();
        document.Name = "es256-with-rsa";
        document.Flow = TokenFlows.ClientCredentials;
        document.ClientId = CertClient;
        document.ClientAuthentication = ClientAuthentications.PrivateKeyJwt;
        document.ClientAssertionAlgorithm = "ES256";
        document.Endpoints.Token = Idp.TokenEndpoint;
        using var scope = App.Services.CreateScope();

        var result = await scope.ServiceProvider.GetRequiredService<TokenConfigService>().CreateAsync(
            document, new TokenConfigSecrets { Certificate = new ClientCertificateUpload(ClientCertificateFiles.Pem(Registered), null) }, "test", default);

        Assert.Contains("RSA key", result.Errors["clientAssertionAlgorithm"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_WithSecrets_CarriesTheCertificate_AndImportRestoresIt_WithoutSecretsItStaysOut()
    {
        await CertificateConfigAsync(ClientCertificateFiles.Pem(Registered));
        using var scope = App.Services.CreateScope();
        var transfer = scope.ServiceProvider.GetRequiredService<TokenConfigTransfer>();
        var without = await transfer.ExportAsync([], includeSecrets: false, "test", default);
        var with = await transfer.ExportAsync([], includeSecrets: true, "test", default);
        Assert.Contains("clientAuthentication: private_key_jwt", without.Yaml, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", without.Yaml, StringComparison.Ordinal);
        Assert.Contains("BEGIN PRIVATE KEY", with.Yaml, StringComparison.Ordinal);

        await App.WithDbAsync(db => db.TokenConfigs.ExecuteDeleteAsync());
        var refused = await transfer.ImportAsync(new MemoryStream(Encoding.UTF8.GetBytes(without.Yaml)), overwrite: false, "test", "file.yaml", default);
        Assert.False(refused.Succeeded);
        Assert.Contains(refused.Errors, e => e.Message.Contains("needs a client certificate", StringComparison.Ordinal));

        var imported = await transfer.ImportAsync(new MemoryStream(Encoding.UTF8.GetBytes(with.Yaml)), overwrite: false, "test", "file.yaml", default);

        Assert.True(imported.Succeeded, string.Join("; ", imported.Errors));
        var config = await App.WithDbAsync(db => db.TokenConfigs.AsNoTracking().SingleAsync());
        Assert.Equal(Registered.Thumbprint, config.Certificate.Thumbprint);
        Assert.True((await RequestAsync(TokenSource.Config(config.Id))).Succeeded);
    }

    [Fact]
    public async Task EditPage_Upload_ShowsThumbprintAndExpiry_NeverTheKey()
    {
        var id = await CreateConfigAsync("page-certificate", TokenFlows.ClientCredentials);
        var page = await Browser.GetStringAsync($"/tokens/edit/{id}");
        var version = System.Text.RegularExpressions.Regex.Match(page, "name=\"Version\" value=\"([^\"]+)\"").Groups[1].Value;
        var form = new MultipartFormDataContent
        {
            { new StringContent(HttpClientForms.AntiforgeryToken(page)), "__RequestVerificationToken" },
            { new StringContent(version), "Version" },
            { new StringContent("page-certificate"), "Input.Name" },
            { new StringContent("true"), "Input.Valid" },
            { new StringContent(TokenFlows.ClientCredentials), "Input.Flow" },
            { new StringContent(CertClient), "Input.ClientId" },
            { new StringContent(ClientAuthentications.PrivateKeyJwt), "Input.ClientAuthentication" },
            { new StringContent(ClientAssertion.AudienceIssuer), "Input.ClientAssertionAudience" },
            { new StringContent("api"), "Input.Scope" },
            { new StringContent(Idp.TokenEndpoint), "Input.TokenEndpoint" },
            { new StringContent(Idp.Issuer.ToString()), "Input.Issuer" },
            { new StringContent("7"), "Input.ExpiringSoonDays" },
            { new ByteArrayContent(ClientCertificateFiles.Pem(Registered)), "Input.ClientCertificateFile", "client.pem" },
        };

        var response = await Browser.PostAsync($"/tokens/edit/{id}", form);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var edit = await Browser.GetStringAsync($"/tokens/edit/{id}");
        Assert.Contains(Registered.Thumbprint, edit, StringComparison.Ordinal);
        Assert.Contains("expires in 36", edit, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", edit, StringComparison.Ordinal);
        Assert.True((await RequestAsync(TokenSource.Config(id))).Succeeded);
    }
}
