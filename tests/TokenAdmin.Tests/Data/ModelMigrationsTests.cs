using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;

namespace TokenAdmin.Tests.Data;

/// <summary>
/// Both migration sets are generated from the one model: a model change (a new entity, column or index) without
/// regenerated migrations fails here, naming the command that fixes it. Neither check connects to a database.
/// </summary>
public sealed class ModelMigrationsTests
{
    [Fact]
    public void SqliteMigrations_CoverTheModel()
    {
        using var db = new TokenAdminDb(new DbContextOptionsBuilder<TokenAdminDb>().UseSqlite("Data Source=:memory:").Options);

        Assert.False(db.Database.HasPendingModelChanges(),
            "The model changed without a SQLite migration: cd src/TokenAdmin && dotnet ef migrations add NAME --context TokenAdminDb --output-dir Data/Migrations/Sqlite --namespace TokenAdmin.Data.Migrations.Sqlite");
    }

    [Fact]
    public void PostgresMigrations_CoverTheModel()
    {
        using var db = new PostgresTokenAdminDb(new DbContextOptionsBuilder<PostgresTokenAdminDb>().UseNpgsql("Host=localhost;Database=unused").Options);

        Assert.False(db.Database.HasPendingModelChanges(),
            "The model changed without regenerating the PostgreSQL migrations: src/TokenAdmin/Data/Migrations/regenerate-postgres.sh");
        // Its own set (Data/Migrations/Postgres), not the SQLite one.
        using var sqlite = new TokenAdminDb(new DbContextOptionsBuilder<TokenAdminDb>().UseSqlite("Data Source=:memory:").Options);
        Assert.NotEmpty(db.Database.GetMigrations());
        Assert.Empty(db.Database.GetMigrations().Intersect(sqlite.Database.GetMigrations()));
    }
}
