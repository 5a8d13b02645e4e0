using Quartz;

namespace TokenAdmin.Refresh;

public static class TokenStoreUpdaterServices
{
    /// <summary>
    /// The token store updater and the Quartz scheduler it runs on. The console verbs get the same services; they never
    /// start the host, so no scheduler starts there.
    /// </summary>
    public static IServiceCollection AddTokenStoreUpdater(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection("TokenAdmin:TokenStoreUpdater");
        services.Configure<TokenStoreUpdaterOptions>(section);
        var enabled = section.GetValue(nameof(TokenStoreUpdaterOptions.Enabled), true);

        services.AddSingleton<UpdaterRunLog>();
        services.AddSingleton<UpdaterMetrics>();
        services.AddScoped<TokenStoreUpdater>();
        services.AddTransient<TokenStoreUpdaterJob>();
        services.AddSingleton<TokenStoreUpdaterScheduler>();

        services.AddQuartz(quartz =>
        {
            quartz.ConfigureScheduler(s =>
            {
                s.InstanceName = "TokenAdmin";
                // Note: on shutdown a running job is asked to stop (its token is cancelled) and then waited for, so a
                // run held up by a slow provider ends at once and records what it did, instead of delaying the stop.
                s.ShutdownJobInterruption = ShutdownJobInterruption.WhenWaitingForJobs;
            });

            // Note: the job store is chosen here and only here. In memory serves one node; several nodes switch this
            // to the clustered ADO store on PostgreSQL, so that each run fires on one node only.
            quartz.UseInMemoryStore(_ => { });

            // The job is stored durably without a trigger; TokenStoreUpdaterScheduler adds the trigger from the settings.
            quartz.AddJob<TokenStoreUpdaterJob>(job => job.WithIdentity(RefreshSchedule.JobKey).StoreDurably().DisallowConcurrentExecution());
        });
        services.AddQuartzHostedService(o =>
        {
            o.AutoStart = enabled;
            o.WaitForJobsToComplete = true;
        });
        services.AddHostedService(sp => sp.GetRequiredService<TokenStoreUpdaterScheduler>());
        return services;
    }
}
