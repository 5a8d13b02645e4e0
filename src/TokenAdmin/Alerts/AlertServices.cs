namespace TokenAdmin.Alerts;

public static class AlertServices
{
    /// <summary>The outbox that token sources, mail accounts and the updater write alerts into, and its options.</summary>
    public static IServiceCollection AddAlerts(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<AlertOptions>(configuration.GetSection("TokenAdmin:Alerts"));
        services.AddSingleton<AlertOutbox>();
        return services;
    }
}
