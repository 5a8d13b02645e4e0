using System.Net;

namespace TokenAdmin.Hosting;

/// <summary>
/// The address sign-in limits, sign-in delays and API limits count against.
/// <para>
/// Behind a trusted reverse proxy the forwarded headers middleware replaces the connection's address with the one the
/// proxy forwarded. Any process on the proxy's host (by default 127.0.0.1 is trusted) can send the same header with
/// an address of its choice. So the key is "client via peer" (a forwarded address only counts together with the proxy
/// that forwarded it), and everything that arrives through one peer is also counted together (<see cref="PeerKey"/>,
/// TokenAdmin:SignIn:ProxyPostsPerMinute): forging fresh addresses from the proxy host does not buy fresh attempts.
/// Such a process can still pose as one client it names; docs/security.md says why the proxy host must be trusted.
/// </para>
/// </summary>
public static class ClientAddress
{
    /// <summary>The connection's own address, recorded before forwarded headers are applied.</summary>
    private sealed record PeerFeature(IPAddress? Address);

    /// <summary>Runs first in the pipeline: keeps the address the connection really came from.</summary>
    public static IApplicationBuilder UsePeerAddress(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        context.Features.Set(new PeerFeature(context.Connection.RemoteIpAddress));
        return next(context);
    });

    /// <summary>The connection's own address (the proxy's, when the call came through one).</summary>
    public static string PeerKey(HttpContext context) =>
        Text(context.Features.Get<PeerFeature>() is { } peer ? peer.Address : context.Connection.RemoteIpAddress);

    /// <summary>True when the client address was taken from a forwarded header of a trusted proxy.</summary>
    public static bool IsForwarded(HttpContext context) =>
        context.Features.Get<PeerFeature>() is { } peer && !Equals(Normalize(peer.Address), Normalize(context.Connection.RemoteIpAddress));

    /// <summary>The client's key: its address, or "address via proxy" when a trusted proxy forwarded it.</summary>
    public static string Key(HttpContext context)
    {
        var client = Text(context.Connection.RemoteIpAddress);
        return IsForwarded(context) ? $"{client} via {PeerKey(context)}" : client;
    }

    private static IPAddress? Normalize(IPAddress? address) => address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;

    private static string Text(IPAddress? address) => Normalize(address)?.ToString() ?? "unknown";
}
