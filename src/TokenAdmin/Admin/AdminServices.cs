using Microsoft.AspNetCore.Identity;
using TokenAdmin.Settings;

namespace TokenAdmin.Admin;

public static class AdminServices
{
    /// <summary>Admin users, passwords, first-run setup links, the sign-in throttle and the admin OIDC sign-in settings.</summary>
    public static IServiceCollection AddAdmin(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<AdminOptions>(configuration.GetSection("TokenAdmin:SignIn"));
        services.AddSettingGroup(AdminOidcSettings.Group);
        services.AddSingleton<IPasswordHasher<AdminUser>, PasswordHasher<AdminUser>>();
        services.AddSingleton<SignInThrottle>();
        services.AddScoped<AdminAccounts>();
        services.AddScoped<AdminManagement>();
        services.AddScoped<SetupLinks>();
        return services;
    }
}
