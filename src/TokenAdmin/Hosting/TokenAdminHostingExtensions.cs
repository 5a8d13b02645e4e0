using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenAdmin.Admin;
using TokenAdmin.Data;
using TokenAdmin.Notifications;
using TokenAdmin.Secrets;
using TokenAdmin.Settings;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Hosting;

public static class TokenAdminHostingExtensions
{
    public const string SignInRateLimit = "sign-in";

    /// <summary>Services shared by the web host and the console verbs: store, secrets, settings, admins.</summary>
    public static IServiceCollection AddTokenAdminCore(this IServiceCollection services, IConfiguration configuration, string contentRoot)
    {
        // The database and the data directory (Data/), the master key and Data Protection (Secrets/)
        var data = DataServices.AddData(services, configuration, contentRoot);
        SecretServices.AddSecrets(services, configuration, data);

        // Settings and their catalog (Settings/), admin users and sign-in (Admin/)
        SettingServices.AddSettings(services);
        AdminServices.AddAdmin(services, configuration);

        // The alert outbox (Alerts/) and its channels (Alerts/Channels/)
        Alerts.AlertServices.AddAlerts(services, configuration);
        Alerts.Channels.AlertChannelServices.AddAlertChannels(services);

        // Provider HTTP, discovery and JWT checks (Providers/), token configs and the token engine (Tokens/), the token provider (TokenProvider/)
        Providers.ProviderServices.AddProviders(services, configuration);
        Tokens.TokenServices.AddTokens(services, configuration);
        TokenProvider.TokenProviderServices.AddTokenProvider(services, configuration);

        // OIDC profiles (Oidc/) and functional accounts (FunctionalAccounts/)
        Oidc.OidcServices.AddOidcProfiles(services);
        FunctionalAccounts.FunctionalAccountServices.AddFunctionalAccounts(services);

        // TokenStoreUpdater (Refresh/)
        Refresh.TokenStoreUpdaterServices.AddTokenStoreUpdater(services, configuration, data.Engine);

        // Mail accounts, fetcher, SMTP sending (Mail/)
        Mail.MailServices.AddMail(services, configuration, data.Directory);

        // Web services, invokers and the call debugger (WebServices/)
        WebServices.WebServiceServices.AddWebServices(services);
        return services;
    }

