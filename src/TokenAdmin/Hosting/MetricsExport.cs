using System.Net;
using System.Security.Cryptography;
using System.Text;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace TokenAdmin.Hosting;

/// <summary>Where the meter "TokenAdmin" is exported to (configuration section TokenAdmin:Metrics). Nothing by default.</summary>
public sealed class MetricsOptions
{
    /// <summary>An OTLP endpoint (for example http://127.0.0.1:4317 for gRPC, or …:4318/v1/metrics with <see cref="OtlpProtocol"/> http/protobuf); empty: no OTLP export.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>grpc (default) or http/protobuf.</summary>
    public string OtlpProtocol { get; set; } = "grpc";

    /// <summary>Serves a Prometheus scrape endpoint at <see cref="PrometheusPath"/>. Off by default.</summary>
    public bool PrometheusEnabled { get; set; }

    public string PrometheusPath { get; set; } = "/metrics";

    /// <summary>When set, a scrape must send "Authorization: Bearer &lt;this&gt;"; when empty, only this machine may scrape (not through a proxy).</summary>
    public string? PrometheusBearerToken { get; set; }
}

/// <summary>
/// Exports the meters TokenAdmin records with OpenTelemetry: to an OTLP collector when configured, and on a Prometheus
/// scrape endpoint when switched on, guarded by a bearer token or limited to loopback.
/// </summary>
public static class MetricsExport
{
    public static IServiceCollection AddMetricsExport(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection("TokenAdmin:Metrics").Get<MetricsOptions>() ?? new MetricsOptions();
        services.AddSingleton(options);
        var otlp = string.IsNullOrWhiteSpace(options.OtlpEndpoint) ? null : new Uri(options.OtlpEndpoint, UriKind.Absolute);
        if (otlp is null && !options.PrometheusEnabled)
        {
            return services; // Note: no exporter, no SDK: the meters cost nothing beyond what in-process listeners take.
        }

        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("TokenAdmin", serviceInstanceId: Environment.MachineName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(Tokens.TokenMetrics.MeterName);
                if (otlp is not null)
                {
                    metrics.AddOtlpExporter(o =>
                    {
                        o.Endpoint = otlp;
                        o.Protocol = options.OtlpProtocol == "http/protobuf" ? OpenTelemetry.Exporter.OtlpExportProtocol.HttpProtobuf : OpenTelemetry.Exporter.OtlpExportProtocol.Grpc;
                    });
                }

                if (options.PrometheusEnabled)
                {
                    metrics.AddPrometheusExporter();
                }
            });
        return services;
    }

    public static WebApplication MapMetricsExport(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<MetricsOptions>();
        if (!options.PrometheusEnabled)
        {
            return app;
        }

        var expected = string.IsNullOrEmpty(options.PrometheusBearerToken) ? null : Encoding.UTF8.GetBytes("Bearer " + options.PrometheusBearerToken);
        // Note: the check runs in the scrape endpoint's own branch, before the exporter writes anything.
        app.MapPrometheusScrapingEndpoint(options.PrometheusPath, meterProvider: null, configureBranchedPipeline: branch => branch.Use(async (context, next) =>
        {
            if (!MayScrape(context, expected))
            {
                context.Response.StatusCode = expected is null ? StatusCodes.Status403Forbidden : StatusCodes.Status401Unauthorized;
                return;
            }

            await next(context);
        }), optionsName: null);
        return app;
    }

    /// <summary>With a token: the Authorization header matches (constant time). Without: the connection is this machine's own, not forwarded by a proxy.</summary>
    private static bool MayScrape(HttpContext context, byte[]? expected)
    {
        if (expected is not null)
        {
            var given = Encoding.UTF8.GetBytes(context.Request.Headers.Authorization.ToString());
            return CryptographicOperations.FixedTimeEquals(given, expected);
        }

        return !ClientAddress.IsForwarded(context) && context.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address);
    }
}
