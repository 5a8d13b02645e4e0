namespace TokenAdmin.Admin;

/// <summary>Sign-in protection. Bound from "TokenAdmin:SignIn".</summary>
public sealed class AdminOptions
{
    /// <summary>Failed sign-ins in a row (per account name and per client address) before tries must wait (see SignInThrottle).</summary>
    public int MaxFailedSignIns { get; set; } = 5;

    /// <summary>The wait after the first failure beyond <see cref="MaxFailedSignIns"/>; it doubles with each further failure.</summary>
    public TimeSpan FirstDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between tries (the name stays from the hard lock it replaced).</summary>
    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Sign-in and setup form posts allowed per client address and minute.</summary>
    public int PostsPerMinute { get; set; } = 10;

    /// <summary>
    /// Sign-in and setup form posts allowed per minute through one trusted proxy, for all the client addresses it
    /// forwards together (empty: ten times <see cref="PostsPerMinute"/>). See Hosting/ClientAddress.
    /// </summary>
    public int? ProxyPostsPerMinute { get; set; }

    public TimeSpan SetupLinkLifetime { get; set; } = TimeSpan.FromHours(1);

    public int MinPasswordLength { get; set; } = 12;

    /// <summary>
    /// How long a sign-in lasts at most, however active the admin is. Independent of the idle timeout (8 hours
    /// without a request), which the cookie's sliding expiration enforces.
    /// </summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(12);
}
