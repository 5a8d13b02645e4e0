using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TokenAdmin.Oidc;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Tokens;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Oidc;

/// <summary>
/// tls_client_auth (RFC 8705 section 2.1, PKI method) end to end: the test identity provider over https with a private CA
/// runs OpenIddict's mutual-TLS client authentication, and a client registered with a subject DN and NO client secret is
/// authenticated only by the certificate TokenAdmin presents in the TLS handshake with the token endpoint. Functional
/// accounts only: a token config has no setting to trust a private CA (its https clients use the system's trust store),
/// so it cannot reach this provider.
/// </summary>
public sealed class TlsClientAuthenticationTests : AccountTestBase
{
    private const string MtlsClient = "mtls-client";
    private const string Subject = "CN=tokenadmin-client";
    private readonly TestCertificates _certificates = new();
    private readonly TestCertificates _otherCa = new();

    protected override void ConfigureIdp(TestIdentityProviderOptions options)
    {
        options.ServerCertificate = _certificates.Server;
        options.TlsClientAuthenticationCa = _certificates.Ca;
        options.MinimumLogLevel = LogLevel.Information;
        options.ConfigureLogging = logging => logging.AddProvider(new ProviderLog(_providerLog));
    }

    /// <summary>What the provider logged (OpenIddict says why it refused a client): shown when a test fails.</summary>
    private readonly ConcurrentQueue<string> _providerLog = new();

    private string ProviderLogText => string.Join("\n", _providerLog);

    private sealed class ProviderLog(ConcurrentQueue<string> lines) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue(formatter(state, exception));

