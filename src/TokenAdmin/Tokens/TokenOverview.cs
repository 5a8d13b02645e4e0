using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;

namespace TokenAdmin.Tokens;

/// <param name="Credential">The client secret or certificate that expires first, if any (<see cref="CredentialExpiry"/>).</param>
public sealed record TokenOverviewRow(int Id, string Name, string Template, string Flow, bool Valid, TokenStatus Status, CredentialExpiry? Credential = null);

public sealed record TokenOverviewPage(IReadOnlyList<TokenOverviewRow> Rows, int Page, int Pages, int Total);

/// <summary>The overview list: one indexed, projected query per page, whatever the number of configs.</summary>
public static class TokenOverview
{
    public const int PageSize = 50;

    public static async Task<TokenOverviewPage> ReadAsync(TokenAdminDb db, string? search, int page, DateTime now, CancellationToken cancellationToken)
    {
        var query = db.TokenConfigs.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(search))
        {
            var s = search.Trim().ToLowerInvariant();
#pragma warning disable CA1862 // the names are stored lower-cased; the StringComparison overload has no SQL.
            // Note: matching the indexed NormalizedName only lets SQLite answer from the index, without reading rows.
            query = query.Where(c => c.NormalizedName.Contains(s));
#pragma warning restore CA1862
        }

        var total = await query.CountAsync(cancellationToken);
        var pages = Math.Max(1, (total + PageSize - 1) / PageSize);
        page = Math.Clamp(page, 1, pages);
        var rows = await query
            .OrderBy(c => c.NormalizedName)
            .Skip((page - 1) * PageSize).Take(PageSize)
            .Select(c => new
            {
                c.Id, c.Name, c.Template, c.Flow, c.Valid, c.ExpiringSoonDays,
                HasAccess = c.State != null && c.State.AccessTokenProtected != null,
                AccessExpires = c.State == null ? null : c.State.AccessTokenExpiresAt,
                HasRefresh = c.State != null && c.State.RefreshTokenProtected != null,
                RefreshExpires = c.State == null ? null : c.State.RefreshTokenExpiresAt,
                Estimated = c.State != null && c.State.RefreshTokenExpiryEstimated,
                Revoked = c.State == null ? null : c.State.RefreshTokenRevokedAt,
                ErrorCode = c.State == null ? null : c.State.LastErrorCode,
                ErrorDescription = c.State == null ? null : c.State.LastErrorDescription,
                ErrorAt = c.State == null ? null : c.State.LastErrorAt,
                HasSecret = c.ClientSecretProtected != null,
                c.ClientSecretExpiresAt,
                CertificateNotAfter = c.Certificate.NotAfter,
            })
            .ToListAsync(cancellationToken);
        return new TokenOverviewPage(
            rows.Select(r => new TokenOverviewRow(r.Id, r.Name, r.Template, r.Flow, r.Valid, TokenStatus.Of(
                new TokenStatus.Facts(r.Valid, r.HasAccess, r.AccessExpires, r.HasRefresh, r.RefreshExpires, r.Estimated, r.Revoked, r.ErrorCode, r.ErrorDescription, r.ErrorAt),
                r.ExpiringSoonDays, now), CredentialExpiry.Soonest(r.HasSecret, r.ClientSecretExpiresAt, r.CertificateNotAfter))).ToList(),
            page, pages, total);
    }
}
