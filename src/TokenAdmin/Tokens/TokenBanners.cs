using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;
using TokenAdmin.Notifications;
using TokenAdmin.Settings;

namespace TokenAdmin.Tokens;

/// <summary>
/// The expiry banners of the token configs ("OAuth2 token X has expired", ...). Built by one query and cached until
/// a token changes or a minute passes (expiry is a matter of time too), so pages cost no query for them.
/// </summary>
public sealed class TokenBanners(IServiceScopeFactory scopes, TokenStateEvents events, SettingsStore settings, TimeProvider time) : IBannerSource, IDisposable
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(1);

    /// <summary>More banners than this are summed up in one: a wall of banners helps nobody.</summary>
    public const int MaxShown = 5;
    private readonly SemaphoreSlim _rebuild = new(1, 1);
    private volatile Cache? _cache;

    private sealed record Cache(long Version, DateTimeOffset BuiltAt, IReadOnlyList<Banner> Banners);

    public async ValueTask<IReadOnlyList<Banner>> GetBannersAsync(ClaimsPrincipal admin, CancellationToken cancellationToken)
    {
        if (Fresh(_cache) is { } cached)
        {
            return cached.Banners;
        }

        await _rebuild.WaitAsync(cancellationToken);
        try
        {
            if (Fresh(_cache) is { } other)
            {
                return other.Banners;
            }

            var version = events.Version;
            var banners = await BuildAsync(cancellationToken);
            _cache = new Cache(version, time.GetUtcNow(), banners);
            return banners;
        }
        finally
        {
            _rebuild.Release();
        }
    }

    public void Dispose() => _rebuild.Dispose();

    /// <summary>
    /// "The client certificate of token config X expires in N days", "The client secret of OIDC profile Y has expired":
    /// client secrets (with an expiry date) and certificates of valid token configs, functional accounts and OIDC profiles,
    /// from <see cref="CredentialSettings.WarningDays"/> before they expire. A source without a usable credential gets no token.
    /// </summary>
    private static async Task<List<Banner>> CredentialBannersAsync(TokenAdminDb db, DateTime now, int warningDays, CancellationToken cancellationToken)
    {
        var soon = now.AddDays(warningDays);
        var configs = await db.TokenConfigs.AsNoTracking()
            .Where(c => c.Valid && c.CredentialExpiresAt != null && c.CredentialExpiresAt <= soon)
            .OrderBy(c => c.NormalizedName).Take(100)
            .Select(c => new { c.Id, c.Name, HasSecret = c.ClientSecretProtected != null, c.ClientSecretExpiresAt, c.Certificate.NotAfter }).ToListAsync(cancellationToken);
        var accounts = await db.FunctionalAccounts.AsNoTracking()
            .Where(a => a.Valid && a.Certificate.NotAfter != null && a.Certificate.NotAfter <= soon)
            .OrderBy(a => a.NormalizedName).Take(100)
            .Select(a => new { a.Id, a.Name, a.Certificate.NotAfter }).ToListAsync(cancellationToken);
        // A profile's secret matters to its functional accounts: warned about once, on the profile that holds it.
        var profiles = await db.OidcProfiles.AsNoTracking()
            .Where(p => p.ClientSecretProtected != null && p.ClientSecretExpiresAt != null && p.ClientSecretExpiresAt <= soon
                && db.FunctionalAccounts.Any(a => a.Valid && a.OidcProfileId == p.Id))
            .OrderBy(p => p.NormalizedName).Take(100)
            .Select(p => new { p.Id, p.Name, p.ClientSecretExpiresAt }).ToListAsync(cancellationToken);
        var banners = new List<Banner>();
        foreach (var c in configs)
        {
            foreach (var credential in CredentialExpiry.Of(c.HasSecret, c.ClientSecretExpiresAt, c.NotAfter).Where(e => e.ExpiresAt <= soon))
            {
                banners.Add(CredentialBanner(credential, $"token config {c.Name}", now, $"/tokens/edit/{c.Id}"));
            }
        }

        banners.AddRange(accounts.Select(a => CredentialBanner(new CredentialExpiry(CredentialExpiry.Certificate, a.NotAfter!.Value), $"functional account {a.Name}", now, $"/functionalaccounts/edit/{a.Id}")));
        banners.AddRange(profiles.Select(p => CredentialBanner(new CredentialExpiry(CredentialExpiry.Secret, p.ClientSecretExpiresAt!.Value), $"OIDC profile {p.Name} (used by its functional accounts)", now, $"/oidcprofiles/edit/{p.Id}")));
        return banners;
    }

    private static Banner CredentialBanner(CredentialExpiry credential, string what, DateTime now, string link) => credential.What == CredentialExpiry.Certificate
        ? credential.Expired(now)
            ? new Banner(BannerLevel.Error, $"The client certificate of {what} has expired: upload a new one (and register it at the provider).", link, "Upload certificate")
            : new Banner(BannerLevel.Warning, $"The client certificate of {what} expires in {TokenStatus.DaysLeft(credential.ExpiresAt, now)}: upload a new one and register it at the provider.", link, "Upload certificate")
        : credential.Expired(now)
            ? new Banner(BannerLevel.Error, $"The client secret of {what} expired on {credential.ExpiresAt:yyyy-MM-dd}: create a new secret at the provider and enter it (with its expiry date).", link, "Enter new secret")
            : new Banner(BannerLevel.Warning, $"The client secret of {what} expires in {TokenStatus.DaysLeft(credential.ExpiresAt, now)} ({credential.ExpiresAt:yyyy-MM-dd}): create a new secret at the provider and enter it (with its expiry date).", link, "Enter new secret");

    private Cache? Fresh(Cache? cache) =>
        cache is not null && cache.Version == events.Version && time.GetUtcNow() - cache.BuiltAt < MaxAge ? cache : null;

    private async Task<IReadOnlyList<Banner>> BuildAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var horizon = now.AddDays(366);
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenAdminDb>();
        // Only configs whose tokens are dead or dying can raise a banner; the rest are not read.
        var candidates = await db.TokenConfigs.AsNoTracking()
            .Where(c => c.Valid && c.State != null)
            .Where(c => c.State!.RefreshTokenRevokedAt != null || c.State.AccessTokenExpiresAt <= now
                || (c.State.RefreshTokenProtected != null && c.State.RefreshTokenExpiresAt <= horizon))
            .OrderBy(c => c.NormalizedName)
            .Select(c => new { c.Id, c.Name, c.Flow, c.Yaml, c.State })
            .Take(500)
            .ToListAsync(cancellationToken);

        var banners = new List<Banner>();
        foreach (var c in candidates)
        {
            var notifications = TokenConfigYaml.Parse(c.Yaml).Notifications;
            var s = c.State!;
            var link = $"/tokens/details/{c.Id}";
            var refreshUsable = s.RefreshTokenProtected is not null && s.RefreshTokenRevokedAt is null && !(s.RefreshTokenExpiresAt <= now);
            if (notifications.RefreshTokenExpired && s.RefreshTokenRevokedAt is not null)
            {
                banners.Add(new Banner(BannerLevel.Error, $"OAuth2 refresh token {c.Name} has expired: the provider refused it ({s.LastErrorCode}). Request a new token.", link, "Request new token"));
            }
            else if (notifications.RefreshTokenExpired && s.RefreshTokenProtected is not null && s.RefreshTokenExpiresAt <= now)
            {
                banners.Add(new Banner(BannerLevel.Error, $"OAuth2 refresh token {c.Name} has expired.", link, "Request new token"));
            }
            else if (notifications.ExpiringSoonDays > 0 && refreshUsable && s.RefreshTokenExpiresAt is { } rt && rt - now <= TimeSpan.FromDays(notifications.ExpiringSoonDays))
            {
                banners.Add(new Banner(BannerLevel.Warning, $"OAuth2 refresh token {c.Name} expires in {TokenStatus.DaysLeft(rt, now)}.", link, "Refresh"));
            }

            // An expired access token that can still be refreshed is routine; one that cannot is news.
            if (notifications.TokenExpired && s.AccessTokenExpiresAt <= now && !refreshUsable
                && (TokenFlows.NeedsPerson(c.Flow) || s.LastErrorCode is not null))
            {
                banners.Add(new Banner(BannerLevel.Error, $"OAuth2 token {c.Name} has expired.", link, c.Flow == TokenFlows.AuthorizationCode ? "Request new token" : c.Flow == TokenFlows.DeviceCode ? "Device sign-in" : "Request token"));
            }
        }

        banners.AddRange(await CredentialBannersAsync(db, now, CredentialSettings.Warning(await settings.GetAsync(cancellationToken)), cancellationToken));
        if (banners.Count <= MaxShown)
        {
            return banners;
        }

        var shown = banners.OrderByDescending(b => b.Level).Take(MaxShown - 1).ToList();
        shown.Add(new Banner(BannerLevel.Warning, $"{banners.Count - shown.Count} more warnings about OAuth2 tokens that have expired or expire soon.", "/tokens", "Open the token overview"));
        return shown;
    }
}
