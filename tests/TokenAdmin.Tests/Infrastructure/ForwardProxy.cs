using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TokenAdmin.Tests.Infrastructure;

/// <summary>What the test proxy does with a request.</summary>
public enum ForwardProxyMode { Forward, Forbidden, BadGateway }

/// <summary>One request as the proxy saw it: "CONNECT idp.proxy-test:1234" or "POST http://crm.proxy-test:1234/api".</summary>
public sealed record ProxiedRequest(string Method, string Target, string? ProxyAuthorization);

/// <summary>
/// A real HTTP forward proxy on loopback (port 0): absolute-URI forwarding for http and CONNECT tunnels for https,
/// optional Basic Proxy-Authorization (407 with a challenge otherwise), and a list of what it was asked. Only the host
/// names in <see cref="Hosts"/> are resolved, each to 127.0.0.1: a made-up name such as <c>idp.proxy-test</c> is
/// reachable through the proxy and nowhere else, so a test proves that TokenAdmin went through it even though the
/// destination is on this machine. Every exchange is bounded in time.
/// </summary>
public sealed class ForwardProxy : IAsyncDisposable
{
    private static readonly TimeSpan ConnectionLimit = TimeSpan.FromSeconds(60);
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Task> _connections = [];
    private CancellationTokenSource _drop = new();
    private readonly Task _accepting;

    private ForwardProxy(IEnumerable<string> hosts)
    {
        foreach (var host in hosts)
        {
            Hosts[host] = IPAddress.Loopback;
        }

        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>Starts a proxy that knows <paramref name="hosts"/> (each at 127.0.0.1).</summary>
    public static ForwardProxy Start(params string[] hosts) => new(hosts);

    public ConcurrentDictionary<string, IPAddress> Hosts { get; } = new(StringComparer.OrdinalIgnoreCase);
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public string Url => $"http://127.0.0.1:{Port}";
    public ConcurrentQueue<ProxiedRequest> Requests { get; } = new();
    public ForwardProxyMode Mode { get; set; }
    /// <summary>"user:password" the proxy demands (Basic), or null for none.</summary>
    public string? RequiredCredentials { get; set; }

    /// <summary>Requests that passed authentication and were forwarded or tunnelled.</summary>
    public int Forwarded => _forwarded;
    private int _forwarded;

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _connections.Add(ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, _drop.Token);
        deadline.CancelAfter(ConnectionLimit);
        var ct = deadline.Token;
        try
        {
            var stream = client.GetStream();
            var (head, rest) = await ReadHeadAsync(stream, ct);
            if (head is null)
            {
                return;
            }

            var lines = head.Split("\r\n");
            var parts = lines[0].Split(' ');
            var headers = lines.Skip(1).Where(l => l.Contains(':', StringComparison.Ordinal))
                .Select(l => (Name: l[..l.IndexOf(':', StringComparison.Ordinal)].Trim(), Value: l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()))
                .ToList();
            var authorization = headers.FirstOrDefault(h => h.Name.Equals("Proxy-Authorization", StringComparison.OrdinalIgnoreCase)).Value;
            Requests.Enqueue(new ProxiedRequest(parts[0], parts[1], authorization));

            if (RequiredCredentials is { } required
                && authorization != "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(required)))
            {
                await AnswerAsync(stream, "407 Proxy Authentication Required", "Proxy-Authenticate: Basic realm=\"test proxy\"\r\n", ct);
                return;
            }

            switch (Mode)
            {
                case ForwardProxyMode.Forbidden:
                    await AnswerAsync(stream, "403 Forbidden", "", ct);
                    return;
                case ForwardProxyMode.BadGateway:
                    await AnswerAsync(stream, "502 Bad Gateway", "", ct);
                    return;
            }

            if (parts[0] == "CONNECT")
            {
                var (host, port) = SplitAuthority(parts[1], 443);
                using var upstream = await ConnectAsync(host, port, ct);
                if (upstream is null)
                {
                    await AnswerAsync(stream, "502 Bad Gateway", "", ct);
                    return;
                }

                Interlocked.Increment(ref _forwarded);
                await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 Connection established\r\n\r\n"), ct);
                await PumpAsync(stream, upstream.GetStream(), rest, ct);
            }
            else
            {
                var target = new Uri(parts[1]);
                using var upstream = await ConnectAsync(target.Host, target.Port, ct);
                if (upstream is null)
                {
                    await AnswerAsync(stream, "502 Bad Gateway", "", ct);
                    return;
                }

                Interlocked.Increment(ref _forwarded);
                // Origin form, without the proxy's own headers; one request per connection keeps the relay simple.
                var forwarded = new StringBuilder($"{parts[0]} {target.PathAndQuery} {parts[2]}\r\n");
                foreach (var (name, value) in headers.Where(h => !h.Name.StartsWith("Proxy-", StringComparison.OrdinalIgnoreCase) && !h.Name.Equals("Connection", StringComparison.OrdinalIgnoreCase)))
                {
                    forwarded.Append(name).Append(": ").Append(value).Append("\r\n");
                }

                forwarded.Append("Connection: close\r\n\r\n");
                var upstreamStream = upstream.GetStream();
                await upstreamStream.WriteAsync(Encoding.ASCII.GetBytes(forwarded.ToString()), ct);
                await PumpAsync(stream, upstreamStream, rest, ct);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client or the destination went away, or the connection's time is up.
        }
    }

    /// <summary>Closes every open connection and tunnel, as a restarted proxy would: clients must connect afresh.</summary>
    public void DropConnections()
    {
        var old = Interlocked.Exchange(ref _drop, new CancellationTokenSource());
        old.Cancel();
    }

    private async Task<TcpClient?> ConnectAsync(string host, int port, CancellationToken ct)
    {
        if (!Hosts.TryGetValue(host, out var address))
        {
            return null;
        }

        var upstream = new TcpClient();
        try
        {
            await upstream.ConnectAsync(address, port, ct);
            return upstream;
        }
        catch (SocketException)
        {
            upstream.Dispose();
            return null;
        }
    }

    private static (string Host, int Port) SplitAuthority(string authority, int defaultPort)
    {
        var colon = authority.LastIndexOf(':');
        return colon < 0 ? (authority, defaultPort) : (authority[..colon], int.Parse(authority[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async Task AnswerAsync(NetworkStream stream, string status, string headers, CancellationToken ct) =>
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\n{headers}Content-Length: 0\r\nConnection: close\r\n\r\n"), ct);

    /// <summary>Reads up to the blank line (at most 64 KiB); returns the head and any bytes read after it.</summary>
    private static async Task<(string? Head, byte[] Remainder)> ReadHeadAsync(NetworkStream stream, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), ct);
            if (read == 0)
            {
                return (null, []);
            }

            length += read;
            var end = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                return (Encoding.ASCII.GetString(buffer, 0, end), buffer[(end + 4)..length]);
            }
        }

        return (null, []);
    }

    private static async Task PumpAsync(NetworkStream client, NetworkStream upstream, byte[] rest, CancellationToken ct)
    {
        if (rest.Length > 0)
        {
            await upstream.WriteAsync(rest, ct);
        }

        using var done = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var up = client.CopyToAsync(upstream, done.Token);
        var down = upstream.CopyToAsync(client, done.Token);
        await Task.WhenAny(up, down);
        await done.CancelAsync();
        await Task.WhenAll(up, down).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        await Task.WhenAll(_connections).WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        _stop.Dispose();
    }
}