        public void Dispose()
        {
        }
    }

    public override async Task InitializeAsync()
    {
        App.Settings["TokenAdmin:TokenStoreUpdater:Enabled"] = "false";
        await base.InitializeAsync();
        await Idp.AddClientAsync(new TestClient(MtlsClient, null, []) { TlsClientAuthSubjectDn = Subject, AllowedGrantTypes = ["client_credentials", "password", "refresh_token"] });
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _certificates.Dispose();
        _otherCa.Dispose();
    }

    private Task<OidcProfile> MtlsProfileAsync(bool withProfileCertificate = false) =>
        CreateProfileAsync("mtls", p =>
        {
            p.ClientId = MtlsClient;
            p.ClientSecret = null;
            p.CaCertificatePath = _certificates.CaPath;
            if (withProfileCertificate)
            {
                p.ClientCertificatePath = _certificates.ClientCertificatePath;
                p.ClientKeyPath = _certificates.ClientKeyPath;
                p.ClientKeyPassword = TestCertificates.ClientKeyPassword;
            }
        });

    private Task<TokenAdmin.FunctionalAccounts.FunctionalAccount> MtlsAccountAsync(int profileId, X509Certificate2? upload, Action<TokenAdmin.FunctionalAccounts.FunctionalAccountInput>? change = null) =>
        CreateAccountAsync(profileId, change: a =>
        {
            change?.Invoke(a);
            a.ClientAuthentication = ClientAuthentications.TlsClientAuth;
            if (upload is not null)
            {
                var pem = ClientCertificateFiles.Pem(upload);
                a.ClientCertificateFile = new FormFile(new MemoryStream(pem), 0, pem.Length, "Input.ClientCertificateFile", "client.pem");
            }
        });

    private async Task AssertIssuedToTheMtlsClientAsync(int accountId)
    {
        Assert.Empty(LastRequestValues("client_secret"));
        Assert.Empty(LastRequestValues("client_assertion"));
        Assert.Equal([MtlsClient], LastRequestValues("client_id"));
        var state = await AccountStateAsync(accountId);
        Assert.NotNull(state?.AccessTokenProtected);
        var payload = JsonDocument.Parse(WebEncoders.Base64UrlDecode(Unprotect(state!.AccessTokenProtected!).Split('.')[1])).RootElement;
        Assert.Equal(MtlsClient, payload.GetProperty("client_id").GetString());
    }

    [Fact]
    public async Task Metadata_AdvertisesTlsClientAuth_OnlyWhenConfigured()
    {
        using var http = new HttpClient(new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate?.Thumbprint == _certificates.Server.Thumbprint,
        }) { Timeout = TimeSpan.FromSeconds(10) };
        var configured = await http.GetFromJsonAsync<JsonElement>(Idp.MetadataAddress);
        Assert.Contains("tls_client_auth", configured.GetProperty("token_endpoint_auth_methods_supported").EnumerateArray().Select(m => m.GetString()));

        await using var plain = await TestIdentityProviderServer.StartAsync(new TestIdentityProviderOptions());
        var other = await http.GetFromJsonAsync<JsonElement>(plain.MetadataAddress);
        Assert.DoesNotContain("tls_client_auth", other.GetProperty("token_endpoint_auth_methods_supported").EnumerateArray().Select(m => m.GetString()));
    }

    [Fact]
    public async Task AccountsOwnCertificate_FromTheCa_WithTheRegisteredSubject_GetsAToken_WithoutAnySecret()
    {
        using var certificate = _certificates.IssueClient(Subject);
        var account = await MtlsAccountAsync((await MtlsProfileAsync()).Id, certificate);
        Idp.ResetCounters();

        var result = await RenewAsync(account.Id);

        Assert.True(result.Succeeded, result.Message + "\n" + ProviderLogText);
        Assert.Equal(1, Idp.TokenRequestCount);
        await AssertIssuedToTheMtlsClientAsync(account.Id);
    }

    [Fact]
    public async Task PasswordGrant_AndItsRefresh_AreAuthenticatedByTheCertificateAlone()
    {
        using var certificate = _certificates.IssueClient(Subject);
        var account = await MtlsAccountAsync((await MtlsProfileAsync()).Id, certificate, a =>
        {
            a.GrantType = TokenAdmin.FunctionalAccounts.AccountGrantTypes.Password;
            a.Username = "alice";
            a.Password = "alice-password-1";
            a.Scope = "openid offline_access api";
        });
        var provider = App.Services.GetRequiredService<TokenAdmin.TokenProvider.ITokenProvider>();

        var token = await provider.GetTokenAsync(TokenSource.Account(account.Id), default);
        Assert.NotNull((await AccountStateAsync(account.Id))?.RefreshTokenProtected);
        Idp.ResetCounters();
        var renewed = await provider.ForceRefreshAsync(TokenSource.Account(account.Id), default);

        Assert.Equal(1, Idp.TokenRequestsByGrantType["refresh_token"]);
        Assert.Equal(1, Idp.TokenRequestCount);
        Assert.NotEqual(token.Value, renewed.Value);
        Assert.Empty(LastRequestValues("client_secret"));
        Assert.Empty(LastRequestValues("client_assertion"));
        Assert.Equal([MtlsClient], LastRequestValues("client_id"));
    }

    [Fact]
    public async Task ProfilesClientCertificate_IsPresented_WhenTheAccountHasNone()
    {
        var account = await MtlsAccountAsync((await MtlsProfileAsync(withProfileCertificate: true)).Id, upload: null);

        var result = await RenewAsync(account.Id);

        Assert.True(result.Succeeded, result.Message + "\n" + ProviderLogText);
        await AssertIssuedToTheMtlsClientAsync(account.Id);
    }

    [Fact]
    public async Task ClientsWithASecret_KeepWorking_OnThisProvider_WithoutACertificate()
    {
        var profile = await CreateProfileAsync("secret", p => p.CaCertificatePath = _certificates.CaPath);
        var account = await CreateAccountAsync(profile.Id);

        var result = await RenewAsync(account.Id);

        Assert.True(result.Succeeded, result.Message);
        Assert.NotNull((await AccountStateAsync(account.Id))?.AccessTokenProtected);
    }

    [Fact]
    public async Task WithoutACertificate_TheProviderRefusesTheRequest()
    {
        using var http = new HttpClient(new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate?.Thumbprint == _certificates.Server.Thumbprint,
        }) { Timeout = TimeSpan.FromSeconds(10) };

        using var response = await http.PostAsync(Idp.TokenEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = MtlsClient,
            ["scope"] = "api",
        }));

        // Note: OpenIddict checks the client_credentials request before authenticating the client: with neither a secret,
        // an assertion nor a certificate it is malformed (ID2057), so the answer is invalid_request, not invalid_client.
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
        var error = JsonDocument.Parse(body).RootElement;
        Assert.Equal("invalid_request", error.GetProperty("error").GetString());
        Assert.EndsWith("ID2057", error.GetProperty("error_uri").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutACertificate_TokenAdminRefusesBeforeSending_AndStoresNothing()
    {
        var account = await MtlsAccountAsync((await MtlsProfileAsync()).Id, upload: null);
        Idp.ResetCounters();

        var result = await RenewAsync(account.Id);

        Assert.False(result.Succeeded);
        Assert.Contains("uses tls_client_auth, but neither the account nor profile 'mtls' has a client certificate", result.Message, StringComparison.Ordinal);
        Assert.Equal(0, Idp.TokenRequestCount);
        Assert.Null((await AccountStateAsync(account.Id))?.AccessTokenProtected);
    }

    [Theory]
    [InlineData("wrong-subject", "invalid_client")]
    [InlineData("other-ca", "invalid_client")]
    // OpenIddict takes a self-issued certificate for self_signed_tls_client_auth, which this provider does not enable.
    [InlineData("self-signed", "invalid_request")]
    public async Task CertificateTheProviderMustRefuse_IsRefused_RecordedClearly_AndNothingIsStored(string kind, string error)
    {
        using var certificate = kind switch
        {
            // Issued by the trusted CA, but for another subject than the one registered.
            "wrong-subject" => _certificates.IssueClient("CN=someone-else"),
            // The registered subject, but issued by a CA the provider does not trust.
            "other-ca" => _otherCa.IssueClient(Subject),
            // The registered subject, self-signed.
            "self-signed" => ClientCertificateFiles.Rsa(Subject),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var account = await MtlsAccountAsync((await MtlsProfileAsync()).Id, certificate);
        Idp.ResetCounters();

        var result = await RenewAsync(account.Id);

        Assert.False(result.Succeeded);
        Assert.Equal(1, Idp.TokenRequestCount);
        Assert.True(result.Failure!.Code == error, result.Message);
        Assert.Contains(error + ": The specified TLS client certificate is", result.Message, StringComparison.Ordinal);
        var state = await AccountStateAsync(account.Id);
        Assert.Equal(error, state!.LastErrorCode);
        Assert.Null(state.AccessTokenProtected);
        Assert.Null(state.RefreshTokenProtected);
        // Each refusal for its own reason: the subject check, the chain to the CA.
        if (kind == "wrong-subject")
        {
            Assert.Contains($"presented certificate CN=someone-else, but its registered tls_client_auth_subject_dn is {Subject}", ProviderLogText, StringComparison.Ordinal);
        }
        else if (kind == "other-ca")
        {
            Assert.Contains($"Client {MtlsClient}: certificate {Subject} does not chain to the trusted CA", ProviderLogText, StringComparison.Ordinal);
        }
    }
}
