using Microsoft.Extensions.Options;

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
        services.AddHttpClient(ProviderHttp.ClientName)
            .ConfigurePrimaryHttpMessageHandler(ProviderHttp.CreateHandler)
            .ConfigureHttpClient((sp, c) => c.Timeout = ProviderHttp.ClientTimeout(sp.GetRequiredService<IOptions<ProviderHttpOptions>>().Value))
            .AddResilienceHandler("provider-retries", (pipeline, context) =>
                ProviderHttp.ConfigureRetries(pipeline, context.ServiceProvider.GetRequiredService<IOptions<ProviderHttpOptions>>().Value));
        services.AddSingleton<OidcDiscoveryReader>();
        services.AddSingleton<ProviderMetadataCache>();
        return services;
    }
}
