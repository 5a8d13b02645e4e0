using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.Tests.Security;

/// <summary>
/// The real host whose connections come from the address in the test-only header <see cref="PeerHeader"/> (the
/// in-process test server has no network peer). It runs before everything else in the pipeline, forwarded headers
/// included, so a test can be "a client on the internet" or "a process on the proxy host" (127.0.0.1).
/// </summary>
public sealed class PeerAddressFactory : TokenAdminFactory
{
    public const string PeerHeader = "X-Test-Peer";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(s => s.AddTransient<IStartupFilter, PeerStartupFilter>());
    }

    /// <summary>A browser (cookies, no redirects) whose every request comes from <paramref name="peer"/>.</summary>
    public HttpClient BrowserFrom(string peer)
    {
        var browser = CreateBrowser();
        browser.DefaultRequestHeaders.Add(PeerHeader, peer);
        return browser;
    }

    private sealed class PeerStartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (context.Request.Headers.TryGetValue(PeerHeader, out var peer) && IPAddress.TryParse(peer.ToString(), out var address))
                {
                    context.Connection.RemoteIpAddress = address;
                    context.Request.Headers.Remove(PeerHeader);
                }

                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
