using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;

namespace TokenAdmin.Admin;

/// <summary>Names and helpers shared by local and OIDC sign-in.</summary>
public static class AdminAuthentication
{
    public const string CookieScheme = CookieAuthenticationDefaults.AuthenticationScheme;
    public const string OidcScheme = OpenIdConnectDefaults.AuthenticationScheme;
    public const string AdminRole = "Admin";
    public const string AdminPolicy = "Admin";
    public const string MethodClaim = "tokenadmin:method";
    public const string StampClaim = "tokenadmin:stamp";
    private const string ValidatedAtKey = "tokenadmin:validated";
    private static readonly TimeSpan RevalidateEvery = TimeSpan.FromMinutes(1);

    public static ClaimsPrincipal LocalPrincipal(AdminUser user) => new(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, "local:" + user.Id),
            new Claim(ClaimTypes.Name, user.UserName),
            new Claim(ClaimTypes.Role, AdminRole),
            new Claim(MethodClaim, "local"),
            new Claim(StampClaim, user.SecurityStamp),
        ],
        CookieScheme, ClaimTypes.Name, ClaimTypes.Role));

    /// <summary>The name written into the audit log for the signed-in admin.</summary>
    public static string Actor(ClaimsPrincipal user) =>
        user.FindFirstValue(MethodClaim) switch
        {
            "oidc" => "oidc:" + user.Identity?.Name,
            "local" => "admin:" + user.Identity?.Name,
            _ => "anonymous",
        };

    /// <summary>
    /// A local admin's cookie stops working when the admin is gone or the password changed. Checked once a minute
    /// per cookie, not on every request.
    /// </summary>
    public static async Task ValidateLocalAdminAsync(CookieValidatePrincipalContext context)
    {
        var principal = context.Principal;
        if (principal?.FindFirstValue(MethodClaim) != "local")
        {
            return;
        }

        var time = context.HttpContext.RequestServices.GetRequiredService<TimeProvider>();
        var now = time.GetUtcNow();
        if (context.Properties.Items.TryGetValue(ValidatedAtKey, out var last)
            && DateTimeOffset.TryParse(last, System.Globalization.CultureInfo.InvariantCulture, out var at)
            && now - at < RevalidateEvery)
        {
            return;
        }

        var id = principal.FindFirstValue(ClaimTypes.NameIdentifier)?["local:".Length..];
        var stamp = principal.FindFirstValue(StampClaim);
        var db = context.HttpContext.RequestServices.GetRequiredService<TokenAdminDb>();
        var valid = int.TryParse(id, out var userId)
            && await db.AdminUsers.AnyAsync(u => u.Id == userId && u.SecurityStamp == stamp, context.HttpContext.RequestAborted);
        if (!valid)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieScheme);
            return;
        }

        context.Properties.Items[ValidatedAtKey] = now.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        context.ShouldRenew = true;
    }
}
