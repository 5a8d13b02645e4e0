using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.Timeout;
using TokenAdmin.Settings;

namespace TokenAdmin.Providers;

/// <summary>Bound from "TokenAdmin:Providers".</summary>
public sealed class ProviderHttpOptions
{
    /// <summary>How long a provider may take to answer one attempt (until its headers arrive).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long one whole exchange with a provider may take: every attempt, the pauses between them, and reading the
    /// answer to its last byte. A provider that sends its headers and then trickles or goes silent fails here.
    /// </summary>
    public TimeSpan Deadline { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>Further attempts after a connection failure, timeout, 5xx or 429 (never after an OAuth2 error such as invalid_grant).</summary>
    public int Retries { get; set; } = 2;

    /// <summary>First pause before a retry; it grows exponentially, with jitter.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>The HttpClient TokenAdmin uses to talk to OAuth2 providers, and how its failures read to an admin.</summary>
public static class ProviderHttp
{
    /// <summary>Plain http is only for a provider on this machine (tests, a local Keycloak).</summary>
    public static bool RequiresHttps(string url) => !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && Loopback.IsLoopbackHost(uri.Host));

    public const string ClientName = "oauth2-providers";

    /// <summary>A Retry-After longer than this is not waited for in the request: the caller's backoff takes over.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(10);

    /// <summary>The largest answer read from a provider: a token response, a discovery document, a JWKS.</summary>
    public const int MaxResponseBytes = 1024 * 1024;

    /// <summary>
    /// The HttpClient's own timeout: a backstop a little after <see cref="ProviderHttpOptions.Deadline"/>, which
    /// <see cref="ProviderExchange"/> enforces with a message that names the host.
    /// </summary>
    public static TimeSpan ClientTimeout(ProviderHttpOptions options) => options.Deadline + TimeSpan.FromSeconds(5);

    /// <summary>
    /// The handler under the retries of every provider client. Note: it follows no redirect: a 307 from a token
    /// endpoint would post the client secret again to wherever it points, and a 30x from a discovery or JWKS URL would
    /// let another host choose the keys tokens are checked with. A redirect is reported with its target instead.
    /// Requests go through the outbound proxy of the settings (<see cref="OutboundProxy"/>).
    /// </summary>
    public static SocketsHttpHandler CreateHandler(OutboundProxy proxy) => proxy.Apply(new()
    {
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(15),
    });

    /// <summary>The primary handler with <see cref="ProxyFailureHandler"/> over it, for clients built by hand.</summary>
    public static HttpMessageHandler WithProxyErrors(SocketsHttpHandler handler, OutboundProxy proxy) =>
        new ProxyFailureHandler(proxy) { InnerHandler = handler };

    public static bool IsRedirect(HttpStatusCode status) => (int)status is >= 300 and <= 399;

    /// <summary>"HTTP 307 Temporary Redirect to https://…", with the target made absolute.</summary>
    public static string DescribeRedirect(HttpResponseMessage response, Uri requested)
    {
        var target = response.Headers.Location is { } location
            ? (location.IsAbsoluteUri ? location : new Uri(requested, location)).ToString()
            : "(no Location header)";
        return $"HTTP {(int)response.StatusCode} {response.ReasonPhrase} to {target}";
    }

    /// <summary>
    /// Retries with jittered exponential backoff, honouring Retry-After (up to <see cref="MaxRetryAfter"/>), then a
    /// timeout per attempt. An answer with an OAuth2 error (4xx) is never retried: invalid_grant stays invalid.
    /// </summary>
    public static void ConfigureRetries(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, ProviderHttpOptions options)
    {
        pipeline.AddRetry(new HttpRetryStrategyOptions
        {
            // Polly needs at least one attempt configured; with Retries = 0, ShouldHandle below never retries.
            MaxRetryAttempts = Math.Max(options.Retries, 1),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = options.RetryDelay,
            ShouldRetryAfterHeader = true,
            ShouldHandle = args => ValueTask.FromResult(options.Retries > 0
                && HttpClientResiliencePredicates.IsTransient(args.Outcome)
                && !(args.Outcome.Result?.Headers.RetryAfter?.Delta > MaxRetryAfter)),
        });
        pipeline.AddTimeout(options.Timeout);
    }

    /// <summary>Names the failure the way an admin can act on it: DNS, refused connection, TLS, timeout.</summary>
    public static string Describe(Exception exception, Uri uri, TimeSpan timeout) => exception switch
    {
        ProxyFailureException proxy => proxy.Message,
        TaskCanceledException or TimeoutException or TimeoutRejectedException => $"{uri.Host} did not answer within {timeout.TotalSeconds:0.#} seconds.",
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
