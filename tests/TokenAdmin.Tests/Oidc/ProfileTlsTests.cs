using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Oidc;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Oidc;

/// <summary>The test identity provider over https with a private CA, demanding a client certificate (mutual TLS).</summary>
public sealed class ProfileTlsTests : AccountTestBase
{
    private readonly TestCertificates _certificates = new();
    private TestIdentityProviderServer _tlsIdp = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _tlsIdp = await TestIdentityProviderServer.StartAsync(new TestIdentityProviderOptions
        {
            ServerCertificate = _certificates.Server,
            RequireClientCertificateFrom = _certificates.Ca,
        });
        await _tlsIdp.AddClientAsync(new TestClient("tokenadmin", ClientSecret, []));
    }

    public override async Task DisposeAsync()
    {
        await _tlsIdp.DisposeAsync();
        await base.DisposeAsync();
        _certificates.Dispose();
    }

    private void MutualTls(OidcProfileInput p)
    {
        p.CaCertificatePath = _certificates.CaPath;
        p.ClientCertificatePath = _certificates.ClientCertificatePath;
        p.ClientKeyPath = _certificates.ClientKeyPath;
        p.ClientKeyPassword = TestCertificates.ClientKeyPassword;
    }

    private async Task<DiscoveryReport> TestAsync(OidcProfile profile) =>
        await App.Services.GetRequiredService<OidcProfileRuntime>().TestAsync(profile, default);

    [Fact]
    public async Task Private_ca_and_client_certificate_reach_the_provider_and_get_a_token()
    {
        Assert.StartsWith("https://127.0.0.1:", _tlsIdp.MetadataAddress, StringComparison.Ordinal);
        var profile = await CreateProfileAsync("mtls", MutualTls, _tlsIdp.MetadataAddress);

        var report = await TestAsync(profile);
        Assert.True(report.Succeeded, report.Error);
        Assert.Equal(_tlsIdp.Issuer.ToString(), report.Issuer);
        Assert.Contains(_tlsIdp.CurrentSigningKeyId, report.KeyIds!);
        Assert.Contains("client_credentials", report.GrantTypes!);

        var account = await CreateAccountAsync(profile.Id);
        _tlsIdp.ResetCounters();
        var token = await App.Services.GetRequiredService<ITokenProvider>().GetTokenAsync(TokenSource.Account(account.Id), default);
        Assert.False(string.IsNullOrEmpty(token.Value));
        Assert.Equal(1, _tlsIdp.TokenRequestCount);
    }

    private async Task<Dictionary<string, string>> RefusedAsync(Action<OidcProfileInput> change)
    {
        var input = new OidcProfileInput { Name = "refused", DiscoveryUrl = _tlsIdp.MetadataAddress, ClientId = "tokenadmin", ClientSecret = ClientSecret };
        change(input);
        using var scope = App.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<OidcProfileService>().CreateAsync(input, "test", default);
        Assert.False(result.Succeeded);
        Assert.Equal(0, await App.WithDbAsync(db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(db.OidcProfiles)));
        return result.Errors;
    }

    [Fact]
    public async Task Without_the_private_ca_the_profile_is_refused_naming_the_untrusted_certificate()
    {
        var errors = await RefusedAsync(p => { MutualTls(p); p.CaCertificatePath = null; });

        Assert.Contains("The TLS connection to 127.0.0.1 failed", errors["DiscoveryUrl"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_client_certificate_the_provider_refuses_the_handshake_and_the_profile_is_refused()
    {
        var errors = await RefusedAsync(p => p.CaCertificatePath = _certificates.CaPath);

        Assert.StartsWith("Discovery URL: ", errors["DiscoveryUrl"], StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", errors["DiscoveryUrl"], StringComparison.Ordinal);
        Assert.DoesNotContain("answered HTTP", errors["DiscoveryUrl"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Switching_verification_off_works_but_is_shown_in_red_on_the_profile_and_its_row()
    {
        var profile = await CreateProfileAsync("unchecked", p => { MutualTls(p); p.CaCertificatePath = null; p.VerifyCertificate = false; }, _tlsIdp.MetadataAddress);
        Assert.True((await TestAsync(profile)).Succeeded);

        var list = await Browser.GetStringAsync("/oidcprofiles");
        Assert.Contains("class=\"tls-off\"", list, StringComparison.Ordinal);
        Assert.Contains("certificate not checked", list, StringComparison.Ordinal);
        var page = await Browser.GetStringAsync($"/oidcprofiles/edit/{profile.Id}");
        Assert.Contains("TLS verification is switched off", page, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("missing-ca", "CaCertificatePath", "neither a file nor a directory")]
    [InlineData("not-a-cert", "CaCertificatePath", "is not a certificate")]
    [InlineData("wrong-password", "ClientKeyPath", "key password is wrong")]
    [InlineData("key-without-cert", "ClientCertificatePath", "no client certificate")]
    public async Task Unusable_tls_settings_are_refused_naming_the_field_and_nothing_is_saved(string broken, string field, string message)
    {
        var input = new OidcProfileInput { Name = broken, DiscoveryUrl = _tlsIdp.MetadataAddress, ClientId = "tokenadmin" };
        MutualTls(input);
        switch (broken)
        {
            case "missing-ca": input.CaCertificatePath = Path.Combine(_certificates.Folder, "nope.pem"); break;
            case "not-a-cert": input.CaCertificatePath = _certificates.NotACertificatePath; break;
            case "wrong-password": input.ClientKeyPassword = "not-the-password"; break;
            case "key-without-cert": input.ClientCertificatePath = null; break;
        }

        using var scope = App.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<OidcProfileService>().CreateAsync(input, "test", default);

        Assert.False(result.Succeeded);
        Assert.Contains(message, result.Errors[field], StringComparison.Ordinal);
        Assert.Equal(0, await App.WithDbAsync(db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(db.OidcProfiles)));
    }
}
