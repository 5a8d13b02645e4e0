using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using TokenAdmin.Data;
using TokenAdmin.Secrets;
using TokenAdmin.Settings;

namespace TokenAdmin.Admin;

/// <summary>
/// Builds the OIDC sign-in options from the stored settings when the handler first needs them. When the settings
/// change, the cached options are dropped (see Hosting/TokenAdminHostingExtensions.cs) and built again.
/// </summary>
internal sealed class AdminOidcOptionsSetup(SettingsStore settings, ILogger<AdminOidcOptionsSetup> logger) : IConfigureNamedOptions<OpenIdConnectOptions>
{
    public void Configure(OpenIdConnectOptions options) => Configure(Options.DefaultName, options);

    public void Configure(string? name, OpenIdConnectOptions options)
    {
        if (name != AdminAuthentication.OidcScheme)
        {
            return;
        }

        // Note: options are built synchronously by the framework, once per settings change. They must never throw:
        // the authentication middleware builds them on every request until they succeed, so a throw here would
        // answer 500 on every page, the settings page that could fix it included.
        try
        {
            ConfigureFromSettings(options);
        }
        catch (Exception ex) when (ex is SecretUnreadableException or InvalidOperationException or UriFormatException)
        {
            logger.LogError(ex, "OIDC sign-in for admins is switched off until its settings are fixed: {Reason}", ex.Message);
            Unconfigured(options);
        }
    }

    private void ConfigureFromSettings(OpenIdConnectOptions options)
    {
        var snapshot = settings.GetAsync().AsTask().GetAwaiter().GetResult();
        options.SignInScheme = AdminAuthentication.CookieScheme;
        options.CallbackPath = "/signin-oidc";
        options.SignedOutCallbackPath = "/signout-callback-oidc";
        options.ResponseType = OpenIdConnectResponseType.Code; // the handler defaults to id_token
        options.UsePkce = true;
        // Note: the provider redirects back with a GET (response_mode=query), so the correlation and nonce cookies
        // can be SameSite=Lax and Secure only under https. The default form_post needs SameSite=None + Secure,
        // which breaks sign-in on plain http anywhere but localhost.
        options.ResponseMode = OpenIdConnectResponseMode.Query;
        options.CorrelationCookie.SameSite = SameSiteMode.Lax;
        options.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        options.NonceCookie.SameSite = SameSiteMode.Lax;
        options.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        options.MapInboundClaims = false;
        options.SaveTokens = false;
        options.GetClaimsFromUserInfoEndpoint = false;
        options.DisableTelemetry = true;
        options.TokenValidationParameters.NameClaimType = "name";
        options.TokenValidationParameters.RoleClaimType = ClaimTypes.Role;

        var metadata = snapshot.Get(AdminOidcSettings.MetadataAddress);
        if (!snapshot.GetBool(AdminOidcSettings.Enabled) || metadata.Length == 0)
        {
            Unconfigured(options);
            return;
        }

        var metadataUri = new Uri(metadata);
        options.RequireHttpsMetadata = !Loopback.IsLoopback(metadataUri);
        if (options.RequireHttpsMetadata && metadataUri.Scheme != "https")
        {
            throw new InvalidOperationException($"the metadata address {metadata} must use https.");
        }

        options.MetadataAddress = metadata;
        options.ClientId = snapshot.Get(AdminOidcSettings.ClientId);
        options.ClientSecret = snapshot.GetSecret(AdminOidcSettings.ClientSecret);
        options.Scope.Clear();
        options.Scope.Add("openid");
        foreach (var scope in SettingValues.SplitList(snapshot.Get(AdminOidcSettings.Scopes)))
        {
            options.Scope.Add(scope);
        }

        var displayName = snapshot.Get(AdminOidcSettings.DisplayName);
        var adminClaim = snapshot.Get(AdminOidcSettings.AdminClaim);
        var adminValues = SettingValues.SplitList(snapshot.Get(AdminOidcSettings.AdminValues)).ToHashSet(StringComparer.Ordinal);
        options.Events = new OpenIdConnectEvents
        {
            OnTokenValidated = context => OnTokenValidatedAsync(
                context, displayName, adminClaim, adminValues, AdminSessions.OidcSource(metadata, options.ClientId)),
            OnRemoteFailure = async context =>
            {
                var services = context.HttpContext.RequestServices;
                var logger = services.GetRequiredService<ILogger<AdminOidcOptionsSetup>>();
                logger.LogWarning("Admin sign-in with {Provider} failed: {Reason}", displayName, context.Failure?.Message);
                var code = context.Failure?.Message.StartsWith("not-admin", StringComparison.Ordinal) == true ? "oidc-not-admin" : "oidc-failed";
                var db = services.GetRequiredService<TokenAdminDb>();
                AuditLog.Add(db, services.GetRequiredService<TimeProvider>(), "anonymous", "admin.sign-in-failed", displayName,
                    "OpenID Connect: " + (context.Failure?.Message ?? "no reason given"));
                await db.SaveChangesAsync(CancellationToken.None);
                context.Response.Redirect(context.Request.PathBase + "/account/login?error=" + code);
                context.HandleResponse();
            },
        };
    }

    private static async Task OnTokenValidatedAsync(
        TokenValidatedContext context, string provider, string adminClaim, HashSet<string> adminValues, string source)
    {
        var incoming = context.Principal!;
        var subject = incoming.FindFirst("sub")?.Value ?? "";
        var name = incoming.FindFirst("preferred_username")?.Value
            ?? incoming.FindFirst("email")?.Value
            ?? incoming.FindFirst("name")?.Value
            ?? subject;
        if (!incoming.FindAll(adminClaim).Any(c => adminValues.Contains(c.Value)))
        {
            context.Fail($"not-admin: {name} at {provider} has no '{adminClaim}' claim with an admin value.");
            return;
        }

        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, "oidc:" + subject),
                new Claim(ClaimTypes.Name, name),
                new Claim(ClaimTypes.Role, AdminAuthentication.AdminRole),
                new Claim(AdminAuthentication.MethodClaim, "oidc"),
                // What the session check (AdminSessions) compares with the settings on every request.
                new Claim(AdminSessions.OidcSourceClaim, source),
                new Claim(AdminSessions.OidcAdminClaimClaim, adminClaim),
                .. incoming.FindAll(adminClaim).Where(c => adminValues.Contains(c.Value)).Select(c => new Claim(AdminSessions.OidcAdminValueClaim, c.Value)),
            ],
            AdminAuthentication.OidcScheme, ClaimTypes.Name, ClaimTypes.Role);
        context.Principal = new ClaimsPrincipal(identity);

        var services = context.HttpContext.RequestServices;
        var db = services.GetRequiredService<TokenAdminDb>();
        AuditLog.Add(db, services.GetRequiredService<TimeProvider>(), "oidc:" + name, "admin.signed-in", name, "OpenID Connect: " + provider);
        await db.SaveChangesAsync(context.HttpContext.RequestAborted);
    }

    /// <summary>
    /// The handler is registered always; without usable settings it is never challenged (the login page hides it),
    /// but it still needs a well-formed address to validate its options.
    /// </summary>
    private static void Unconfigured(OpenIdConnectOptions options)
    {
        options.MetadataAddress = "https://oidc.invalid/.well-known/openid-configuration";
        options.RequireHttpsMetadata = true;
        options.ClientId = "not-configured";
        options.ClientSecret = null;
    }
}
