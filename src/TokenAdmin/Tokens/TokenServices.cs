using Microsoft.Extensions.Options;

namespace TokenAdmin.Tokens;

public static class TokenServices
{
    /// <summary>
    /// Token configs (YAML, templates, import and export), the provider HttpClient and the token engine that every kind
    /// of token source uses. Each kind registers itself as an <see cref="ITokenSourceKind"/>; token configs here.
    /// </summary>
    public static IServiceCollection AddTokens(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<ProviderHttpOptions>(configuration.GetSection("TokenAdmin:Providers"));
        services.AddHttpClient(ProviderHttp.ClientName)
            .ConfigurePrimaryHttpMessageHandler(ProviderHttp.CreateHandler)
            .ConfigureHttpClient((sp, c) => c.Timeout = ProviderHttp.ClientTimeout(sp.GetRequiredService<IOptions<ProviderHttpOptions>>().Value))
            .AddResilienceHandler("provider-retries", (pipeline, context) =>
                ProviderHttp.ConfigureRetries(pipeline, context.ServiceProvider.GetRequiredService<IOptions<ProviderHttpOptions>>().Value));
        services.AddSingleton<TokenStateEvents>();
        services.AddSingleton<OidcDiscoveryReader>();
        services.AddSingleton<TokenMetrics>();
        services.AddSingleton<TokenEndpointClient>();
        services.AddSingleton<ClientCertificateHttp>();
        services.AddSingleton<ProviderMetadataCache>();

        services.AddScoped<TokenConfigService>();
        services.AddScoped<TokenConfigTransfer>();
        services.AddSingleton<TokenConfigSources>();
        services.AddSingleton<ITokenSourceKind>(sp => sp.GetRequiredService<TokenConfigSources>());

        services.AddSingleton<TokenSourceKinds>();
        services.AddScoped<TokenStateWriter>();
        services.AddScoped<TokenEngine>();
        services.AddScoped<AuthorizationFlow>();
        return services;
    }
}
