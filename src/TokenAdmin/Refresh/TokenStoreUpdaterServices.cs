using Quartz;
using TokenAdmin.Data;
using TokenAdmin.Settings;

namespace TokenAdmin.Refresh;

public static class TokenStoreUpdaterServices
{
    /// <summary>
    /// The token store updater and the Quartz scheduler it runs on. The console verbs get the same services; they never
    /// start the host, so no scheduler starts there.
    /// </summary>
    public static IServiceCollection AddTokenStoreUpdater(this IServiceCollection services, IConfiguration configuration, DatabaseEngine engine)
    {
        var section = configuration.GetSection("TokenAdmin:TokenStoreUpdater");
        services.Configure<TokenStoreUpdaterOptions>(section);
        var enabled = section.GetValue(nameof(TokenStoreUpdaterOptions.Enabled), true);

        services.AddSettingGroup(RefreshSettings.Group);
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

            // Note: the job store is chosen here and only here. In memory serves one node (SQLite); on PostgreSQL the
            // clustered ADO store keeps jobs and triggers in the database, so that each fire runs on one node only and
            // a node that stops checking in has its triggers (and a run it was in the middle of) taken over.
            if (engine.IsPostgres)
            {
                var cluster = configuration.GetSection("TokenAdmin:Cluster").Get<ClusterOptions>() ?? new ClusterOptions();
                quartz.UsePersistentStore(store =>
                {
                    store.UsePostgres(engine.ConnectionString);
                    // Quartz creates its qrtz_ tables when they are missing (several nodes may race; Quartz settles it).
                    store.ConfigureStore(o =>
                    {
                        o.StoreJobDataAsStrings = true;
                        o.SchemaProvisioning = SchemaProvisioning.CreateIfMissing;
                    });
                    store.UseClustering(c =>
                    {
                        c.CheckinInterval = cluster.CheckinInterval;
                        c.CheckinMisfireThreshold = cluster.CheckinMisfireThreshold;
                    });
                });
            }
            else
            {
                quartz.UseInMemoryStore(_ => { });
            }

            // The job is stored durably without a trigger; TokenStoreUpdaterScheduler adds the trigger from the settings.
            // RequestRecovery: a run cut short by a node that died is run again by another node.
            quartz.AddJob<TokenStoreUpdaterJob>(job => job.WithIdentity(RefreshSchedule.JobKey).StoreDurably().DisallowConcurrentExecution().RequestRecovery());
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

/// <summary>Bound from "TokenAdmin:Cluster"; used on PostgreSQL only.</summary>
public sealed class ClusterOptions
{
    /// <summary>How often each node records in the database that it is alive.</summary>
    public TimeSpan CheckinInterval { get; set; } = TimeSpan.FromSeconds(7.5);

    /// <summary>How long past a missed check-in the other nodes wait before taking over a node's work.</summary>
    public TimeSpan CheckinMisfireThreshold { get; set; } = TimeSpan.FromSeconds(20);
}
