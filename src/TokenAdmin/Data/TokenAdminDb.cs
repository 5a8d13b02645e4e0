using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using TokenAdmin.Admin;
using TokenAdmin.Settings;
using TokenAdmin.Tokens;

namespace TokenAdmin.Data;

/// <summary>
/// The one EF Core model of TokenAdmin. Provider-neutral: no SQL of one engine lives in here. On SQLite this type is
/// the context itself; on PostgreSQL <see cref="PostgresTokenAdminDb"/> (the same model) is registered in its place.
/// </summary>
public class TokenAdminDb : DbContext, IDataProtectionKeyContext
{
    public TokenAdminDb(DbContextOptions<TokenAdminDb> options)
        : base(options)
    {
    }

    /// <summary>For the engine-specific context types, which differ only in which migrations are theirs.</summary>
    protected TokenAdminDb(DbContextOptions options)
        : base(options)
    {
    }

    public DbSet<AdminUser> AdminUsers => Set<AdminUser>();
    public DbSet<AdminSession> AdminSessions => Set<AdminSession>();
    public DbSet<SetupToken> SetupTokens => Set<SetupToken>();
    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();
    public DbSet<Setting> Settings => Set<Setting>();
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<TokenConfig> TokenConfigs => Set<TokenConfig>();
    public DbSet<TokenState> TokenStates => Set<TokenState>();
    public DbSet<AuthorizationRequest> AuthorizationRequests => Set<AuthorizationRequest>();
    public DbSet<Refresh.UpdaterRun> UpdaterRuns => Set<Refresh.UpdaterRun>();
    public DbSet<Oidc.OidcProfile> OidcProfiles => Set<Oidc.OidcProfile>();
    public DbSet<FunctionalAccounts.FunctionalAccount> FunctionalAccounts => Set<FunctionalAccounts.FunctionalAccount>();
    public DbSet<WebServices.Api.ApiUser> ApiUsers => Set<WebServices.Api.ApiUser>();
    public DbSet<Mail.MailAccount> MailAccounts => Set<Mail.MailAccount>();
    public DbSet<Mail.FetchedMessage> FetchedMessages => Set<Mail.FetchedMessage>();
    public DbSet<WebServices.WebService> WebServices => Set<WebServices.WebService>();
    public DbSet<WebServices.WebServiceHeader> WebServiceHeaders => Set<WebServices.WebServiceHeader>();
    public DbSet<WebServices.Invoker> Invokers => Set<WebServices.Invoker>();
    public DbSet<WebServices.CallLogEntry> CallLogEntries => Set<WebServices.CallLogEntry>();
    public DbSet<Alerts.AlertEvent> AlertEvents => Set<Alerts.AlertEvent>();
    public DbSet<Alerts.AlertDelivery> AlertDeliveries => Set<Alerts.AlertDelivery>();
    public DbSet<Alerts.AlertChannel> AlertChannels => Set<Alerts.AlertChannel>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(TokenAdminDb).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Note: every time is kept in UTC. SQLite hands DateTime back with Kind=Unspecified, which would make
        // comparisons with DateTime.UtcNow and rendering in local time silently wrong.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<NullableUtcDateTimeConverter>();
    }

    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));

    private sealed class NullableUtcDateTimeConverter() : ValueConverter<DateTime?, DateTime?>(
        v => v == null ? null : v.Value.Kind == DateTimeKind.Utc ? v : v.Value.ToUniversalTime(),
        v => v == null ? null : DateTime.SpecifyKind(v.Value, DateTimeKind.Utc));
}
