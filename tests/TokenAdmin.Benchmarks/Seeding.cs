using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TokenAdmin.Admin;
using TokenAdmin.Data;
using TokenAdmin.Hosting;
using TokenAdmin.Secrets;
using TokenAdmin.Tokens;

namespace TokenAdmin.Benchmarks;

/// <summary>Fills a fresh data directory with an admin and many token configs, through the app's own services.</summary>
internal static class Seeding
{
    public const string AdminUser = "bench";
    public const string AdminPassword = "benchmark-password";

    public static IHost BuildHost(string dataDirectory)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = Repository.AppProject });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["TokenAdmin:DataDirectory"] = dataDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddTokenAdminCore(builder.Configuration, builder.Environment.ContentRootPath);
        return builder.Build();
    }

    public static async Task SeedAsync(IServiceProvider services, int configs)
    {
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenAdminDb>();
        await DatabaseStartup.MigrateAsync(db, CancellationToken.None);
        scope.ServiceProvider.GetRequiredService<AdminAccounts>().Add(AdminUser, AdminPassword, "benchmark");
        await db.SaveChangesAsync();

        var protector = scope.ServiceProvider.GetRequiredService<ISecretProtector>();
        var secret = protector.Protect("benchmark-client-secret");
        var accessToken = protector.Protect("benchmark-access-token");
        var now = DateTime.UtcNow;
        var template = TokenTemplates.Find(TokenTemplates.MicrosoftExchangeOnline)!;
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        for (var i = 0; i < configs; i++)
        {
            var document = template.NewDocument();
            document.Name = $"mailbox-{i:00000}";
            document.ClientId = Guid.NewGuid().ToString();
            document.Tenant = "contoso.onmicrosoft.com";
            var config = new TokenConfig
            {
                Name = document.Name, NormalizedName = TokenConfig.Normalize(document.Name), Template = document.Template,
                Flow = document.Flow, Valid = i % 10 != 0, Yaml = TokenConfigYaml.Write(document),
                ExpiringSoonDays = document.Notifications.ExpiringSoonDays, ClientSecretProtected = secret,
                CreatedAt = now, ChangedAt = now, CreatedBy = "benchmark", ChangedBy = "benchmark",
            };
            if (i % 2 == 0)
            {
                // Half have tokens, in every state the overview distinguishes.
                config.State = new TokenState
                {
                    AccessTokenProtected = accessToken, TokenType = "Bearer",
                    AccessTokenExpiresAt = now.AddMinutes(i % 3 == 0 ? -5 : 55),
                    RefreshTokenProtected = accessToken, RefreshTokenExpiresAt = now.AddDays(i % 7 == 0 ? 3 : 80),
                    RefreshTokenExpiryEstimated = true, LastRefreshAt = now,
                    LastErrorCode = i % 11 == 0 ? "temporarily_unavailable" : null,
                };
            }

            db.TokenConfigs.Add(config);
            if (i % 1000 == 999)
            {
                await db.SaveChangesAsync();
                db.ChangeTracker.Clear();
            }
        }

        await db.SaveChangesAsync();
    }

    public static string DueName(int index) => $"due-{index:00000}";

    /// <summary>An expired access token and a live refresh token of its own: due at the next updater run.</summary>
    private static TokenState DueState(ISecretProtector protector, int index, DateTime now) => new()
    {
        AccessTokenProtected = protector.Protect($"at-seed-{index}"), TokenType = "Bearer", AccessTokenExpiresAt = now.AddMinutes(-1),
        RefreshTokenProtected = protector.Protect($"rt-seed-{index}"), RefreshTokenExpiresAt = now.AddDays(80),
        RefreshTokenExpiryEstimated = true, ObtainedAt = now, LastRefreshAt = now,
    };

    /// <summary>
    /// <paramref name="accounts"/> authorization-code functional accounts on one OIDC profile whose provider is
    /// <paramref name="issuer"/>, with expired access tokens and their own refresh tokens: the same work as
    /// <see cref="SeedDueAsync"/> for the other kind of token source.
    /// </summary>
    public static async Task SeedDueAccountsAsync(IServiceProvider services, int accounts, string issuer)
    {
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenAdminDb>();
        await DatabaseStartup.MigrateAsync(db, CancellationToken.None);
        var protector = scope.ServiceProvider.GetRequiredService<ISecretProtector>();
        var now = DateTime.UtcNow;
        var profile = new TokenAdmin.Oidc.OidcProfile
        {
            Name = "benchmark", NormalizedName = TokenAdmin.Oidc.OidcProfile.Normalize("benchmark"),
            DiscoveryUrl = issuer + "/.well-known/openid-configuration", ClientId = "benchmark",
            ClientSecretProtected = protector.Protect("benchmark-client-secret"),
            CreatedAt = now, ChangedAt = now, CreatedBy = "benchmark", ChangedBy = "benchmark",
        };
        db.OidcProfiles.Add(profile);
        await db.SaveChangesAsync();
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        for (var i = 0; i < accounts; i++)
        {
            var name = DueName(i);
            db.FunctionalAccounts.Add(new TokenAdmin.FunctionalAccounts.FunctionalAccount
            {
                Name = name, NormalizedName = TokenAdmin.FunctionalAccounts.FunctionalAccount.Normalize(name), OidcProfileId = profile.Id,
                GrantType = TokenAdmin.FunctionalAccounts.AccountGrantTypes.AuthorizationCode, Scope = "openid offline_access mail",
                RefreshTokenLifetimeDays = 90, RefreshTokenSliding = true,
                CreatedAt = now, ChangedAt = now, CreatedBy = "benchmark", ChangedBy = "benchmark",
                State = DueState(protector, i, now),
            });
            if (i % 1000 == 999)
            {
                await db.SaveChangesAsync();
                db.ChangeTracker.Clear();
            }
        }

        await db.SaveChangesAsync();
    }

    /// <summary>
    /// <paramref name="configs"/> authorization-code token configs whose access tokens have expired, each with its own
    /// refresh token, all pointing at <paramref name="tokenUrl"/>: work for the token store updater.
    /// </summary>
    public static async Task SeedDueAsync(IServiceProvider services, int configs, string tokenUrl)
    {
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenAdminDb>();
        await DatabaseStartup.MigrateAsync(db, CancellationToken.None);
        var protector = scope.ServiceProvider.GetRequiredService<ISecretProtector>();
        var secret = protector.Protect("benchmark-client-secret");
        var now = DateTime.UtcNow;
        var template = TokenTemplates.Find(TokenTemplates.MicrosoftExchangeOnline)!;
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        for (var i = 0; i < configs; i++)
        {
            var document = template.NewDocument();
            document.Name = DueName(i);
            document.ClientId = Guid.NewGuid().ToString();
            document.Tenant = null;
            document.Endpoints.Token = tokenUrl;
            db.TokenConfigs.Add(new TokenConfig
            {
                Name = document.Name, NormalizedName = TokenConfig.Normalize(document.Name), Template = document.Template,
                Flow = document.Flow, Valid = true, Yaml = TokenConfigYaml.Write(document),
                ExpiringSoonDays = document.Notifications.ExpiringSoonDays, ClientSecretProtected = secret,
                CreatedAt = now, ChangedAt = now, CreatedBy = "benchmark", ChangedBy = "benchmark",
                State = DueState(protector, i, now),
            });
            if (i % 1000 == 999)
            {
                await db.SaveChangesAsync();
                db.ChangeTracker.Clear();
            }
        }

        await db.SaveChangesAsync();
    }
}

