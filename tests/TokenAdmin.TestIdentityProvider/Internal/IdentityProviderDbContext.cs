using Microsoft.EntityFrameworkCore;

namespace TokenAdmin.TestIdentityProvider.Internal;

/// <summary>
/// The provider's own EF Core context; OpenIddict adds its entity sets through <c>UseOpenIddict()</c>.
/// </summary>
public sealed class IdentityProviderDbContext(DbContextOptions<IdentityProviderDbContext> options) : DbContext(options);
