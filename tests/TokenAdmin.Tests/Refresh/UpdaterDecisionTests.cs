using TokenAdmin.Refresh;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Refresh;

public sealed class UpdaterDecisionTests
{
    private static readonly DateTime Now = new(2026, 11, 23, 7, 13, 0, DateTimeKind.Utc);
    private static readonly DateTime NextRun = Now.AddHours(1);
    private static readonly TimeSpan Margin = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan IdleSafety = TimeSpan.FromDays(7);

    private static TokenSourceWatch Authorized(DateTime? accessExpires = null) => new(
        1, "mailbox", Valid: true, TokenFlows.AuthorizationCode, HasAccessToken: true, accessExpires ?? Now.AddDays(1),
        HasRefreshToken: true, RefreshTokenExpiresAt: null, RefreshTokenExpiryEstimated: false, RefreshTokenRevokedAt: null,
        ObtainedAt: Now.AddDays(-1), LastRefreshAt: Now.AddDays(-1));

    private static UpdaterDecision Decide(TokenSourceWatch c) => TokenStoreUpdater.Decide(c, Now, NextRun, Margin, IdleSafety);

    [Fact]
    public void Decide_AccessTokenExpiringBeforeNextRunPlusMargin_IsDue()
    {
        Assert.True(Decide(Authorized(NextRun.AddMinutes(4))).Due);
        Assert.True(Decide(Authorized(Now.AddMinutes(-1))).Due);
        Assert.Contains("expired", Decide(Authorized(Now.AddMinutes(-1))).Why, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_AccessTokenValidPastNextRunPlusMargin_IsNotDue()
    {
        var decision = Decide(Authorized(NextRun.AddMinutes(6)));

        Assert.False(decision.Due);
        Assert.StartsWith("not due: access token valid until", decision.Why, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_AccessTokenWithoutExpiry_IsNotDue_UnlikeOtobo()
    {
        // OTOBO refreshes every token with a NULL expiry on every run.
        Assert.False(Decide(Authorized() with { AccessTokenExpiresAt = null }).Due);
    }

    [Fact]
    public void Decide_SlidingRefreshTokenIdleTooLong_IsDue()
    {
        // Microsoft: 90 days without use. Last used 84 days ago: 90 - 7 days of safety is before the next run.
        var idle = Authorized() with { RefreshTokenLifetimeDays = 90, RefreshTokenSliding = true, LastRefreshAt = Now.AddDays(-84), RefreshTokenExpiresAt = Now.AddDays(6), RefreshTokenExpiryEstimated = true };

        var decision = Decide(idle);

        Assert.True(decision.Due);
        Assert.Contains("unused since", decision.Why, StringComparison.Ordinal);
        Assert.False(Decide(idle with { LastRefreshAt = Now.AddDays(-80) }).Due);
        Assert.False(Decide(idle with { RefreshTokenSliding = false }).Due);
    }

    [Fact]
    public void Decide_IdleRule_UsesObtainedAt_WhenNeverRefreshed()
    {
        var idle = Authorized() with { RefreshTokenLifetimeDays = 90, RefreshTokenSliding = true, LastRefreshAt = null, ObtainedAt = Now.AddDays(-85) };

        Assert.True(Decide(idle).Due);
    }

    [Fact]
    public void Decide_StatedRefreshTokenExpiryBeforeNextRun_IsDue()
    {
        var stated = Authorized() with { RefreshTokenExpiresAt = NextRun.AddMinutes(-10) };

        Assert.True(Decide(stated).Due);
        Assert.False(Decide(stated with { RefreshTokenExpiryEstimated = true }).Due);
    }

    [Theory]
    [InlineData("invalid")]
    [InlineData("revoked")]
    [InlineData("expired")]
    [InlineData("no-refresh-token")]
    [InlineData("never-authorized")]
    public void Decide_AuthorizationCodeThatNeedsAnAdmin_IsSkipped_EvenWhenExpired(string problem)
    {
        var expired = Authorized(Now.AddHours(-1));
        var candidate = problem switch
        {
            "invalid" => expired with { Valid = false },
            "revoked" => expired with { RefreshTokenRevokedAt = Now.AddHours(-2) },
            "expired" => expired with { RefreshTokenExpiresAt = Now.AddMinutes(-1) },
            "no-refresh-token" => expired with { HasRefreshToken = false },
            _ => expired with { HasAccessToken = false, HasRefreshToken = false, AccessTokenExpiresAt = null },
        };

        var decision = Decide(candidate);

        Assert.False(decision.Due);
        Assert.DoesNotContain("not due", decision.Why, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_ClientCredentialsThatHadAToken_IsDueByAccessTokenOnly()
    {
        var cc = new TokenSourceWatch(2, "app", true, TokenFlows.ClientCredentials, true, Now.AddMinutes(30), false, null, false, null, Now.AddHours(-1), null);

        Assert.True(Decide(cc).Due);
        Assert.False(Decide(cc with { AccessTokenExpiresAt = Now.AddHours(2) }).Due);
        Assert.False(Decide(cc with { HasAccessToken = false, AccessTokenExpiresAt = null }).Due);
    }

    [Fact]
    public void Decide_PasswordGrantWithRefusedRefreshToken_IsStillDue()
    {
        // A password config can always start afresh with its stored credentials.
        var password = new TokenSourceWatch(3, "user", true, TokenFlows.Password, true, Now.AddMinutes(-5), true, null, false, Now.AddDays(-1), Now.AddDays(-2), Now.AddDays(-2));

        Assert.True(Decide(password).Due);
    }
}
