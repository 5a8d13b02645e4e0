using System.Net;
using TokenAdmin.Settings;

namespace TokenAdmin.Providers;

/// <summary>The proxy settings at one moment, parsed: where a destination goes and with which credentials.</summary>
public sealed class ProxyRules
{
    public static readonly ProxyRules Direct = new(null, null, []);

    public ProxyRules(Uri? proxy, NetworkCredential? credential, IReadOnlyList<NoProxyEntry> noProxy)
    {
        Proxy = proxy;
        Credential = credential;
        NoProxy = noProxy;
    }

    public Uri? Proxy { get; }
    public NetworkCredential? Credential { get; }
    public IReadOnlyList<NoProxyEntry> NoProxy { get; }

    /// <summary>The proxy a request to <paramref name="destination"/> goes through, or null for direct.</summary>
    public Uri? ProxyFor(Uri destination) =>
        Proxy is null || Loopback.IsLoopback(destination) || NoProxy.Any(entry => entry.Matches(destination)) ? null : Proxy;

    public static ProxyRules From(SettingsSnapshot settings)
    {
        var proxy = ProxySettings.ParseUrl(settings.Get(ProxySettings.Url));
        if (proxy is null)
        {
            return Direct;
        }

        var user = settings.Get(ProxySettings.UserName);
        var credential = user.Length == 0 ? null : new NetworkCredential(user, settings.GetSecret(ProxySettings.Password) ?? "");
        var noProxy = new List<NoProxyEntry>();
        foreach (var text in SettingValues.SplitList(settings.Get(ProxySettings.NoProxy)))
        {
            if (NoProxyEntry.TryParse(text, out var entry) is null)
            {
                noProxy.Add(entry!);
            }
        }

        return new ProxyRules(proxy, credential, noProxy);
    }
}

/// <summary>
/// The <see cref="IWebProxy"/> of every outbound HttpClient (providers, OIDC profiles, client certificates, web
/// services, Graph). It reads the current settings for each request, so a change of proxy, credentials or no-proxy
/// list applies at the next request, without a restart and without rebuilding the pooled handlers: SocketsHttpHandler
/// asks the proxy for every request and keeps separate connection pools per proxy.
/// </summary>
public sealed class OutboundProxy(SettingsStore settings) : IWebProxy, ICredentials
{
    private sealed record Parsed(SettingsSnapshot From, ProxyRules Rules);

    private volatile Parsed? _parsed;

    /// <summary>
    /// The rules from the current settings (re-read at most every <see cref="SettingsStore.MaxAge"/>). Every outbound
    /// request passes <see cref="ProxyFailureHandler"/>, which calls this before the request goes out, so the synchronous
    /// <see cref="IWebProxy"/> members below only read what it left.
    /// </summary>
    /// <exception cref="ProxyFailureException">the stored proxy settings cannot be used (the message names them)</exception>
    public async ValueTask<ProxyRules> CurrentAsync(CancellationToken cancellationToken)
    {
        var snapshot = await settings.GetAsync(cancellationToken);
        var parsed = _parsed;
        if (parsed is null || !ReferenceEquals(parsed.From, snapshot))
        {
            _parsed = parsed = new Parsed(snapshot, Parse(snapshot));
        }

        return parsed.Rules;
    }

    /// <summary>What <see cref="CurrentAsync"/> last read; loaded now (blocking, once) when nothing was read yet.</summary>
    public ProxyRules Current() => _parsed?.Rules ?? CurrentAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();

