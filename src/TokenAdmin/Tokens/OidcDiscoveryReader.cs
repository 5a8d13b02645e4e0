using System.Text.Json;

namespace TokenAdmin.Tokens;

public sealed record DiscoveryResult(string? Issuer, string? AuthorizationEndpoint, string? TokenEndpoint, string? Error);

/// <summary>Reads an OpenID Connect discovery document for the endpoints of a token config.</summary>
public sealed class OidcDiscoveryReader(IHttpClientFactory httpClients, Microsoft.Extensions.Options.IOptions<ProviderHttpOptions> options)
{
    public async Task<DiscoveryResult> ReadAsync(string discoveryUrl, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(discoveryUrl, UriKind.Absolute, out var uri))
        {
            return new DiscoveryResult(null, null, null, "Discovery URL must be an absolute URL.");
        }

        var client = httpClients.CreateClient(ProviderHttp.ClientName);
        try
        {
            var body = await ProviderExchange.GetDocumentAsync(client, uri, "discovery document", options.Value.Deadline, options.Value.Timeout, cancellationToken);
            using var json = JsonDocument.Parse(body);
            string? Get(string name) => json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
            var issuer = Get("issuer");
            var token = Get("token_endpoint");
            return issuer is null || token is null
                ? new DiscoveryResult(null, null, null, "The discovery document has no issuer or token_endpoint: is this an OpenID Connect discovery URL?")
                : new DiscoveryResult(issuer, Get("authorization_endpoint"), token, null);
        }
        catch (JsonException)
        {
            return new DiscoveryResult(null, null, null, "The discovery URL did not answer with JSON.");
        }
        catch (ProviderDocumentException ex)
        {
            return new DiscoveryResult(null, null, null, ex.Message);
        }
    }
}
