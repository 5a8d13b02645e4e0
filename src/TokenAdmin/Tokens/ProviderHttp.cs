using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;

namespace TokenAdmin.Tokens;

/// <summary>Bound from "TokenAdmin:Providers".</summary>
public sealed class ProviderHttpOptions
{
    /// <summary>How long a provider may take to answer one request.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>The HttpClient TokenAdmin uses to talk to OAuth2 providers, and how its failures read to an admin.</summary>
public static class ProviderHttp
{
    public const string ClientName = "oauth2-providers";

    /// <summary>Names the failure the way an admin can act on it: DNS, refused connection, TLS, timeout.</summary>
    public static string Describe(Exception exception, Uri uri, TimeSpan timeout) => exception switch
    {
        TaskCanceledException or TimeoutException => $"{uri.Host} did not answer within {timeout.TotalSeconds:0.#} seconds.",
        HttpRequestException { InnerException: SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData } } =>
            $"The host name {uri.Host} could not be resolved (DNS).",
        HttpRequestException { InnerException: SocketException { SocketErrorCode: SocketError.ConnectionRefused } } =>
            $"{uri.Host}:{uri.Port} refused the connection.",
        HttpRequestException { InnerException: AuthenticationException auth } =>
            $"The TLS connection to {uri.Host} failed: {auth.Message}",
        HttpRequestException http when http.HttpRequestError == HttpRequestError.NameResolutionError =>
            $"The host name {uri.Host} could not be resolved (DNS).",
        HttpRequestException http when http.HttpRequestError == HttpRequestError.ConnectionError =>
            $"Could not connect to {uri.Host}:{uri.Port}: {http.InnerException?.Message ?? http.Message}",
        HttpRequestException http when http.HttpRequestError == HttpRequestError.SecureConnectionError =>
            $"The TLS connection to {uri.Host} failed: {http.InnerException?.Message ?? http.Message}",
        HttpRequestException http => $"The request to {uri.Host} failed: {http.Message}",
        _ => $"The request to {uri.Host} failed: {exception.Message}",
    };

    public static bool IsServerError(HttpStatusCode status) => (int)status >= 500 || status == HttpStatusCode.TooManyRequests;
}
