using TokenAdmin.Providers;
using TokenAdmin.Settings;

namespace TokenAdmin.Tokens;

public static class TokenServices
{
    /// <summary>
    /// Token configs (YAML, templates, import and export) and the token engine that every kind of token source uses
    /// (it needs <see cref="ProviderServices.AddProviders"/>). Each kind registers itself as an <see cref="ITokenSourceKind"/>; token configs here.
    /// </summary>
    public static IServiceCollection AddTokens(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettingGroup(CredentialSettings.Group);
        services.AddSingleton<TokenStateEvents>();
        services.AddSingleton<TokenMetrics>();
        services.AddSingleton<TokenEndpointClient>();
        services.AddSingleton<ClientCertificateHttp>();

        services.AddScoped<TokenConfigService>();
        services.AddScoped<TokenConfigTransfer>();
        services.AddSingleton<TokenConfigSources>();
        services.AddSingleton<ITokenSourceKind>(sp => sp.GetRequiredService<TokenConfigSources>());
        services.AddScoped<TokenSourcePicker>();

        services.AddSingleton<TokenSourceKinds>();
        services.AddScoped<TokenStateWriter>();
        services.AddScoped<TokenEngine>();
        services.AddScoped<AuthorizationFlow>();
        services.AddScoped<TokenDiagnostics>();
        services.AddOptions<DeviceFlowOptions>().Bind(configuration.GetSection(DeviceFlowOptions.Section));
        services.AddSingleton<DeviceSignIns>();
        return services;
    }
}
