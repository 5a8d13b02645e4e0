namespace TokenAdmin.Oidc;

public static class OidcServices
{
    /// <summary>OIDC profiles: their per-profile HttpClient and discovery/JWKS cache, and the service the pages use.</summary>
    public static IServiceCollection AddOidcProfiles(this IServiceCollection services)
    {
        services.AddSingleton<OidcProfileRuntime>();
        services.AddScoped<OidcProfileService>();
        return services;
    }
}