    private static ProxyRules Parse(SettingsSnapshot snapshot)
    {
        try
        {
            return ProxyRules.From(snapshot);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Note: fail closed: a request must not go out direct because the proxy settings could not be read (a
            // password written with another master key, a value edited in the database).
            throw new ProxyFailureException(
                $"The outbound proxy settings (Proxy.Url, Proxy.UserName, Proxy.Password) cannot be used: {ex.Message} Enter them again in Settings.", ex);
        }
    }

    public Uri? GetProxy(Uri destination) => Current().ProxyFor(destination);

    public bool IsBypassed(Uri host) => Current().ProxyFor(host) is null;

    /// <summary>
    /// Always this object: SocketsHttpHandler reads the proxy's credentials once, when it is built, so they are
    /// looked up in the current settings when a proxy asks (HTTP 407).
    /// </summary>
    public ICredentials? Credentials
    {
        get => this;
        set => throw new NotSupportedException("The proxy credentials come from the settings Proxy.UserName and Proxy.Password.");
    }

    public NetworkCredential? GetCredential(Uri uri, string authType) => Current().Credential;

    /// <summary>Applies the proxy to a primary handler.</summary>
    public SocketsHttpHandler Apply(SocketsHttpHandler handler)
    {
        handler.UseProxy = true;
        handler.Proxy = this;
        return handler;
    }
}

/// <summary>
/// Says when a failure was the proxy's, naming it: a proxy that cannot be reached, refuses the tunnel (403, 502) or
/// asks for credentials (407). Without it an admin would read "idp.example.com refused the connection" while the
/// provider was never contacted. Sits just above the primary handler (under the retries).
/// </summary>
public sealed class ProxyFailureHandler(OutboundProxy proxy) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var rules = await proxy.CurrentAsync(cancellationToken);
        var through = request.RequestUri is { } uri ? rules.ProxyFor(uri) : null;
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex) when (through is not null && ProxyFailureException.Describe(ex, through, request.RequestUri!, rules) is { } message)
        {
            throw new ProxyFailureException(message, ex);
        }

        if (through is not null && response.StatusCode == HttpStatusCode.ProxyAuthenticationRequired)
        {
            // Note: an http (not https) request goes through the proxy as a plain request, so a 407 comes back as an
            // answer rather than an exception; it is the proxy's, never the destination's.
            response.Dispose();
            throw new ProxyFailureException(ProxyFailureException.AuthenticationMessage(through, rules), null, HttpStatusCode.ProxyAuthenticationRequired);
        }

        return response;
    }
}

/// <summary>A failure of the outbound proxy, not of the destination; the message names the proxy.</summary>
public sealed partial class ProxyFailureException(string message, Exception? inner, HttpStatusCode? status = null)
    : HttpRequestException(HttpRequestError.ProxyTunnelError, message, inner, status)
{
    internal static string AuthenticationMessage(Uri proxy, ProxyRules rules) => rules.Credential is null
        ? $"The proxy {proxy.Authority} asks for a user name and password (HTTP 407): set Proxy user name and Proxy password in Settings."
        : $"The proxy {proxy.Authority} refused the proxy user name '{rules.Credential.UserName}' and its password (HTTP 407).";

    /// <summary>The proxy's part of a failure, or null when the failure came from the destination (TLS, a reset answer).</summary>
    internal static string? Describe(HttpRequestException exception, Uri proxy, Uri destination, ProxyRules rules)
    {
        var reason = exception.InnerException?.Message ?? exception.Message;
        var tunnelStatus = exception.StatusCode ?? TunnelStatus(exception.Message);
        return exception.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => $"The proxy {proxy.Authority} could not be reached: its host name could not be resolved (DNS).",
            HttpRequestError.ConnectionError => $"The proxy {proxy.Authority} could not be reached: {reason}",
            HttpRequestError.ProxyTunnelError when tunnelStatus == HttpStatusCode.ProxyAuthenticationRequired => AuthenticationMessage(proxy, rules),
            HttpRequestError.ProxyTunnelError when tunnelStatus is { } status =>
                $"The proxy {proxy.Authority} refused to connect to {destination.Authority}: HTTP {(int)status} {ReasonPhrase(status)}.",
            HttpRequestError.ProxyTunnelError => $"The proxy {proxy.Authority} failed to connect to {destination.Authority}: {exception.Message}",
            _ => null,
        };
    }

    /// <summary>
    /// The status of a refused CONNECT. Note: SocketsHttpHandler puts it only in the message ("… failed with status code
    /// '403'."), not in <see cref="HttpRequestException.StatusCode"/>.
    /// </summary>
    private static HttpStatusCode? TunnelStatus(string message) =>
        TunnelStatusPattern().Match(message) is { Success: true } match ? (HttpStatusCode)int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : null;

    [System.Text.RegularExpressions.GeneratedRegex(@"status code '(\d{3})'")]
    private static partial System.Text.RegularExpressions.Regex TunnelStatusPattern();

    private static string ReasonPhrase(HttpStatusCode status) => new HttpResponseMessage(status).ReasonPhrase ?? "";
}
