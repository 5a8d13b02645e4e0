namespace TokenAdmin.Tokens;

public enum TokenStatusKind { Disabled, NotRequested, Valid, ExpiresSoon, Expired, RefreshTokenExpired, RefreshTokenRevoked, Failed }

/// <summary>The state of a token as the overview, the details page and the banners describe it.</summary>
public sealed record TokenStatus(TokenStatusKind Kind, string Text, string? LastError)
{
    /// <summary>The columns of <see cref="TokenState"/> the status needs, so lists can project just these.</summary>
    public sealed record Facts(
        bool Valid, bool HasAccessToken, DateTime? AccessTokenExpiresAt, bool HasRefreshToken, DateTime? RefreshTokenExpiresAt,
        bool RefreshTokenEstimated, DateTime? RefreshTokenRevokedAt, string? LastErrorCode, string? LastErrorDescription, DateTime? LastErrorAt);

    public bool IsProblem => Kind is TokenStatusKind.Expired or TokenStatusKind.RefreshTokenExpired or TokenStatusKind.RefreshTokenRevoked or TokenStatusKind.Failed;

    public static TokenStatus Of(Facts f, int expiringSoonDays, DateTime now)
    {
        var lastError = f.LastErrorCode is null ? null
            : $"{f.LastErrorCode}{(string.IsNullOrEmpty(f.LastErrorDescription) ? "" : ": " + f.LastErrorDescription)} ({f.LastErrorAt:yyyy-MM-dd HH:mm} UTC)";
        if (!f.Valid)
        {
            return new TokenStatus(TokenStatusKind.Disabled, "Disabled (invalid)", lastError);
        }

        if (f.RefreshTokenRevokedAt is { } revoked)
        {
            return new TokenStatus(TokenStatusKind.RefreshTokenRevoked, $"Refresh token revoked or refused since {revoked:yyyy-MM-dd HH:mm} UTC", lastError);
        }

        if (f.HasRefreshToken && f.RefreshTokenExpiresAt <= now)
        {
            return new TokenStatus(TokenStatusKind.RefreshTokenExpired, $"Refresh token expired {f.RefreshTokenExpiresAt:yyyy-MM-dd HH:mm} UTC", lastError);
        }

        if (!f.HasAccessToken)
        {
            return lastError is null
                ? new TokenStatus(TokenStatusKind.NotRequested, "Not requested yet", null)
                : new TokenStatus(TokenStatusKind.Failed, "Request failed", lastError);
        }

        // Note: a refresh token about to die matters more than an expired access token it can still renew.
        if (f.HasRefreshToken && expiringSoonDays > 0 && f.RefreshTokenExpiresAt is { } rt && rt - now <= TimeSpan.FromDays(expiringSoonDays))
        {
            return new TokenStatus(TokenStatusKind.ExpiresSoon, $"Refresh token expires in {DaysLeft(rt, now)} ({rt:yyyy-MM-dd HH:mm} UTC{(f.RefreshTokenEstimated ? ", assumed" : "")})", lastError);
        }

        if (f.AccessTokenExpiresAt <= now)
        {
            var text = f.HasRefreshToken ? $"Expired {f.AccessTokenExpiresAt:yyyy-MM-dd HH:mm} UTC (refresh token available)" : $"Expired {f.AccessTokenExpiresAt:yyyy-MM-dd HH:mm} UTC";
            return new TokenStatus(TokenStatusKind.Expired, text, lastError);
        }

        var valid = f.AccessTokenExpiresAt is { } at ? $"Valid until {at:yyyy-MM-dd HH:mm} UTC" : "Valid (no expiry stated)";
        return new TokenStatus(TokenStatusKind.Valid, valid, lastError);
    }

    public static string DaysLeft(DateTime until, DateTime now)
    {
        var days = (int)Math.Ceiling((until - now).TotalDays);
        return days <= 1 ? "less than a day" : $"{days} days";
    }

    public static Facts FactsOf(bool valid, TokenState? s) => new(
        valid, s?.AccessTokenProtected is not null, s?.AccessTokenExpiresAt, s?.RefreshTokenProtected is not null, s?.RefreshTokenExpiresAt,
        s?.RefreshTokenExpiryEstimated ?? false, s?.RefreshTokenRevokedAt, s?.LastErrorCode, s?.LastErrorDescription, s?.LastErrorAt);
}
