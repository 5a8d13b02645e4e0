using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using TokenAdmin.Providers;

namespace TokenAdmin.Tokens;

/// <summary>A successful token response (RFC 6749 section 5.1).</summary>
public sealed record TokenResponse(
    string AccessToken, string? TokenType, int? ExpiresIn, string? RefreshToken, int? RefreshTokenExpiresIn, string? IdToken, string? Scope);

public enum TokenFailureKind
{
    /// <summary>The provider answered with an OAuth2 error (invalid_grant, invalid_client, ...): retrying will not help.</summary>
    Rejected,

    /// <summary>No usable answer: connection refused, timeout, 5xx, 429. The stored tokens stay.</summary>
    Unavailable,
}

public sealed record TokenFailure(TokenFailureKind Kind, string Code, string Description, TimeSpan? RetryAfter = null)
{
    public bool RefreshTokenDead => Kind == TokenFailureKind.Rejected && Code is "invalid_grant" or "invalid_client";
}

/// <summary>How a client authenticates in one request: <see cref="Method"/> is resolved (never automatic).</summary>
/// <param name="Assertion">The client assertion for private_key_jwt, made for this request's endpoint.</param>
public sealed record ClientAuth(string ClientId, string Method, string? Secret, string? Assertion = null);

/// <summary>Posts grant requests to a token endpoint and reads the answer strictly.</summary>
public sealed class TokenEndpointClient(IHttpClientFactory httpClients, Microsoft.Extensions.Options.IOptions<ProviderHttpOptions> options, TokenMetrics metrics)
{
    /// <param name="client">How the client authenticates: its secret (Basic header or form), a client assertion, or nothing in the form (mutual TLS).</param>
    /// <param name="repeated">Parameters that may occur several times (RFC 8707 resource indicators), sent after the others.</param>
    /// <param name="http">The HttpClient to use (an OIDC profile's own, with its CA; one with the client certificate); default: the shared provider client.</param>
    public async Task<(TokenResponse? Response, TokenFailure? Failure)> RequestAsync(
        string endpoint, ClientAuth client, IReadOnlyDictionary<string, string> grant,
        IReadOnlyDictionary<string, string> extra, CancellationToken cancellationToken,
        IReadOnlyList<KeyValuePair<string, string>>? repeated = null, HttpClient? http = null)
    {
        var uri = new Uri(endpoint);
        using var request = BuildRequest(uri, client, grant, extra, repeated);
        http ??= httpClients.CreateClient(ProviderHttp.ClientName);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var grantType = grant.GetValueOrDefault("grant_type", "?");
        try
        {
            // One deadline for the whole exchange, the answer's body included.
            using var answer = await ProviderExchange.SendAsync(http, request, options.Value.Deadline, cancellationToken);
            var result = Interpret(answer.Response, answer.Body, uri);
            metrics.Record(grantType, result.Item2?.Code ?? "ok", started);
            return result;
        }
        catch (ProviderDeadlineException ex) when (!cancellationToken.IsCancellationRequested)
        {
            metrics.Record(grantType, "timeout", started);
            return (null, new TokenFailure(TokenFailureKind.Unavailable, "timeout", ex.Message));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or Polly.Timeout.TimeoutRejectedException && !cancellationToken.IsCancellationRequested)
        {
            var code = ex is TaskCanceledException or Polly.Timeout.TimeoutRejectedException ? "timeout" : "connection_failed";
            metrics.Record(grantType, code, started);
            return (null, new TokenFailure(TokenFailureKind.Unavailable, code, ProviderHttp.Describe(ex, uri, options.Value.Timeout)));
        }
    }

