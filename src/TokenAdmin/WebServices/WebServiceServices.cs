using Quartz;
using TokenAdmin.Providers;
using TokenAdmin.Tokens;
using TokenAdmin.Settings;

namespace TokenAdmin.WebServices;

public static class WebServiceServices
{
    /// <summary>Web services and invokers, the outgoing HttpClient with its bearer handler, and the call debugger with its purge job.</summary>
    public static IServiceCollection AddWebServices(this IServiceCollection services)
    {
        services.AddSettingGroup(DebuggerSettings.Group);
        // API users are imported by the API and by the console verb import-user alike.
        services.AddScoped<Api.ApiUserImporter>();
        services.AddSingleton<CallRecorder>();
        services.AddSingleton<CallHealth>();
        services.AddSingleton<ICallRecorder>(sp => sp.GetRequiredService<CallRecorder>());
        services.AddTransient<WebServiceAuthHandler>();
        services.AddTransient<CallRecordingHandler>();
        // Note: the outer handler authenticates (and retries once on 401); the inner one records every attempt as sent.
        // No client timeout: each invoker has its own, applied by the invoker.
        services.AddHttpClient(WebServiceInvoker.ClientName)
            .ConfigureHttpClient(c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<OutboundProxy>().Apply(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }))
            .AddHttpMessageHandler<WebServiceAuthHandler>()
            .AddHttpMessageHandler<CallRecordingHandler>()
            .AddHttpMessageHandler<ProxyFailureHandler>();
        services.AddScoped<WebServiceInvoker>();
        services.AddScoped<IWebServiceInvoker>(sp => sp.GetRequiredService<WebServiceInvoker>());
        services.AddScoped<WebServiceService>();
        services.AddScoped<CallLog>();
        services.AddScoped<WebServiceUsage>();
        services.AddScoped<ITokenSourceUsage>(sp => sp.GetRequiredService<WebServiceUsage>());
        services.AddTransient<CallLogPurgeJob>();
        services.AddQuartz(quartz => quartz
            .AddJob<CallLogPurgeJob>(job => job.WithIdentity(CallLogPurgeJob.Key).StoreDurably())
            .AddTrigger(trigger => trigger.ForJob(CallLogPurgeJob.Key).WithIdentity("call-log-purge-hourly", "TokenAdmin")
                .WithCronSchedule("0 23 * * * ?")));
        return services;
    }
}
