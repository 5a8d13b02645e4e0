namespace TokenAdmin.TokenProvider;

/// <summary>Bound from "TokenAdmin:TokenProvider".</summary>
public sealed class TokenProviderOptions
{
    /// <summary>A cached token is handed out only while it has more than this left; a token config may set its own.</summary>
    public TimeSpan DefaultLeadTime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long a cached token is trusted without looking at the database: the bound on how late this node notices a
    /// config switched off or a token replaced on another node.
    /// </summary>
    public TimeSpan MaxStaleness { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>First wait after a failed refresh; doubles with each further failure up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan FirstBackoff { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(5);
}
