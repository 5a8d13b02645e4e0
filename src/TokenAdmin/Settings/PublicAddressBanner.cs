using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using TokenAdmin.Notifications;

namespace TokenAdmin.Settings;

/// <summary>
/// Warns on every page while TokenAdmin is opened at another address than its public URL: the redirect URI that
/// providers send the admin back to is built from the public URL, so a sign-in started here would end somewhere else.
/// </summary>
internal sealed class PublicAddressBanner(SettingsStore settings, IHttpContextAccessor http) : IBannerSource
{
    public async ValueTask<IReadOnlyList<Banner>> GetBannersAsync(ClaimsPrincipal admin, CancellationToken cancellationToken)
    {
        if (http.HttpContext?.Request is not { } request)
        {
            return [];
        }

        var snapshot = await settings.GetAsync(cancellationToken);
        var inUse = $"{request.Scheme}://{request.Host.Value}{request.PathBase}";
        return SameAddress(inUse, snapshot.PublicBaseUrl)
            ? []
            : [new Banner(BannerLevel.Warning,
                $"You opened TokenAdmin at {inUse}, but its public URL is {snapshot.PublicBaseUrl}: providers send admins back to "
                + $"{snapshot.RedirectUri}. If this is the address admins and providers use, change HTTP type, FQDN and path base on Settings.",
                "/settings", "Open settings")];
    }

    /// <summary>Equal up to case, a default port and a trailing slash.</summary>
    internal static bool SameAddress(string a, string b) =>
        Uri.TryCreate(a.TrimEnd('/'), UriKind.Absolute, out var x) && Uri.TryCreate(b.TrimEnd('/'), UriKind.Absolute, out var y)
        && string.Equals(x.GetLeftPart(UriPartial.Path).TrimEnd('/'), y.GetLeftPart(UriPartial.Path).TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
}
