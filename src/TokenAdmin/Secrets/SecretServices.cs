using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;
using TokenAdmin.Data;

namespace TokenAdmin.Secrets;

public static class SecretServices
{
    /// <summary>
    /// The master key (from TokenAdmin:MasterKey, or a file in the data directory on SQLite only), the Data Protection key
    /// ring in the database wrapped by it, and <see cref="ISecretProtector"/> for every secret TokenAdmin stores.
    /// </summary>
    public static IServiceCollection AddSecrets(this IServiceCollection services, IConfiguration configuration, DataLocation data)
    {
        var masterKey = configuration["TokenAdmin:MasterKey"];
        services.AddSingleton(_ => MasterKey.Load(masterKey, Path.Combine(data.Directory, "master.key"), mayCreate: !data.Engine.IsPostgres));
        services.AddDataProtection()
            .SetApplicationName("TokenAdmin")
            .PersistKeysToDbContext<TokenAdminDb>();
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp =>
            new ConfigureOptions<KeyManagementOptions>(o => o.XmlEncryptor = new MasterKeyXmlEncryptor(sp.GetRequiredService<MasterKey>())));
        services.AddSingleton<ISecretProtector, SecretProtector>();
        return services;
    }
}
