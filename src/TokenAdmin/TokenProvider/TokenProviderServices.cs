namespace TokenAdmin.TokenProvider;

public static class TokenProviderServices
{
    /// <summary>The one <see cref="ITokenProvider"/> of the process: mail, web services and the updater get tokens from it.</summary>
    public static IServiceCollection AddTokenProvider(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<TokenProviderOptions>(configuration.GetSection("TokenAdmin:TokenProvider"));
        services.AddSingleton<TokenProviderService>();
        services.AddSingleton<ITokenProvider>(sp => sp.GetRequiredService<TokenProviderService>());
        return services;
    }
}
