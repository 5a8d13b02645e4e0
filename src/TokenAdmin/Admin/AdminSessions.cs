using System.Buffers.Text;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenAdmin.Data;
using TokenAdmin.Settings;

namespace TokenAdmin.Admin;

/// <summary>
/// Server-side sessions behind the sign-in cookie (see <see cref="AdminSession"/>). Wired into the cookie handler's
/// events, so every way of signing in (password, OpenID Connect) and out goes through here.
/// </summary>
public static class AdminSessions
{
    public const string SessionClaim = "tokenadmin:session";

    /// <summary>For OIDC admins: which provider and client signed them in ("metadata address|client id").</summary>
    public const string OidcSourceClaim = "tokenadmin:oidc-source";

    /// <summary>For OIDC admins: the admin claim's type and the values they had, checked against the current settings.</summary>
    public const string OidcAdminClaimClaim = "tokenadmin:oidc-admin-claim";
    public const string OidcAdminValueClaim = "tokenadmin:oidc-admin-value";

    public static string OidcSource(string metadataAddress, string clientId) => metadataAddress + "|" + clientId;

    /// <summary>Cookie event: a new sign-in gets its session row, named by a claim inside the cookie.</summary>
    public static async Task OnSigningInAsync(CookieSigningInContext context)
    {
        if (context.Principal?.Identity is not ClaimsIdentity identity)
        {
            return;
        }

        var services = context.HttpContext.RequestServices;
        var db = services.GetRequiredService<TokenAdminDb>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        var lifetime = services.GetRequiredService<IOptions<AdminOptions>>().Value.SessionLifetime;
        var subject = identity.FindFirst(ClaimTypes.NameIdentifier)?.Value ?? "";
        int? adminUserId = subject.StartsWith("local:", StringComparison.Ordinal) && int.TryParse(subject["local:".Length..], out var id) ? id : null;
        var session = new AdminSession
        {
            Id = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32)),
            AdminUserId = adminUserId,
            Subject = subject,
            CreatedAt = now,
            ExpiresAt = now + lifetime,
        };

        // Note: ended sessions of everyone are swept here, so the table holds only live sign-ins without a job.
        await db.AdminSessions.Where(s => s.ExpiresAt <= now).ExecuteDeleteAsync(context.HttpContext.RequestAborted);
        db.AdminSessions.Add(session);
        await db.SaveChangesAsync(context.HttpContext.RequestAborted);

        foreach (var old in identity.FindAll(SessionClaim).ToList())
        {
            identity.RemoveClaim(old);
        }

        identity.AddClaim(new Claim(SessionClaim, session.Id));
        // The cookie never outlives the session, even when the browser keeps it.
        context.Properties.ExpiresUtc = context.Properties.ExpiresUtc is { } expires && expires < session.ExpiresAt ? expires : session.ExpiresAt;
    }

    /// <summary>Cookie event: signing out ends the session on the server, so a copy of the cookie is worthless.</summary>
    public static async Task OnSigningOutAsync(CookieSigningOutContext context)
    {
        if (context.HttpContext.User.FindFirst(SessionClaim)?.Value is { } sessionId)
        {
            var db = context.HttpContext.RequestServices.GetRequiredService<TokenAdminDb>();
            await db.AdminSessions.Where(s => s.Id == sessionId).ExecuteDeleteAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// Cookie event, on every request: the session must exist and be within its lifetime; a local admin must still
    /// exist, be enabled and have the password (stamp) the cookie was issued for; an OIDC admin must still be allowed
    /// by the current OIDC settings.
    /// </summary>
    public static async Task ValidatePrincipalAsync(CookieValidatePrincipalContext context)
    {
        if (!await IsValidAsync(context.HttpContext, context.Principal))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(AdminAuthentication.CookieScheme);
        }
    }

    private static async Task<bool> IsValidAsync(HttpContext http, ClaimsPrincipal? principal)
    {
        var sessionId = principal?.FindFirst(SessionClaim)?.Value;
        if (principal is null || sessionId is null)
        {
            return false;
        }

        var services = http.RequestServices;
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        var db = services.GetRequiredService<TokenAdminDb>();
        // Note: one primary-key read per request, deliberately not cached: a revocation on another node must
        // count on the very next request here.
        var session = await db.AdminSessions.AsNoTracking()
            .Where(s => s.Id == sessionId && s.ExpiresAt > now)
            .Select(s => new { s.Subject, s.AdminUserId, Disabled = s.AdminUser != null && s.AdminUser.Disabled, Stamp = s.AdminUser != null ? s.AdminUser.SecurityStamp : null })
            .SingleOrDefaultAsync(http.RequestAborted);
        if (session is null || session.Subject != principal.FindFirst(ClaimTypes.NameIdentifier)?.Value)
        {
            return false;
        }

        return principal.FindFirst(AdminAuthentication.MethodClaim)?.Value switch
        {
            "local" => session.AdminUserId is not null && !session.Disabled && session.Stamp == principal.FindFirst(AdminAuthentication.StampClaim)?.Value,
            "oidc" => OidcStillAllowed(await services.GetRequiredService<SettingsStore>().GetAsync(http.RequestAborted), principal),
            _ => false,
        };
    }

    /// <summary>Signed out when admin OIDC sign-in is switched off, points elsewhere, or no longer accepts the admin's claim.</summary>
    private static bool OidcStillAllowed(SettingsSnapshot settings, ClaimsPrincipal principal)
    {
        if (!settings.GetBool(AdminOidcSettings.Enabled))
        {
            return false;
        }

        var source = OidcSource(settings.Get(AdminOidcSettings.MetadataAddress), settings.Get(AdminOidcSettings.ClientId));
        var adminValues = SettingValues.SplitList(settings.Get(AdminOidcSettings.AdminValues)).ToHashSet(StringComparer.Ordinal);
        return principal.FindFirst(OidcSourceClaim)?.Value == source
            && principal.FindFirst(OidcAdminClaimClaim)?.Value == settings.Get(AdminOidcSettings.AdminClaim)
            && principal.FindAll(OidcAdminValueClaim).Any(c => adminValues.Contains(c.Value));
    }

    /// <summary>Ends every session of a local admin (password change, disabling, removal); the caller saves nothing more.</summary>
    public static Task<int> EndAllAsync(TokenAdminDb db, int adminUserId, CancellationToken cancellationToken) =>
        db.AdminSessions.Where(s => s.AdminUserId == adminUserId).ExecuteDeleteAsync(cancellationToken);
}