internal static class ProviderDiscovery
{
    private static readonly string[] Code = ["code"];
    private static readonly string[] Public = ["public"];
    private static readonly string[] Rs256 = ["RS256"];

    /// <summary>
    /// Serves a discovery document and an empty key set at <c>/.well-known/openid-configuration</c> and <c>/jwks</c>, so
    /// OIDC profiles (and the functional accounts on them) can use a loopback benchmark provider.
    /// </summary>
    public static void Map(WebApplication app, Func<string> baseAddress)
    {
        app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = baseAddress(),
            ["authorization_endpoint"] = baseAddress() + "/authorize",
            ["token_endpoint"] = baseAddress() + "/token",
            ["jwks_uri"] = baseAddress() + "/jwks",
            ["response_types_supported"] = Code,
            ["subject_types_supported"] = Public,
            ["id_token_signing_alg_values_supported"] = Rs256,
        }));
        app.MapGet("/jwks", () => Results.Json(new { keys = Array.Empty<object>() }));
    }
}

internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string AppProject => Path.Combine(Root, "src", "TokenAdmin");

    public static string AppAssembly(string configuration) => Path.Combine(AppProject, "bin", configuration, "net10.0", "TokenAdmin.dll");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TokenAdmin.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("TokenAdmin.sln not found above " + AppContext.BaseDirectory);
    }
}
