using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TokenAdmin.Tests.Infrastructure;

/// <summary>
/// A real HTTP token endpoint on loopback that answers what the test scripts, for provider behaviour the test
/// identity provider does not show (a refresh response without refresh_token, odd bodies).
/// </summary>
public sealed class ScriptedTokenEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<(int Status, string Body)> _answers = new();

    private ScriptedTokenEndpoint(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";
    public ConcurrentQueue<IReadOnlyDictionary<string, string>> Requests { get; } = new();

    public static async Task<ScriptedTokenEndpoint> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var endpoint = new ScriptedTokenEndpoint(app);
        app.MapPost("/token", async context =>
        {
            var form = await context.Request.ReadFormAsync();
            endpoint.Requests.Enqueue(form.ToDictionary(f => f.Key, f => f.Value.ToString()));
            var (status, body) = endpoint._answers.TryDequeue(out var next) ? next : (500, "no answer scripted");
            context.Response.StatusCode = status;
            context.Response.ContentType = body.StartsWith('{') ? "application/json" : "text/plain";
            await context.Response.WriteAsync(body);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        endpoint.Url = address + "/token";
        return endpoint;
    }

    public void Answer(int status, string body) => _answers.Enqueue((status, body));

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
