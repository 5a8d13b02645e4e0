using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace TokenAdmin.Data;

/// <summary>Used by `dotnet ef migrations add` only; the running app configures the context in Hosting.</summary>
internal sealed class DesignTimeDbFactory : IDesignTimeDbContextFactory<TokenAdminDb>
{
    public TokenAdminDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<TokenAdminDb>().UseSqlite("Data Source=design-time.db").Options);
}
