using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using TokenAdmin.Data;

namespace TokenAdmin.Tests.Data;

/// <summary>An installation of the previous release keeps its token configs and tokens when it is upgraded.</summary>
public sealed class MigrationUpgradeTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"tokenadmin-upgrade-{Guid.NewGuid():N}.db");

    [Fact]
    public async Task Upgrading_from_the_token_config_release_keeps_configs_states_and_pending_authorization_requests()
    {
        var options = new DbContextOptionsBuilder<TokenAdminDb>().UseSqlite($"Data Source={_path}").Options;
        await using (var db = new TokenAdminDb(options))
        {
            await db.GetService<IMigrator>().MigrateAsync("20261123071632_UpdaterRuns");
            await db.Database.ExecuteSqlRawAsync("""
                INSERT INTO TokenConfigs (Id, Name, NormalizedName, Template, Valid, Flow, Yaml, ExpiringSoonDays, ClientSecretProtected, CreatedAt, CreatedBy, ChangedAt, ChangedBy, Version)
                VALUES (7, 'mailbox', 'MAILBOX', 'Custom', 1, 'AuthorizationCode', 'name: mailbox', 7, 'protected-secret', '2026-11-01 10:00:00', 'alice', '2026-11-01 10:00:00', 'alice', 'v1');
                INSERT INTO TokenStates (Id, TokenConfigId, AccessTokenProtected, AccessTokenExpiresAt, RefreshTokenProtected, RefreshTokenExpiryEstimated, ConsecutiveFailures, Version)
                VALUES (3, 7, 'protected-access', '2026-11-24 10:00:00', 'protected-refresh', 0, 0, 's1');
                INSERT INTO AuthorizationRequests (StateHash, TokenConfigId, CodeVerifierProtected, RedirectUri, AdminId, BrowserBindingHash, CreatedAt, ExpiresAt)
                VALUES ('hash', 7, 'verifier', 'https://tokenadmin.example/oauth2/callback', '1', 'binding', '2026-11-23 10:00:00', '2026-11-23 10:10:00');
                """);
        }

        await using (var db = new TokenAdminDb(options))
        {
            await DatabaseStartup.MigrateAsync(db, default);
            var state = await db.TokenStates.AsNoTracking().SingleAsync();
            Assert.Equal(7, state.TokenConfigId);
            Assert.Null(state.FunctionalAccountId);
            Assert.Equal("protected-refresh", state.RefreshTokenProtected);
            Assert.Equal("protected-access", state.AccessTokenProtected);
            var config = await db.TokenConfigs.AsNoTracking().Include(c => c.State).SingleAsync();
            Assert.Equal(3, config.State!.Id);
            Assert.Equal(7, (await db.AuthorizationRequests.AsNoTracking().SingleAsync()).TokenConfigId);

            // The new rule holds: a state row belongs to exactly one source.
            var refused = await Assert.ThrowsAsync<SqliteException>(() => db.Database.ExecuteSqlRawAsync(
                "INSERT INTO TokenStates (TokenConfigId, FunctionalAccountId, RefreshTokenExpiryEstimated, ConsecutiveFailures, Version) VALUES (NULL, NULL, 0, 0, 'x')"));
            Assert.Contains("CK_TokenStates_OneSource", refused.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Upgrading_to_CredentialExpiresAt_fills_it_for_existing_configs_as_each_save_would()
    {
        var options = new DbContextOptionsBuilder<TokenAdminDb>().UseSqlite($"Data Source={_path}").Options;
        await using (var db = new TokenAdminDb(options))
        {
            await db.GetService<IMigrator>().MigrateAsync("20261203091340_AlertDailyDigest");
            // (name, secret held, secret expiry, certificate NotAfter)
            (string Name, bool Secret, string? SecretExpires, string? NotAfter)[] rows =
            [
                ("secret-first", true, "2027-01-10 00:00:00", "2027-03-01 12:30:00"),
                ("certificate-first", true, "2027-05-01 00:00:00", "2027-02-01 08:00:00"),
                ("secret-removed", false, "2027-01-05 00:00:00", "2027-04-01 00:00:00"),
                ("secret-only", true, "2027-06-30 00:00:00", null),
                ("secret-without-expiry", true, null, null),
                ("removed-secret-only", false, "2027-01-05 00:00:00", null),
            ];
            var id = 0;
            foreach (var (name, secret, secretExpires, notAfter) in rows)
            {
                id++;
                await db.Database.ExecuteSqlRawAsync("""
                    INSERT INTO TokenConfigs (Id, Name, NormalizedName, Template, Valid, Flow, Yaml, ExpiringSoonDays, ClientSecretProtected, ClientSecretExpiresAt, Certificate_NotAfter, CreatedAt, CreatedBy, ChangedAt, ChangedBy, Version)
                    VALUES (@id, @name, @name, 'Custom', 1, 'ClientCredentials', 'name: x', 7, @secret, @secretExpires, @notAfter, '2026-11-01 10:00:00', 'alice', '2026-11-01 10:00:00', 'alice', 'v1')
                    """, new SqliteParameter("@id", id), new SqliteParameter("@name", name), new SqliteParameter("@secret", secret ? "protected-secret" : DBNull.Value),
                    new SqliteParameter("@secretExpires", (object?)secretExpires ?? DBNull.Value), new SqliteParameter("@notAfter", (object?)notAfter ?? DBNull.Value));
            }
        }

        await using (var db = new TokenAdminDb(options))
        {
            await DatabaseStartup.MigrateAsync(db, default);
            var configs = await db.TokenConfigs.AsNoTracking().ToDictionaryAsync(c => c.Name);
            static DateTime At(string text) => DateTime.SpecifyKind(DateTime.Parse(text, System.Globalization.CultureInfo.InvariantCulture), DateTimeKind.Utc);
            Assert.Equal(At("2027-01-10 00:00:00"), configs["secret-first"].CredentialExpiresAt);
            Assert.Equal(At("2027-02-01 08:00:00"), configs["certificate-first"].CredentialExpiresAt);
            Assert.Equal(At("2027-04-01 00:00:00"), configs["secret-removed"].CredentialExpiresAt);
            Assert.Equal(At("2027-06-30 00:00:00"), configs["secret-only"].CredentialExpiresAt);
            Assert.Null(configs["secret-without-expiry"].CredentialExpiresAt);
            Assert.Null(configs["removed-secret-only"].CredentialExpiresAt);
            foreach (var config in configs.Values)
            {
                var filled = config.CredentialExpiresAt;
                config.DeriveColumns();
                Assert.Equal(config.CredentialExpiresAt, filled); // the same rule as each save
            }
        }
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { _path, _path + "-wal", _path + "-shm" })
        {
            File.Delete(file);
        }
    }
}