    public static WebApplicationBuilder AddTokenAdmin(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["Kestrel:Endpoints:Http:Url"]))
        {
            // Loopback by default: nobody else reaches a fresh install before its first admin exists.
            builder.WebHost.UseUrls("http://127.0.0.1:5080");
        }

        services.AddTokenAdminCore(builder.Configuration, builder.Environment.ContentRootPath);

        services.AddRazorPages(options =>
        {
            // Every page is for admins unless it is one of the few that let someone become one.
            options.Conventions.AuthorizeFolder("/", AdminAuthentication.AdminPolicy);
            options.Conventions.AllowAnonymousToFolder("/Account");
            options.Conventions.AllowAnonymousToPage("/Setup/Index");
            options.Conventions.AllowAnonymousToPage("/Error");
        }).AddMvcOptions(o =>
        {
            o.Filters.Add<AntiforgeryFailureFilter>();
            // Validation is done by the capability services, with messages written for admins.
            o.SuppressImplicitRequiredAttributeForNonNullableReferenceTypes = true;
            // A value the binder cannot read is named by the field's label ([Display]) and kept as typed (docs/forms.md).
            var messages = o.ModelBindingMessageProvider;
            messages.SetAttemptedValueIsInvalidAccessor((value, field) => $"{field}: '{value}' is not a valid value.");
            messages.SetValueMustBeANumberAccessor(field => $"{field} must be a number.");
            messages.SetValueMustNotBeNullAccessor(_ => "Enter a value.");
            messages.SetValueIsInvalidAccessor(value => $"'{value}' is not a valid value.");
            messages.SetUnknownValueIsInvalidAccessor(field => $"{field}: the value is not valid.");
            messages.SetNonPropertyAttemptedValueIsInvalidAccessor(value => $"'{value}' is not a valid value.");
        });
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "tokenadmin.af";
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });

        var authentication = services.AddAuthentication(AdminAuthentication.CookieScheme);
        authentication.AddCookie(AdminAuthentication.CookieScheme, o =>
            {
                o.Cookie.Name = "tokenadmin.auth";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.LoginPath = "/account/login";
                o.LogoutPath = "/account/logout";
                o.AccessDeniedPath = "/account/accessdenied";
                o.ExpireTimeSpan = TimeSpan.FromHours(8);
                o.SlidingExpiration = true;
                o.Events.OnSigningIn = AdminSessions.OnSigningInAsync;
                o.Events.OnValidatePrincipal = AdminSessions.ValidatePrincipalAsync;
                o.Events.OnSigningOut = AdminSessions.OnSigningOutAsync;
            })
            .AddOpenIdConnect(AdminAuthentication.OidcScheme, _ => { });
        services.AddSingleton<IConfigureOptions<OpenIdConnectOptions>, AdminOidcOptionsSetup>();
        var authorization = services.AddAuthorizationBuilder()
            .AddPolicy(AdminAuthentication.AdminPolicy, p => p.RequireAuthenticatedUser().RequireRole(AdminAuthentication.AdminRole));

        // The incoming API under /api/v1: its own bearer scheme and role policies (WebServices/Api).
        WebServices.Api.ApiServices.AddTokenAdminApi(services, authentication, authorization);

        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(SignInRateLimit, context =>
            {
                // Only form posts count: looking at the page is free.
                if (!IsFormPost(context))
                {
                    return RateLimitPartition.GetNoLimiter("read");
                }

                var limit = context.RequestServices.GetRequiredService<IOptions<AdminOptions>>().Value.PostsPerMinute;
                return RateLimitPartition.GetFixedWindowLimiter(ClientAddress.Key(context), _ => PerMinute(limit));
            });
            // Note: the global limiter runs before the endpoint's policy: the /api limits, and the share of sign-in posts
            // one proxy gets for all the addresses it forwards (ClientAddress says why).
            o.GlobalLimiter = PartitionedRateLimiter.CreateChained(
            [
                .. WebServices.Api.ApiServices.ApiLimiters(),
                PartitionedRateLimiter.Create<HttpContext, string>(context =>
                {
                    if (!IsFormPost(context) || !ClientAddress.IsForwarded(context)
                        || context.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.RateLimiting.EnableRateLimitingAttribute>()?.PolicyName != SignInRateLimit)
                    {
                        return RateLimitPartition.GetNoLimiter("");
                    }

                    var options = context.RequestServices.GetRequiredService<IOptions<AdminOptions>>().Value;
                    return RateLimitPartition.GetFixedWindowLimiter("proxy " + ClientAddress.PeerKey(context),
                        _ => PerMinute(options.ProxyPostsPerMinute ?? options.PostsPerMinute * 10));
                }),
            ]);
            o.OnRejected = async (context, cancellationToken) =>
            {
                if (WebServices.Api.ApiServices.IsApi(context.HttpContext))
                {
                    await WebServices.Api.ApiServices.WriteTooManyAsync(context.HttpContext, context.Lease);
                    return;
                }

                context.HttpContext.Response.Headers.RetryAfter = "60";
                context.HttpContext.Response.ContentType = "text/plain; charset=utf-8";
                await context.HttpContext.Response.WriteAsync(
                    "Too many attempts from your address. Wait a minute, then try again.", cancellationToken);
            };
        });

        // A reverse proxy on this machine (nginx, Apache, Caddy) is trusted by default; others are listed by address.
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            foreach (var proxy in builder.Configuration.GetSection("TokenAdmin:KnownProxies").Get<string[]>() ?? [])
            {
                if (System.Net.IPNetwork.TryParse(proxy, out var network) && proxy.Contains('/', StringComparison.Ordinal))
                {
                    o.KnownIPNetworks.Add(network);
                }
                else if (System.Net.IPAddress.TryParse(proxy, out var address))
                {
                    o.KnownProxies.Add(address);
                }
                else
                {
                    throw new InvalidOperationException($"TokenAdmin:KnownProxies: '{proxy}' is neither an IP address nor a network such as 10.0.0.0/8.");
                }
            }
        });
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: ["ready"])
            .AddCheck<Dashboard.DeadSourcesHealthCheck>("token-sources", tags: ["ready"]);
        services.AddScoped<Dashboard.DashboardQuery>();
        services.AddSingleton<IBannerSource, InsecureUrlBanner>();
        services.AddHttpContextAccessor();
        services.AddSingleton<IBannerSource, PublicAddressBanner>();
        services.AddSingleton<IBannerSource, TokenBanners>();
        services.AddHostedService<SetupLinkAnnouncer>();
        Alerts.Channels.AlertChannelServices.AddAlertDispatcher(services);
        services.AddMetricsExport(builder.Configuration);
        return builder;
    }

    private static bool IsFormPost(HttpContext context) => !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method);

    private static FixedWindowRateLimiterOptions PerMinute(int permits) =>
        new() { PermitLimit = permits, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 };

    /// <summary>Brings the database up to date before the first request.</summary>
    public static async Task PrepareTokenAdminAsync(this WebApplication app)
    {
        using (var scope = app.Services.CreateScope())
        {
            await DatabaseStartup.MigrateAsync(scope.ServiceProvider.GetRequiredService<TokenAdminDb>(), CancellationToken.None);
        }

        KeyRingCheck.EnsureReadable(app.Services);

        var oidcOptions = app.Services.GetRequiredService<IOptionsMonitorCache<OpenIdConnectOptions>>();
        app.Services.GetRequiredService<SettingsStore>().Changed += () => oidcOptions.TryRemove(AdminAuthentication.OidcScheme);
    }

    public static WebApplication UseTokenAdmin(this WebApplication app)
    {
        // Note: no developer exception page, in any environment: a stack trace is never shown to a user.
        app.UsePeerAddress();
        app.UseForwardedHeaders();
        app.UseExceptionHandler("/error");
        app.UseStatusCodePagesWithReExecute("/error", "?code={0}");
        app.UseMiddleware<SecurityHeadersMiddleware>();
        app.UseMiddleware<PathBaseMiddleware>();
        app.UseStaticFiles();
        app.UseRouting();
        app.UseRateLimiter();
        WebServices.Api.ApiServices.UseTokenAdminApi(app);
        app.Use(OidcCallbacksOnlyWhenEnabledAsync);
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/healthz/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = HealthResponse.WriteAsync });
        app.MapRazorPages();
        WebServices.Api.ApiServices.MapTokenAdminApiEndpoints(app);
        app.MapMetricsExport();
        return app;
    }

    /// <summary>
    /// While admin OIDC sign-in is off, its callback addresses do not exist (404). Note: the OIDC handler is always
    /// registered and owns them; without settings it would answer a request there by fetching metadata from its
    /// placeholder address, a 500 with a stack trace in the log for anyone who calls /signin-oidc.
    /// </summary>
    private static async Task OidcCallbacksOnlyWhenEnabledAsync(HttpContext context, RequestDelegate next)
    {
        var path = context.Request.Path;
        if ((path.Equals("/signin-oidc", StringComparison.OrdinalIgnoreCase) || path.Equals("/signout-callback-oidc", StringComparison.OrdinalIgnoreCase))
            && await context.RequestServices.GetRequiredService<SettingsStore>().GetAsync(context.RequestAborted) is var settings
            && (!settings.GetBool(AdminOidcSettings.Enabled) || settings.Get(AdminOidcSettings.MetadataAddress).Length == 0))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        await next(context);
    }
}

