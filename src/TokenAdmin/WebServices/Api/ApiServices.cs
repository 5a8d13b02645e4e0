using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;

namespace TokenAdmin.WebServices.Api;

/// <summary>Calls to /api allowed per minute. Bound from "TokenAdmin:Api:RateLimit"; beyond them the answer is 429 with Retry-After.</summary>
public sealed class ApiRateLimitOptions
{
    /// <summary>Per client address (see Hosting/ClientAddress), authenticated or not.</summary>
    public int PerClientPerMinute { get; set; } = 300;

    /// <summary>For all callers together.</summary>
    public int TotalPerMinute { get; set; } = 3000;
}

/// <summary>Registration of the incoming API: bearer scheme, role policies, OpenAPI document, pipeline branch.</summary>
public static class ApiServices
{
    public static void AddTokenAdminApi(IServiceCollection services, AuthenticationBuilder authentication, AuthorizationBuilder authorization)
    {
        services.AddSingleton<IncomingTokenValidator>();
        services.AddOptions<ApiRateLimitOptions>().BindConfiguration("TokenAdmin:Api:RateLimit")
            .Validate(o => o.PerClientPerMinute >= 1 && o.TotalPerMinute >= 1, "TokenAdmin:Api:RateLimit: PerClientPerMinute and TotalPerMinute must be at least 1.");
        authentication.AddScheme<AuthenticationSchemeOptions, ApiBearerHandler>(ApiAuthentication.Scheme, null);
        ApiAuthentication.AddPolicies(authorization);
        services.AddOpenApi("v1", options => options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "TokenAdmin API";
            document.Info.Description = "Token status, refresh, token broker and web-service invoke. Bearer tokens of the OIDC profiles that accept incoming tokens; see docs/api.md.";
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["Bearer"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "An access token (JWT) from a provider of an OIDC profile that accepts incoming API tokens.",
            };
            document.Security ??= [];
            document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("Bearer", document)] = [] });
            return Task.CompletedTask;
        }));
    }

    /// <summary>The /api branch of the pipeline: call recording and API error answers (after routing, before authentication).</summary>
    public static void UseTokenAdminApi(this WebApplication app) =>
        app.UseWhen(IsApi, branch => branch.UseMiddleware<ApiCallMiddleware>());

    public static bool IsApi(HttpContext context) => context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The /api limits, part of the global rate limiter: per client address, then for everyone. Refused calls end
    /// before <see cref="ApiCallMiddleware"/>, so a flood leaves nothing in the debugger.
    /// </summary>
    public static IEnumerable<PartitionedRateLimiter<HttpContext>> ApiLimiters() =>
    [
        PartitionedRateLimiter.Create<HttpContext, string>(context => !IsApi(context)
            ? RateLimitPartition.GetNoLimiter("")
            : RateLimitPartition.GetFixedWindowLimiter("client " + Hosting.ClientAddress.Key(context), _ => Window(
                context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<ApiRateLimitOptions>>().Value.PerClientPerMinute))),
        PartitionedRateLimiter.Create<HttpContext, string>(context => !IsApi(context)
            ? RateLimitPartition.GetNoLimiter("")
            : RateLimitPartition.GetFixedWindowLimiter("all", _ => Window(
                context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<ApiRateLimitOptions>>().Value.TotalPerMinute))),
    ];

    private static FixedWindowRateLimiterOptions Window(int permits) =>
        new() { PermitLimit = permits, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 };

    /// <summary>The answer to a call beyond the limits: problem details and Retry-After (seconds until the window ends).</summary>
    public static async Task WriteTooManyAsync(HttpContext context, RateLimitLease lease)
    {
        var seconds = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 60;
        context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await ApiProblems.WriteAsync(context, StatusCodes.Status429TooManyRequests, "Too many requests",
            $"Too many API calls from your address or from all callers together; try again in {seconds} seconds.");
    }

    public static void MapTokenAdminApiEndpoints(this WebApplication app)
    {
        app.MapTokenAdminApi();
        app.MapOpenApi("/api/{documentName}/openapi.json").AllowAnonymous();
    }
}
