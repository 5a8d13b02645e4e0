using TokenAdmin.Secrets;

namespace TokenAdmin.Tokens;

/// <summary>The diagnosis of one source's current access token with what uses the source; never holds the token.</summary>
public sealed record SourceDiagnosis(
    TokenSource Source,
    string Name,
    string Noun,
    string SourcePage,
    string Flow,
    bool HandsOutIdToken,
    TokenDiagnosis Diagnosis,
    JwtInspector.Decoded? Claims,
    DateTime? StoredExpiresAt,
    bool TokensUnreadable,
    IReadOnlyList<string> UsedBy);

/// <summary>
/// The Diagnose action of token configs and functional accounts alike (pages and the console verb): loads the
/// source through the engine, decrypts its current access token only to decode it, and explains it with
/// <see cref="TokenDiagnosis"/>.
/// </summary>
public sealed class TokenDiagnostics(TokenEngine engine, ISecretProtector protector, IEnumerable<ITokenSourceUsage> usages, TimeProvider time)
{
    /// <summary>Null when the source does not exist.</summary>
    /// <exception cref="TokenSourceUnreadableException">its stored configuration cannot be read</exception>
    public async Task<SourceDiagnosis?> DiagnoseAsync(TokenSource source, CancellationToken cancellationToken)
    {
        if (await engine.FindAsync(source, cancellationToken) is not { } definition)
        {
            return null;
        }

        var state = definition.State;
        var now = time.GetUtcNow().UtcDateTime;
        string? accessToken = null;
        var unreadable = false;
        if (state?.AccessTokenProtected is { } protectedToken)
        {
            try
            {
                accessToken = protector.Unprotect(protectedToken);
            }
            catch (SecretUnreadableException)
            {
                unreadable = true;
            }
        }

        var diagnosis = unreadable
            ? new TokenDiagnosis(TokenFormat.None, "The stored tokens cannot be decrypted (they were written with another master key). Request a new token.", [], [], null, false)
            : TokenDiagnosis.Explain(accessToken, state?.GrantedScope, now);
        var claims = diagnosis.Format == TokenFormat.Jwt ? JwtInspector.TryDecode(accessToken) : null;
        var uses = new List<string>();
        foreach (var usage in usages)
        {
            uses.AddRange(await usage.FindUsesAsync(source, cancellationToken));
        }

        return new SourceDiagnosis(source, definition.Name, definition.Kind.Noun, definition.Kind.PagePath(source.Id), definition.Flow,
            definition.HandsOutIdToken, diagnosis, claims, state?.AccessTokenExpiresAt, unreadable, uses);
    }
}
