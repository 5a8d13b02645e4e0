using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;

namespace TokenAdmin.Notifications;

public enum BannerLevel { Info, Warning, Error }

/// <summary>A message in the notification area under the top menu, optionally linking to where it is fixed.</summary>
public sealed record Banner(BannerLevel Level, string Text, string? Link = null, string? LinkText = null);

/// <summary>
/// A capability that has something to tell admins (an insecure URL, an expiring token). Sources must answer from
/// memory: the notification area is rendered on every page.
/// </summary>
public interface IBannerSource
{
    ValueTask<IReadOnlyList<Banner>> GetBannersAsync(ClaimsPrincipal admin, CancellationToken cancellationToken);
}

/// <summary>Renders every source's banners for a signed-in admin.</summary>
public sealed class NotificationsViewComponent(IEnumerable<IBannerSource> sources) : ViewComponent
{
    public async Task<IViewComponentResult> InvokeAsync()
    {
        var banners = new List<Banner>();
        if (User.Identity?.IsAuthenticated == true)
        {
            foreach (var source in sources)
            {
                banners.AddRange(await source.GetBannersAsync(UserClaimsPrincipal, HttpContext.RequestAborted));
            }
        }

        return View(banners);
    }
}
