using System.Security.Cryptography.X509Certificates;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace TokenAdmin.TestIdentityProvider.Internal;

/// <summary>
/// Maps a <see cref="TestClient"/> to an OpenIddict application descriptor.
/// </summary>
internal static class ClientRegistration
{
    public static OpenIddictApplicationDescriptor CreateDescriptor(TestClient client, bool requirePkce)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(client.ClientId);

        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = client.ClientId,
            ClientSecret = client.ClientSecret,
            ClientType = client.IsPublic ? ClientTypes.Public : ClientTypes.Confidential,
            ApplicationType = ApplicationTypes.Web,
            ConsentType = ConsentTypes.Implicit,
            DisplayName = client.ClientId,
        };

        if (client.AssertionCertificates.Count > 0)
        {
            descriptor.JsonWebKeySet = new Microsoft.IdentityModel.Tokens.JsonWebKeySet();
            foreach (var certificate in client.AssertionCertificates)
            {
                descriptor.JsonWebKeySet.Keys.Add(AssertionKey(certificate));
            }
        }

        if (client.TlsClientAuthSubjectDn is { } subject)
        {
            descriptor.Properties[TlsClientAuthentication.SubjectDnProperty] = System.Text.Json.JsonSerializer.SerializeToElement(subject);
        }

        foreach (var uri in client.RedirectUris)
        {
            descriptor.RedirectUris.Add(new Uri(uri, UriKind.Absolute));
        }

        foreach (var uri in client.PostLogoutRedirectUris)
        {
            descriptor.PostLogoutRedirectUris.Add(new Uri(uri, UriKind.Absolute));
        }

        var permissions = descriptor.Permissions;
        permissions.Add(Permissions.Endpoints.Token);
        permissions.Add(Permissions.Endpoints.Revocation);
        permissions.Add(Permissions.Endpoints.EndSession);
        if (!client.IsPublic)
        {
            // OpenIddict only lets authenticated (confidential) clients introspect.
            permissions.Add(Permissions.Endpoints.Introspection);
        }

        foreach (var grantType in client.AllowedGrantTypes)
        {
            permissions.Add(Permissions.Prefixes.GrantType + grantType);
        }

        if (client.AllowedGrantTypes.Contains(GrantTypes.AuthorizationCode, StringComparer.Ordinal))
        {
            permissions.Add(Permissions.Endpoints.Authorization);
            permissions.Add(Permissions.ResponseTypes.Code);
            if (requirePkce)
            {
                descriptor.Requirements.Add(Requirements.Features.ProofKeyForCodeExchange);
            }
        }

        if (client.AllowedGrantTypes.Contains(GrantTypes.DeviceCode, StringComparer.Ordinal))
        {
            permissions.Add(Permissions.Endpoints.DeviceAuthorization);
        }

        foreach (var scope in client.AllowedScopes)
        {
            permissions.Add(Permissions.Prefixes.Scope + scope);
        }

        return descriptor;
    }

    private static Microsoft.IdentityModel.Tokens.JsonWebKey AssertionKey(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate)
    {
        using var rsa = certificate.GetRSAPublicKey();
        var key = rsa is not null
            ? Microsoft.IdentityModel.Tokens.JsonWebKeyConverter.ConvertFromRSASecurityKey(new Microsoft.IdentityModel.Tokens.RsaSecurityKey(rsa.ExportParameters(false)))
            : Microsoft.IdentityModel.Tokens.JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new Microsoft.IdentityModel.Tokens.ECDsaSecurityKey(certificate.GetECDsaPublicKey()!));
        key.Kid = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(certificate.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256));
        key.X5t = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(certificate.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA1));
        key.Use = "sig";
        return key;
    }
}
