using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;

namespace TokenAdmin.WebServices.Api;

/// <summary>Registration of the incoming API: bearer scheme, role policies, OpenAPI document, pipeline branch.</summary>
public static class ApiServices
{
    public static void AddTokenAdminApi(IServiceCollection services, AuthenticationBuilder authentication, AuthorizationBuilder authorization)
    {
        services.AddSingleton<IncomingTokenValidator>();
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
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase), branch => branch.UseMiddleware<ApiCallMiddleware>());

    public static void MapTokenAdminApiEndpoints(this WebApplication app)
    {
        app.MapTokenAdminApi();
        app.MapOpenApi("/api/{documentName}/openapi.json").AllowAnonymous();
    }
}
