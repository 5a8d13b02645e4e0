using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TokenAdmin.Tests.WebServices;

/// <summary>One request as the echo server saw it.</summary>
public sealed record EchoedRequest(string Method, string RawTarget, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// A real HTTP server on loopback (Kestrel, port 0) that a web service calls in tests. It checks the Authorization
/// header with <see cref="Authorize"/> (401 when refused) and answers 200 with everything it received as JSON,
/// the Authorization header included, so tests can see that the debugger removes echoed secrets too.
/// </summary>
public sealed class EchoServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EchoServer(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";
    public ConcurrentQueue<EchoedRequest> Requests { get; } = new();
    /// <summary>Gets the Authorization header (or null); false answers 401.</summary>
    public Func<string?, bool> Authorize { get; set; } = _ => true;
    /// <summary>Answer with this status (and a short text) instead of the echo; null: echo.</summary>
    public int? Status { get; set; }
    /// <summary>How long to wait before answering (bounded by the client going away).</summary>
    public TimeSpan Delay { get; set; }
    /// <summary>Extra JSON properties in the answer, e.g. a secret the debugger must mask.</summary>
    public Dictionary<string, string> ExtraAnswer { get; } = [];
    /// <summary>Extra response headers (e.g. Set-Cookie), and request headers sent back as response headers.</summary>
    public Dictionary<string, string> ExtraHeaders { get; } = [];
    public List<string> EchoHeaders { get; } = [];

    public static async Task<EchoServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new EchoServer(app);
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            var raw = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
            server.Requests.Enqueue(new EchoedRequest(context.Request.Method, raw, headers, body));
            if (server.Delay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(server.Delay, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            if (server.Status is { } status)
            {
                context.Response.StatusCode = status;
                await context.Response.WriteAsync("broken on purpose", context.RequestAborted);
                return;
            }

            if (!server.Authorize(context.Request.Headers.Authorization.FirstOrDefault()))
            {
                context.Response.StatusCode = 401;
                context.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
                return;
            }

            context.Response.ContentType = "application/json";
            context.Response.Headers["X-Echo"] = "yes";
            foreach (var (key, value) in server.ExtraHeaders)
            {
                context.Response.Headers[key] = value;
            }

            foreach (var name in server.EchoHeaders.Where(headers.ContainsKey))
            {
                context.Response.Headers[name] = headers[name];
            }

            var answer = new Dictionary<string, object?> { ["method"] = context.Request.Method, ["target"] = raw, ["headers"] = headers, ["body"] = body };
            foreach (var (key, value) in server.ExtraAnswer)
            {
                answer[key] = value;
            }

            await context.Response.WriteAsync(JsonSerializer.Serialize(answer), context.RequestAborted);
        });
        await app.StartAsync();
        server.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
