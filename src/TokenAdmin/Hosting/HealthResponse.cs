using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TokenAdmin.Hosting;

internal static class HealthResponse
{
    /// <summary>
    /// The status ("Healthy", "Degraded", "Unhealthy") on the first line, then each check that is not healthy with its
    /// description, such as how many token sources are dead. Descriptions name problems, never a secret or a connection string.
    /// </summary>
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "text/plain; charset=utf-8";
        var lines = report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy).Select(e => $"{e.Key}: {e.Value.Description}");
        return context.Response.WriteAsync(string.Join('\n', lines.Prepend(report.Status.ToString())));
    }
}
