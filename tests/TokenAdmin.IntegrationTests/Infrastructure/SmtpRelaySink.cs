using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TokenAdmin.IntegrationTests.Infrastructure;

/// <summary>
/// The next hop Dovecot's submission service relays accepted mail to: a minimal SMTP receiver on 127.0.0.1 that keeps
/// what it receives. It checks nothing; the server under test is Dovecot, which authenticates the sender's token
/// before relaying. (Dovecot's LMTP cannot be the relay: the submission relay speaks SMTP, and LMTP refuses EHLO.)
/// </summary>
public sealed class SmtpRelaySink : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public SmtpRelaySink()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Each relayed message: envelope recipients and the DATA text.</summary>
    public ConcurrentQueue<(IReadOnlyList<string> Recipients, string Data)> Received { get; } = new();

    private readonly SemaphoreSlim _arrived = new(0);

    /// <summary>Waits (bounded) until <paramref name="count"/> messages have arrived in all.</summary>
    public async Task WaitForAsync(int count, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (Received.Count < count)
        {
            await _arrived.WaitAsync(cts.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
        _arrived.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.Latin1);
            using var writer = new StreamWriter(stream, Encoding.Latin1) { NewLine = "\r\n", AutoFlush = true };
            await writer.WriteLineAsync("220 sink.test ESMTP");
            var recipients = new List<string>();
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                var verb = line.Split(' ', 2)[0].ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO":
                        await writer.WriteLineAsync("250-sink.test\r\n250 8BITMIME");
                        break;
                    case "RCPT":
                        recipients.Add(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim());
                        await writer.WriteLineAsync("250 2.1.5 OK");
                        break;
                    case "DATA":
                        await writer.WriteLineAsync("354 Go ahead");
                        var data = new StringBuilder();
                        while (await reader.ReadLineAsync(_stop.Token) is { } dataLine && dataLine != ".")
                        {
                            data.Append(dataLine.StartsWith("..", StringComparison.Ordinal) ? dataLine[1..] : dataLine).Append("\r\n");
                        }

                        Received.Enqueue(([.. recipients], data.ToString()));
                        recipients.Clear();
                        _arrived.Release();
                        await writer.WriteLineAsync("250 2.0.0 Queued");
                        break;
                    case "QUIT":
                        await writer.WriteLineAsync("221 2.0.0 Bye");
                        return;
                    default:
                        // MAIL, RSET, NOOP, XCLIENT and anything else: accepted.
                        await writer.WriteLineAsync("250 2.0.0 OK");
                        break;
                }
            }
        }
    }
}