/// <summary>On a first start (no admin yet) prints a one-time setup link with the address the server listens on.</summary>
internal sealed partial class SetupLinkAnnouncer(
    IServiceProvider services, IHostApplicationLifetime lifetime, ILogger<SetupLinkAnnouncer> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => _ = AnnounceAsync());
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task AnnounceAsync()
    {
        try
        {
            using var scope = services.CreateScope();
            if (await scope.ServiceProvider.GetRequiredService<AdminAccounts>().AnyAsync(lifetime.ApplicationStopping))
            {
                return;
            }

            var (token, expires) = await scope.ServiceProvider.GetRequiredService<SetupLinks>().CreateAsync(lifetime.ApplicationStopping);
            var baseUrl = services.GetService<Microsoft.AspNetCore.Hosting.Server.IServer>()?
                .Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                ?? (await services.GetRequiredService<SettingsStore>().GetAsync()).PublicBaseUrl;
            LogSetupLink(logger, $"{baseUrl.TrimEnd('/')}/setup?token={token}", expires);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogSetupLinkFailed(logger, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No admin exists yet. Create the first one with this one-time setup link (valid until {Expires:u}): {SetupLink}")]
    private static partial void LogSetupLink(ILogger logger, string setupLink, DateTime expires);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not create the first-run setup link.")]
    private static partial void LogSetupLinkFailed(ILogger logger, Exception exception);
}
