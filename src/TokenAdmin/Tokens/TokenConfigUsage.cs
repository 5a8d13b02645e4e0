namespace TokenAdmin.Tokens;

/// <summary>
/// A capability that uses token configs (mail accounts, the SMTP setting, web services) tells here what uses one,
/// so that a config in use is not deleted from under it.
/// </summary>
public interface ITokenConfigUsage
{
    /// <summary>Human-readable names of what uses the config, e.g. "mail account support@example.com".</summary>
    Task<IReadOnlyList<string>> FindUsesAsync(int tokenConfigId, string tokenConfigName, CancellationToken cancellationToken);
}
