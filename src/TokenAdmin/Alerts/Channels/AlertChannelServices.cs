namespace TokenAdmin.Alerts.Channels;

public static class AlertChannelServices
{
    /// <summary>Alert channels (email, webhook), the sender and the history; the dispatcher is added by <see cref="AddAlertDispatcher"/>.</summary>
    public static IServiceCollection AddAlertChannels(this IServiceCollection services)
    {
        services.AddHttpClient(AlertSender.HttpClientName)
            // Note: no redirects (a receiver cannot bounce a signed alert elsewhere) and no client timeout: the
            // delivery's own deadline covers the whole exchange.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(10) })
            .ConfigureHttpClient(c => c.Timeout = Timeout.InfiniteTimeSpan);
        services.AddSingleton<AlertMetrics>();
        services.AddScoped<AlertSender>();
        services.AddScoped<AlertChannelService>();
        services.AddScoped<AlertScanner>();
        services.AddScoped<AlertDigest>();
        services.AddSingleton<AlertDispatcher>();
        return services;
    }

    /// <summary>Runs the dispatcher in this process (web host only; console verbs only write the outbox).</summary>
    public static IServiceCollection AddAlertDispatcher(this IServiceCollection services) =>
        services.AddHostedService(sp => sp.GetRequiredService<AlertDispatcher>());
}
