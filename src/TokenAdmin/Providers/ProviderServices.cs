using Microsoft.Extensions.Options;
using TokenAdmin.Settings;

namespace TokenAdmin.Providers;

public static class ProviderServices
{
    /// <summary>
    /// Talking to OAuth2 / OpenID providers, for the token engine and for OIDC profiles alike: the shared provider
    /// HttpClient (deadline, no redirects, retries), discovery documents and keys of token configs, JWT checks.
    /// </summary>
    public static IServiceCollection AddProviders(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<ProviderHttpOptions>(configuration.GetSection("TokenAdmin:Providers"));
        services.AddSettingGroup(ProxySettings.Group);
        services.AddSingleton<OutboundProxy>();
        services.AddTransient<ProxyFailureHandler>();
        services.AddHttpClient(ProviderHttp.ClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => ProviderHttp.CreateHandler(sp.GetRequiredService<OutboundProxy>()))
            .AddHttpMessageHandler<ProxyFailureHandler>()
            .ConfigureHttpClient((sp, c) => c.Timeout = ProviderHttp.ClientTimeout(sp.GetRequiredService<IOptions<ProviderHttpOptions>>().Value))
            .AddResilienceHandler("provider-retries", (pipeline, context) =>
                ProviderHttp.ConfigureRetries(pipeline, context.ServiceProvider.GetRequiredService<IOptions<ProviderHttpOptions>>().Value));
        services.AddSingleton<OidcDiscoveryReader>();
        services.AddSingleton<ProviderMetadataCache>();
        return services;
    }
}
