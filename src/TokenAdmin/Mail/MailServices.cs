using Quartz;
using TokenAdmin.Providers;
using TokenAdmin.Tokens;
using TokenAdmin.Settings;

namespace TokenAdmin.Mail;

public static class MailServices
{
    /// <summary>Mail accounts, the fetcher and its job, the spool under the data directory, and SMTP sending.</summary>
    public static IServiceCollection AddMail(this IServiceCollection services, IConfiguration configuration, string dataDirectory)
    {
        services.AddSettingGroup(MailSettings.MailGroup).AddSettingGroup(MailSettings.SmtpGroup);
        services.Configure<MailOptions>(configuration.GetSection("TokenAdmin:Mail"));
        services.AddSingleton<MailTls>();
        services.AddSingleton(new MailSpool(Path.Combine(dataDirectory, "mail")));
        services.AddSingleton<MailFetchLocks>();
        services.AddSingleton<MailMetrics>();
        services.AddScoped<MailConnector>();
        // Note: no client timeout: each exchange has its own deadline (GraphMailClient.ExchangeTimeout); no redirects,
        // so the bearer token never follows an answer to another host.
        services.AddHttpClient(GraphMailClient.ClientName)
            .ConfigureHttpClient(c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<OutboundProxy>().Apply(new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                MaxConnectionsPerServer = 16,
            }))
            .AddHttpMessageHandler<ProxyFailureHandler>()
            // Note: four log lines per request (two per message) said nothing a failure's own message does not.
            .RemoveAllLoggers();
        services.AddScoped<GraphMailClient>();
        services.AddScoped<MailFetcher>();
        services.AddScoped<MailAccountService>();
        services.AddScoped<MailTokenSourceUsage>();
        services.AddScoped<ITokenSourceUsage>(sp => sp.GetRequiredService<MailTokenSourceUsage>());
        services.AddScoped<IMailSender, MailSender>();
        services.AddTransient<MailFetchJob>();
        services.AddQuartz(quartz => quartz
            .AddJob<MailFetchJob>(job => job.WithIdentity(MailFetchJob.Key).StoreDurably())
            .AddTrigger(trigger => trigger.ForJob(MailFetchJob.Key).WithIdentity("mail-fetch-every-minute", "TokenAdmin")
                // Note: at second 0 of every minute; the job is never run twice at once (DisallowConcurrentExecution).
                .WithCronSchedule("0 * * * * ?")));
        return services;
    }
}
