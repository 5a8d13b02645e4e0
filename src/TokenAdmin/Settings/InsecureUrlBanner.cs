using System.Security.Claims;
using TokenAdmin.Notifications;

namespace TokenAdmin.Settings;

/// <summary>Warns while the public URL is plain http on a host that is not this machine.</summary>
internal sealed class InsecureUrlBanner(SettingsStore settings) : IBannerSource
{
    public async ValueTask<IReadOnlyList<Banner>> GetBannersAsync(ClaimsPrincipal admin, CancellationToken cancellationToken)
    {
        var snapshot = await settings.GetAsync(cancellationToken);
        return snapshot.IsInsecurePublicUrl
            ? [new Banner(BannerLevel.Warning,
                $"TokenAdmin is set up for plain http at {snapshot.PublicBaseUrl}: passwords and tokens would cross the network unencrypted. " +
                "Production systems must use https (setting HttpType, or `config update --setting-name HttpType --value https`).",
                "/settings", "Open settings")]
            : [];
    }
}
