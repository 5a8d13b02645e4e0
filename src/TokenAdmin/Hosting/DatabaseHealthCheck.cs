using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using TokenAdmin.Data;

namespace TokenAdmin.Hosting;

/// <summary>Ready means the database answers a query, not merely that the file exists.</summary>
internal sealed class DatabaseHealthCheck(TokenAdminDb db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await db.Settings.AsNoTracking().AnyAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The description is public (the endpoint is anonymous): name the problem, not the connection string.
            return HealthCheckResult.Unhealthy("The database does not answer.");
        }
    }
}
