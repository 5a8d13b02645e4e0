using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace TokenAdmin.Data;

/// <summary>Used by `dotnet ef migrations add --context TokenAdminDb` only; the running app configures the context in Hosting.</summary>
internal sealed class DesignTimeDbFactory : IDesignTimeDbContextFactory<TokenAdminDb>
{
    public TokenAdminDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<TokenAdminDb>().UseSqlite("Data Source=design-time.db").Options);
}

/// <summary>
/// Used by `dotnet ef migrations add --context PostgresTokenAdminDb` only (see Data/Migrations/regenerate-postgres.sh).
/// Adding a migration never connects, so the connection string only names the engine.
/// </summary>
internal sealed class PostgresDesignTimeDbFactory : IDesignTimeDbContextFactory<PostgresTokenAdminDb>
{
    public PostgresTokenAdminDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresTokenAdminDb>().UseNpgsql("Host=localhost;Database=tokenadmin-design-time").Options);
}
