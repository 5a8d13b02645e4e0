namespace TokenAdmin.Tokens;

/// <summary>
/// What the updater needs to know of one token source to decide whether it is due: <see cref="AccessTokenExpiresAt"/>
/// is the expiry of the token the source hands out (a functional account's ID token when it hands out ID tokens),
/// the refresh token with its known or estimated expiry and its lifetime policy. One projected query per kind
/// (<see cref="ITokenSourceKind.WatchAsync"/>).
/// </summary>
public sealed record TokenSourceWatch(
    int Id, string Name, bool Valid, string Flow, bool HasAccessToken, DateTime? AccessTokenExpiresAt,
    bool HasRefreshToken, DateTime? RefreshTokenExpiresAt, bool RefreshTokenExpiryEstimated, DateTime? RefreshTokenRevokedAt,
    DateTime? ObtainedAt, DateTime? LastRefreshAt, int? RefreshTokenLifetimeDays = null, bool RefreshTokenSliding = false,
    TokenSourceKind Kind = TokenSourceKind.TokenConfig)
{
    public TokenSource Source => new(Kind, Id);
}
