using System.Net;

namespace TokenAdmin.Settings;

/// <summary>"This machine": where plain http is harmless (nothing crosses a network).</summary>
public static class Loopback
{
    public static bool IsLoopbackHost(string host)
    {
        host = host.Trim('[', ']');
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }

    public static bool IsLoopback(Uri uri) => IsLoopbackHost(uri.Host);
}
