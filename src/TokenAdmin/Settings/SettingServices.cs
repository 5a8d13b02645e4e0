using Microsoft.Extensions.DependencyInjection.Extensions;

namespace TokenAdmin.Settings;

public static class SettingServices
{
    /// <summary>
    /// The settings store and its catalog, with the public URL settings. Every other capability adds its own settings
    /// from its <c>AddX()</c> with <see cref="AddSettingGroup"/>; the Settings page shows the groups in that order.
    /// </summary>
    public static IServiceCollection AddSettings(this IServiceCollection services)
    {
        services.TryAddSingleton(sp => new SettingCatalog(sp.GetServices<SettingGroup>()));
        services.TryAddSingleton<SettingsStore>();
        return services.AddSettingGroup(PublicUrlSettings.Group);
    }

    /// <summary>Adds a capability's settings to the catalog (once, however often it is called).</summary>
    public static IServiceCollection AddSettingGroup(this IServiceCollection services, SettingGroup group)
    {
        if (!services.Any(d => d.ServiceType == typeof(SettingGroup) && ReferenceEquals(d.ImplementationInstance, group)))
        {
            services.AddSingleton(group);
        }

        return services;
    }
}
