using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using TokenAdmin.Tokens;
using TokenAdmin.Data;

namespace TokenAdmin.Dashboard;

/// <summary>
/// Degraded (not Unhealthy: TokenAdmin itself works and must not be restarted for it) while token sources are dead,
/// that is, need a new authorization or new credentials; the description gives their number.
/// </summary>
internal sealed class DeadSourcesHealthCheck(TokenAdminDb db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var dead = await db.TokenStates.AsNoTracking().CountAsync(s => s.Standing == TokenStanding.Dead, cancellationToken);
        return dead == 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Degraded($"{dead} token source(s) cannot get tokens and need an admin (a new authorization or new credentials).");
    }
}
