using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;

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
}
