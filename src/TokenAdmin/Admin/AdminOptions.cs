namespace TokenAdmin.Admin;

/// <summary>Sign-in protection. Bound from "TokenAdmin:SignIn".</summary>
public sealed class AdminOptions
{
    /// <summary>Failed passwords in a row that lock a local admin.</summary>
    public int MaxFailedSignIns { get; set; } = 5;

    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Sign-in and setup form posts allowed per client address and minute.</summary>
    public int PostsPerMinute { get; set; } = 10;

    public TimeSpan SetupLinkLifetime { get; set; } = TimeSpan.FromHours(1);

    public int MinPasswordLength { get; set; } = 12;

    /// <summary>
    /// How long a sign-in lasts at most, however active the admin is. Independent of the idle timeout (8 hours
    /// without a request), which the cookie's sliding expiration enforces.
    /// </summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(12);
}
