using System.Net;
using TokenAdmin.Settings;

namespace TokenAdmin.Providers;

/// <summary>
/// The outbound HTTP proxy for calls to providers (token endpoints, discovery, JWKS), Microsoft Graph and web services.
/// Read at every request by <see cref="OutboundProxy"/>, so a change applies without a restart.
/// </summary>
public static class ProxySettings
{
    public const string Url = "Proxy.Url";
    public const string UserName = "Proxy.UserName";
    public const string Password = "Proxy.Password";
    public const string NoProxy = "Proxy.NoProxy";
    public const string GroupName = "Outbound HTTP proxy";

    public static SettingGroup Group { get; } = new(GroupName,
    [
        new(Url, GroupName, "Proxy URL",
            "The proxy that outgoing calls to providers, Microsoft Graph and web services go through, as http://host:port (for example http://proxy.corp.example:3128). " +
            "https addresses are tunnelled with CONNECT; the proxy itself is spoken to in plain http. Empty: every call goes direct. " +
            "Calls to this machine (localhost, 127.0.0.0/8, ::1) always go direct.",
            "", Validate: CheckUrl),
        new(UserName, GroupName, "Proxy user name",
            "For a proxy that asks for a user name and password (HTTP 407 with Basic). Empty: no credentials are sent.",
            "", Validate: CheckUserName),
        new(Password, GroupName, "Proxy password",
            "Stored encrypted. Leave empty to keep the stored password.", "", SettingKind.Secret, Validate: CheckPassword),
        new(NoProxy, GroupName, "No proxy for",
            "Hosts reached directly, separated by spaces or commas: host names (idp.corp.example), domains with a leading dot " +
            "(.corp.example: the domain and every host under it), IP addresses (10.1.2.3) and networks (10.0.0.0/8, fd00::/8). " +
            "Addresses match only URLs that name the address, not host names that resolve to it.",
            "", Validate: CheckNoProxy),
    ], CheckCombination);

    /// <summary>The proxy address from a valid setting, or null for none.</summary>
    public static Uri? ParseUrl(string value) => value.Length == 0 ? null : new Uri(value, UriKind.Absolute);

    private static string? CheckUrl(string value)
    {
        if (value.Length == 0)
        {
            return null;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
        {
            return "Proxy URL must be an address such as http://proxy.corp.example:3128.";
        }

        if (uri.Scheme == "https")
        {
            return "Proxy URL must start with http://: TokenAdmin speaks plain http to the proxy and tunnels https through it with CONNECT (https proxies are not supported).";
        }

        if (uri.Scheme != "http")
        {
            return $"Proxy URL must start with http:// ({uri.Scheme}:// proxies such as SOCKS are not supported).";
        }

        if (uri.UserInfo.Length > 0)
        {
            return "Proxy URL must not contain a user name or password: enter them as Proxy user name and Proxy password (the password is stored encrypted).";
        }

        if (uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            return "Proxy URL must be just http://host:port, without a path, query or #fragment.";
        }

        return null;
    }

    private static string? CheckUserName(string value) =>
        value.Contains(':', StringComparison.Ordinal) ? "Proxy user name must not contain a colon (Basic authentication cannot carry it)."
        : value.Any(char.IsControl) ? "Proxy user name must not contain control characters."
        : value.Length > 200 ? "Proxy user name is longer than 200 characters."
        : null;

    private static string? CheckPassword(string value) =>
        value.Any(char.IsControl) ? "Proxy password must not contain control characters." : null;

    private static string? CheckNoProxy(string value)
    {
        var bad = SettingValues.SplitList(value).Where(entry => NoProxyEntry.TryParse(entry, out _) is not null).ToList();
        return bad.Count == 0
            ? null
            : $"No proxy for: {string.Join(", ", bad.Select(b => $"'{b}'"))} {(bad.Count == 1 ? "is" : "are")} not a host name, .domain, IP address or network such as 10.0.0.0/8 (no ports, no URLs).";
    }

    private static void CheckCombination(Func<string, string> after, Func<string, bool> secretAfter, IDictionary<string, string> errors)
    {
        var hasUrl = after(Url).Length > 0;
        var hasUser = after(UserName).Length > 0;
        if (secretAfter(Password) && !hasUser)
        {
            errors.TryAdd(Password, "Proxy password is set but Proxy user name is empty: enter the user name, or remove the password.");
        }

        if (hasUser && !hasUrl)
        {
            errors.TryAdd(UserName, "Proxy user name is set but Proxy URL is empty: enter the proxy's address, or remove the user name.");
        }
    }
}

/// <summary>One entry of the no-proxy list: a host, a domain (leading dot or *.) or an IP network.</summary>
public sealed record NoProxyEntry(string? Host, string? Domain, IPNetwork? Network)
{
    /// <summary>Parses an entry; returns an error (non-null) when it is none of the accepted forms.</summary>
    public static string? TryParse(string text, out NoProxyEntry? entry)
    {
        entry = null;
        var value = text.Trim().ToLowerInvariant();
        if (value.StartsWith("*.", StringComparison.Ordinal))
        {
            value = value[1..];
        }

        if (IPAddress.TryParse(value.Trim('[', ']'), out var address))
        {
            entry = new NoProxyEntry(null, null, new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
            return null;
        }

        if (value.Contains('/', StringComparison.Ordinal))
        {
            if (IPNetwork.TryParse(value, out var network))
            {
                entry = new NoProxyEntry(null, null, network);
                return null;
            }

            return "not a network";
        }

        var domain = value.StartsWith('.');
        var name = domain ? value[1..] : value;
        if (name.Length == 0 || Uri.CheckHostName(name) != UriHostNameType.Dns)
        {
            return "not a host name";
        }

        entry = domain ? new NoProxyEntry(null, name, null) : new NoProxyEntry(name, null, null);
        return null;
    }

    public bool Matches(Uri destination)
    {
        var host = destination.IdnHost.Trim('[', ']').TrimEnd('.').ToLowerInvariant();
        if (Network is { } network)
        {
            return IPAddress.TryParse(host, out var ip) && network.Contains(ip);
        }

        if (Domain is { } domain)
        {
            return host == domain || host.EndsWith("." + domain, StringComparison.Ordinal);
        }

        return host == Host;
    }
}
