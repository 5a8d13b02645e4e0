using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Tests.Oidc;
using TokenAdmin.WebServices;

namespace TokenAdmin.Tests.WebServices;

/// <summary>The account test base (app, test identity provider, signed-in admin) plus a loopback echo server to call.</summary>
public abstract class WebServiceTestBase : AccountTestBase
{
    protected EchoServer Echo { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Echo = await EchoServer.StartAsync();
    }

    public override async Task DisposeAsync()
    {
        await Echo.DisposeAsync();
        await base.DisposeAsync();
    }

    /// <summary>A web service at the echo server, saved through the service as the pages do.</summary>
    protected async Task<int> CreateWebServiceAsync(string name = "crm", Action<WebServiceInput>? change = null)
    {
        var input = new WebServiceInput { Name = name, BaseUrl = Echo.BaseUrl + "/api" };
        change?.Invoke(input);
        using var scope = App.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<WebServiceService>().CreateAsync(input, "test", default);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => $"{e.Key}: {e.Value}")));
        return result.Id;
    }

    protected async Task<int> CreateInvokerAsync(int webServiceId, string name = "create-ticket", string method = "POST", string path = "/tickets", int? timeout = null)
    {
        using var scope = App.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<WebServiceService>()
            .CreateInvokerAsync(webServiceId, new InvokerInput { Name = name, Method = method, Path = path, TimeoutSeconds = timeout }, "test", default);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => $"{e.Key}: {e.Value}")));
        return result.Id;
    }

    protected async Task<InvokeResult> InvokeAsync(string webService, string invoker, string? body = null, Dictionary<string, string>? values = null, Dictionary<string, string>? query = null)
    {
        using var scope = App.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<IWebServiceInvoker>()
            .InvokeAsync(webService, invoker, new InvokeRequest(values ?? [], body, query, "test"), default);
    }

    protected async Task<InvokeException> InvokeFailsAsync(string webService, string invoker, string? body = null, Dictionary<string, string>? values = null) =>
        await Assert.ThrowsAsync<InvokeException>(() => InvokeAsync(webService, invoker, body, values));
}
