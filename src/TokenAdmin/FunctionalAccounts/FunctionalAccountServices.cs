using TokenAdmin.Tokens;

namespace TokenAdmin.FunctionalAccounts;

public static class FunctionalAccountServices
{
    /// <summary>Functional accounts: their service, the API user import, and their kind of token source for the engine.</summary>
    public static IServiceCollection AddFunctionalAccounts(this IServiceCollection services)
    {
        services.AddScoped<FunctionalAccountService>();
        services.AddSingleton<FunctionalAccountSources>();
        services.AddSingleton<ITokenSourceKind>(sp => sp.GetRequiredService<FunctionalAccountSources>());
        return services;
    }
}
