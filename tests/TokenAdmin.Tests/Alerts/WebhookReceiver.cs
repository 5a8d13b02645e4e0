using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.Tests.Alerts;

/// <summary>
/// A webhook receiver on 127.0.0.1, written the way an integrator would write one from docs/operations.md: it checks
/// the HMAC-SHA256 signature over timestamp + "." + body with the shared secret, refuses a wrong one with 401, and
/// keeps each alert it accepted (deduplicated by event id, as the docs tell receivers to). Its answer can be made to
/// fail on purpose (500, no answer).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    public const string Path = "/hook";
    private readonly MisbehavingServer _server;
    private readonly SemaphoreSlim _arrived = new(0);

    private WebhookReceiver(MisbehavingServer server, string secret)
    {
        _server = server;
        Secret = secret;
        server.On(Path, ReceiveAsync);
    }

    public string Secret { get; }
    public string Url => _server.Url(Path);

    /// <summary>Every request, accepted or not, in order (headers checked or not).</summary>
    public ConcurrentQueue<string> Attempts { get; } = new();

    /// <summary>Accepted alerts with a good signature, at most one per event id, in order.</summary>
    public ConcurrentQueue<JsonElement> Accepted { get; } = new();

    /// <summary>Requests whose signature did not check out.</summary>
    public int BadSignatures => _badSignatures;

    /// <summary>Deliveries of an event id already accepted (at-least-once duplicates).</summary>
    public int Duplicates => _duplicates;

    /// <summary>What the receiver does with the next request(s); null: accept.</summary>
    public Func<HttpContext, CancellationToken, Task>? Fault { get; set; }

    private readonly ConcurrentDictionary<string, bool> _seen = new(StringComparer.Ordinal);
    private int _badSignatures;
    private int _duplicates;

    public static async Task<WebhookReceiver> StartAsync(string secret = "webhook-secret-0123456789") =>
        new(await MisbehavingServer.StartAsync(), secret);

    /// <summary>Waits (bounded) until <paramref name="count"/> alerts have been accepted.</summary>
    public async Task<IReadOnlyList<JsonElement>> WaitForAsync(int count, TimeSpan bound)
    {
        using var cts = new CancellationTokenSource(bound);
        try
        {
            while (Accepted.Count < count)
            {
                await _arrived.WaitAsync(cts.Token);
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Waited {bound.TotalSeconds} s for {count} alert(s); {Accepted.Count} accepted, {Attempts.Count} attempt(s): {string.Join(" | ", Attempts)}");
        }

        return [.. Accepted];
    }

    private async Task ReceiveAsync(HttpContext context, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(cancellationToken);
        Attempts.Enqueue(body);
        if (Fault is { } fault)
        {
            await fault(context, cancellationToken);
            _arrived.Release();
            return;
        }

        var timestamp = context.Request.Headers["X-TokenAdmin-Timestamp"].ToString();
        var signature = context.Request.Headers["X-TokenAdmin-Signature"].ToString();
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(timestamp + "." + body)));
        var fresh = long.TryParse(timestamp, out var seconds) && Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - seconds) < 300;
        if (!fresh || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature)))
        {
            Interlocked.Increment(ref _badSignatures);
            context.Response.StatusCode = 401;
            _arrived.Release();
            return;
        }

        var alert = JsonDocument.Parse(body).RootElement.Clone();
        var id = alert.GetProperty("id").GetString()!;
        Assert.Equal(id, context.Request.Headers["X-TokenAdmin-Event"].ToString());
        if (_seen.TryAdd(id, true))
        {
            Accepted.Enqueue(alert);
        }
        else
        {
            Interlocked.Increment(ref _duplicates);
        }

        context.Response.StatusCode = 204;
        _arrived.Release();
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _arrived.Dispose();
    }
}
