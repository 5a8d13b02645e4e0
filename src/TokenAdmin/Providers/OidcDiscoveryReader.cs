using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace TokenAdmin.Providers;

public sealed record DiscoveryResult(string? Issuer, string? AuthorizationEndpoint, string? TokenEndpoint, string? Error);

/// <summary>
/// Reads an OpenID Connect discovery document (and its keys, which the ID tokens will be checked with) for the
/// endpoints of a token config: IdentityModel's <see cref="OpenIdConnectConfigurationRetriever"/> over the provider
/// HttpClient's rules (one deadline, no redirects, 1 MiB, https except on this machine).
/// </summary>
public sealed class OidcDiscoveryReader(IHttpClientFactory httpClients, IOptions<ProviderHttpOptions> options)
{
    public async Task<DiscoveryResult> ReadAsync(string discoveryUrl, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(discoveryUrl, UriKind.Absolute, out _))
        {
            return Failed("Discovery URL must be an absolute URL.");
        }

        var retriever = new ProviderDocumentRetriever(httpClients.CreateClient(ProviderHttp.ClientName), options.Value, discoveryUrl, ProviderHttp.RequiresHttps(discoveryUrl));
        OpenIdConnectConfiguration configuration;
        try
        {
            configuration = await OpenIdConnectConfigurationRetriever.GetAsync(discoveryUrl, retriever, cancellationToken);
        }
        catch (ProviderDocumentException ex)
        {
            return Failed(ex.Message);
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or FormatException or InvalidOperationException)
        {
            // Note: IdentityModel throws these for a body that is not a discovery document or a JWKS.
            return Failed("The discovery URL did not answer with an OpenID Connect discovery document (or its keys are not a JWKS).");
        }

        return string.IsNullOrEmpty(configuration.Issuer) || string.IsNullOrEmpty(configuration.TokenEndpoint)
            ? Failed("The discovery document has no issuer or token_endpoint: is this an OpenID Connect discovery URL?")
            : new DiscoveryResult(configuration.Issuer, NullIfEmpty(configuration.AuthorizationEndpoint), configuration.TokenEndpoint, null);
    }

    private static DiscoveryResult Failed(string error) => new(null, null, null, error);

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
