namespace TokenAdmin.Tokens;

/// <summary>
/// A capability that takes tokens from token sources (mail accounts, the SMTP setting, web services) tells here what
/// uses one, so that a token config or a functional account in use is not deleted from under it.
/// </summary>
public interface ITokenSourceUsage
{
    /// <summary>Human-readable names of what uses the source, e.g. "mail account support@example.com at imap.example.com".</summary>
    Task<IReadOnlyList<string>> FindUsesAsync(TokenSource source, CancellationToken cancellationToken);
}