    /// <summary>
    /// The device authorization request (RFC 8628 section 3.1) with the same client authentication, HttpClient, deadline
    /// and size cap as a grant; the answer is read strictly (<see cref="DeviceCodeGrant.Read"/>).
    /// </summary>
    public async Task<(DeviceAuthorization? Authorization, TokenFailure? Failure)> AuthorizeDeviceAsync(
        string endpoint, ClientAuth client, IReadOnlyDictionary<string, string> parameters, CancellationToken cancellationToken,
        IReadOnlyList<KeyValuePair<string, string>>? repeated = null, HttpClient? http = null)
    {
        var uri = new Uri(endpoint);
        using var request = BuildRequest(uri, client, new Dictionary<string, string>(), parameters, repeated);
        http ??= httpClients.CreateClient(ProviderHttp.ClientName);
        try
        {
            using var answer = await ProviderExchange.SendAsync(http, request, options.Value.Deadline, cancellationToken);
            return DeviceCodeGrant.Read(answer.Response, answer.Body, uri);
        }
        catch (ProviderDeadlineException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, new TokenFailure(TokenFailureKind.Unavailable, "timeout", ex.Message));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or Polly.Timeout.TimeoutRejectedException && !cancellationToken.IsCancellationRequested)
        {
            var code = ex is TaskCanceledException or Polly.Timeout.TimeoutRejectedException ? "timeout" : "connection_failed";
            return (null, new TokenFailure(TokenFailureKind.Unavailable, code, ProviderHttp.Describe(ex, uri, options.Value.Timeout)));
        }
    }

    private static HttpRequestMessage BuildRequest(
        Uri uri, ClientAuth client, IReadOnlyDictionary<string, string> grant, IReadOnlyDictionary<string, string> extra,
        IReadOnlyList<KeyValuePair<string, string>>? repeated)
    {
        var form = new Dictionary<string, string>(extra);
        foreach (var (key, value) in grant)
        {
            form[key] = value;
        }

        var request = new HttpRequestMessage(HttpMethod.Post, uri);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (client.ClientId.Length > 0)
        {
            // Note: a JWT bearer grant with a service-account key (Google) may name no client: the assertion says who asks.
            form["client_id"] = client.ClientId;
        }

        switch (client.Method)
        {
            case ClientAuthentications.Basic when client.Secret is not null:
                // RFC 6749 section 2.3.1: both parts form-urlencoded before Base64.
                var credentials = $"{Uri.EscapeDataString(client.ClientId)}:{Uri.EscapeDataString(client.Secret)}";
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
                break;
            case ClientAuthentications.PrivateKeyJwt when client.Assertion is not null:
                form["client_assertion_type"] = ClientAssertion.AssertionType;
                form["client_assertion"] = client.Assertion;
                break;
            case ClientAuthentications.TlsClientAuth:
                // RFC 8705 section 2: the certificate in the TLS handshake authenticates; the form names the client only.
                break;
            default:
                if (client.Secret is not null)
                {
                    form["client_secret"] = client.Secret;
                }

                break;
        }

        request.Content = new FormUrlEncodedContent(repeated is null ? form : form.Concat(repeated));
        return request;
    }

    /// <param name="body">null: the answer was larger than <see cref="ProviderHttp.MaxResponseBytes"/></param>
    private static (TokenResponse?, TokenFailure?) Interpret(HttpResponseMessage response, string? body, Uri endpoint)
    {
        if (ProviderHttp.IsRedirect(response.StatusCode))
        {
            return (null, new TokenFailure(TokenFailureKind.Rejected, "redirect",
                $"The token endpoint answered {ProviderHttp.DescribeRedirect(response, endpoint)}; TokenAdmin follows no redirects from a provider, so the request (and the client secret) was not sent there. Enter the final token endpoint URL if it is right."));
        }

        if (body is null)
        {
            return (null, new TokenFailure(TokenFailureKind.Unavailable, "invalid_response", "The token endpoint's answer is larger than 1 MiB; TokenAdmin reads no more from a provider."));
        }

        var retryAfter = response.Headers.RetryAfter?.Delta
            ?? (response.Headers.RetryAfter?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        var answer = JsonObject(body);
        var isJson = answer is not null;
        var json = answer.GetValueOrDefault();

        if (isJson && String(json, "error") is { } error)
        {
            var description = String(json, "error_description") ?? "";
            // Note: an OAuth error from a failing server (temporarily_unavailable, or any error with 5xx) is worth retrying.
            var kind = ProviderHttp.IsServerError(response.StatusCode) || error is "temporarily_unavailable" or "server_error"
                ? TokenFailureKind.Unavailable
                : TokenFailureKind.Rejected;
            return (null, new TokenFailure(kind, Cut(error, 100), Cut(description, 1000), retryAfter));
        }

        if (ProviderHttp.IsServerError(response.StatusCode))
        {
            return (null, new TokenFailure(TokenFailureKind.Unavailable, $"http_{(int)response.StatusCode}",
                $"The token endpoint answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}.", retryAfter));
        }

        if (!response.IsSuccessStatusCode)
        {
            return (null, new TokenFailure(TokenFailureKind.Rejected, $"http_{(int)response.StatusCode}",
                $"The token endpoint answered HTTP {(int)response.StatusCode} {response.ReasonPhrase} without an OAuth2 error."));
        }

        if (!isJson)
        {
            return (null, new TokenFailure(TokenFailureKind.Unavailable, "invalid_response", "The token endpoint did not answer with a JSON object."));
        }

        var accessToken = String(json, "access_token");
        if (string.IsNullOrEmpty(accessToken))
        {
            return (null, new TokenFailure(TokenFailureKind.Unavailable, "invalid_response", "The token endpoint's answer has no access_token."));
        }

        var tokenType = String(json, "token_type");
        if (tokenType is not null && !tokenType.Equals("Bearer", StringComparison.OrdinalIgnoreCase) && !tokenType.Equals("DPoP", StringComparison.OrdinalIgnoreCase))
        {
            return (null, new TokenFailure(TokenFailureKind.Rejected, "unsupported_token_type", $"The token endpoint issued a '{Cut(tokenType, 40)}' token; TokenAdmin handles Bearer tokens."));
        }

        var refreshToken = String(json, "refresh_token");
        var idToken = String(json, "id_token");
        // Note: a token goes into Authorization headers and SASL strings; a CR/LF or any other invisible character
        // there breaks (or smuggles into) every request that carries it. Such an answer is refused, not stored.
        var garbled = !IsVisibleAscii(accessToken) ? "access_token" : !IsVisibleAscii(refreshToken) ? "refresh_token" : !IsVisibleAscii(idToken) ? "id_token" : null;
        if (garbled is not null)
        {
            return (null, new TokenFailure(TokenFailureKind.Unavailable, "invalid_response",
                $"The token endpoint's {garbled} has invalid characters (a token may hold only visible ASCII, 0x21-0x7E); nothing of the answer was stored."));
        }

        return (new TokenResponse(
            accessToken, tokenType, Number(json, "expires_in"), refreshToken,
            Number(json, "refresh_token_expires_in") ?? Number(json, "refresh_expires_in"),
            idToken, String(json, "scope")), null);
    }

    internal static bool IsVisibleAscii(string? token) => token is null || !token.AsSpan().ContainsAnyExceptInRange('\x21', '\x7E');

    /// <summary>A provider's answer as a JSON object (detached from the parser), or null when it is not one.</summary>
    internal static JsonElement? JsonObject(string body)
    {
        try
        {
            using var parsed = JsonDocument.Parse(body);
            return parsed.RootElement.ValueKind == JsonValueKind.Object ? parsed.RootElement.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal static string? String(JsonElement json, string name) =>
        json.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;

    /// <summary>
    /// A lifetime in seconds, as a number or (Microsoft v1) a string. Zero or less means "not stated": Keycloak sends
    /// refresh_expires_in 0 for offline tokens that do not expire.
    /// </summary>
    internal static int? Number(JsonElement json, string name)
    {
        int? value = !json.TryGetProperty(name, out var p) ? null
            : p.ValueKind == JsonValueKind.Number && p.TryGetInt32(out var n) ? n
            : p.ValueKind == JsonValueKind.String && int.TryParse(p.GetString(), System.Globalization.CultureInfo.InvariantCulture, out var s) ? s
            : null;
        return value > 0 ? value : null;
    }

    internal static string Cut(string value, int max) => value.Length <= max ? value : value[..max];
}
