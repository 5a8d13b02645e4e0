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

        foreach (var scope in client.AllowedScopes)
        {
            permissions.Add(Permissions.Prefixes.Scope + scope);
        }

        return descriptor;
    }
}
