using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TokenAdmin.Tests.Infrastructure;

/// <summary>
/// A real HTTP server on 127.0.0.1 that misbehaves on purpose, per path: stalls after the headers, trickles its body,
/// redirects, answers oversized documents, or answers normally. Every request that reaches it is counted, so a test
/// can show that a redirect target received nothing.
/// </summary>
public sealed class MisbehavingServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, Func<HttpContext, CancellationToken, Task>> _routes = new(StringComparer.Ordinal);

    private MisbehavingServer(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    /// <summary>Method and path of every request that reached this server, in order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public static async Task<MisbehavingServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new MisbehavingServer(app);
        app.Run(async context =>
        {
            server.Requests.Enqueue($"{context.Request.Method} {context.Request.Path}");
            // Note: a stalled answer ends when the client gives up or when the test disposes the server, never later.
            using var both = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, server._stopping.Token);
            if (server._routes.TryGetValue(context.Request.Path.Value ?? "/", out var answer))
            {
                try
                {
                    await answer(context, both.Token);
                }
                catch (OperationCanceledException) when (both.IsCancellationRequested)
                {
                    context.Abort();
                }
            }
            else
            {
                context.Response.StatusCode = 404;
            }
        });
        await app.StartAsync();
        server.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return server;
    }

    public string Url(string path) => BaseUrl + path;

    /// <summary>What the server answers on <paramref name="path"/> from now on.</summary>
    public void On(string path, Func<HttpContext, CancellationToken, Task> answer) => _routes[path] = answer;

    /// <summary>A JSON answer with this status.</summary>
    public static Func<HttpContext, CancellationToken, Task> Json(string body, int status = 200) => async (context, cancellationToken) =>
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body, cancellationToken);
    };

    /// <summary>200 and JSON headers at once, then nothing at all.</summary>
    public static Func<HttpContext, CancellationToken, Task> SilentAfterHeaders() => async (context, cancellationToken) =>
    {
        await StartJsonAsync(context, cancellationToken);
        await Task.Delay(Timeout.Infinite, cancellationToken);
    };

    /// <summary>200 and JSON headers at once, then one byte of a never-ending JSON body every <paramref name="every"/>.</summary>
    public static Func<HttpContext, CancellationToken, Task> TrickleAfterHeaders(TimeSpan every) => async (context, cancellationToken) =>
    {
        await StartJsonAsync(context, cancellationToken);
        await context.Response.Body.WriteAsync("{"u8.ToArray(), cancellationToken);
        await context.Response.Body.FlushAsync(cancellationToken);
        while (true)
        {
            await Task.Delay(every, cancellationToken);
            await context.Response.Body.WriteAsync(" "u8.ToArray(), cancellationToken);
            await context.Response.Body.FlushAsync(cancellationToken);
        }
    };

    /// <summary>A redirect (307 keeps the method and the body: a client that follows it posts the form again).</summary>
    public static Func<HttpContext, CancellationToken, Task> Redirect(string location, int status = 307) => (context, _) =>
    {
        context.Response.StatusCode = status;
        context.Response.Headers.Location = location;
        return Task.CompletedTask;
    };

    /// <summary>A JSON object of about <paramref name="bytes"/> bytes: <paramref name="members"/> plus one long padding member.</summary>
    public static string PaddedJson(string members, int bytes)
    {
        var json = new StringBuilder("{").Append(members).Append(members.Length > 0 ? "," : "").Append("\"padding\":\"");
        json.Append('x', Math.Max(0, bytes - json.Length - 2)).Append("\"}");
        return json.ToString();
    }

    private static async Task StartJsonAsync(HttpContext context, CancellationToken cancellationToken)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await context.Response.StartAsync(cancellationToken);
        await context.Response.Body.FlushAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
        _stopping.Dispose();
    }
}
