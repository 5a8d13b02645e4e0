using Microsoft.EntityFrameworkCore;
using TokenAdmin.Admin;
using TokenAdmin.Data;
using TokenAdmin.Secrets;

namespace TokenAdmin.Tokens;

/// <summary>What a token operation did, in words for an admin; <see cref="State"/> is the stored state it left (when it stored one).</summary>
public sealed record TokenOperationResult(bool Succeeded, string Message, TokenFailure? Failure = null, TokenState? State = null);

/// <summary>
/// Obtains and refreshes the tokens of a token config and keeps its <see cref="TokenState"/>: used by the pages,
/// the console verbs and (later) the token provider and refresh job.
/// </summary>
public sealed partial class TokenOperations(
    TokenAdminDb db,
    TokenEndpointClient endpoint,
    ISecretProtector protector,
    TokenStateEvents events,
    DatabaseWriteGate writes,
    TimeProvider time,
    ILogger<TokenOperations> logger)
{
    /// <summary>Client credentials or password grant: a token straight from the token endpoint.</summary>
    public Task<TokenOperationResult> RequestAsync(int configId, string actor, CancellationToken cancellationToken) =>
        GuardSecretsAsync(() => RequestCoreAsync(configId, actor, cancellationToken));

    private async Task<TokenOperationResult> RequestCoreAsync(int configId, string actor, CancellationToken cancellationToken)
    {
        var (config, document) = await LoadAsync(configId, cancellationToken);
        if (config is null)
        {
            return new TokenOperationResult(false, "This token config no longer exists.");
        }

        if (!config.Valid)
        {
            return new TokenOperationResult(false, $"'{config.Name}' is set to invalid; make it valid before requesting a token.");
        }

        var grant = document!.Flow switch
        {
            TokenFlows.ClientCredentials => new Dictionary<string, string> { ["grant_type"] = "client_credentials" },
            TokenFlows.Password => new Dictionary<string, string>
            {
                ["grant_type"] = "password",
                ["username"] = document.Username ?? "",
                ["password"] = config.PasswordProtected is null ? "" : protector.Unprotect(config.PasswordProtected),
            },
            _ => null,
        };
        if (grant is null)
        {
            return new TokenOperationResult(false, $"'{config.Name}' uses the authorization code flow: request its token in the browser with \"Request token\", or print the link with `tokens auth-url`.");
        }

        if (document.Scope.Length > 0)
        {
            grant["scope"] = document.Scope;
        }

        return await CallAsync(config, document, EndpointUrl(document.Endpoints.Token, document), grant, document.Parameters.Token, "token.requested", actor, cancellationToken);
    }

    /// <summary>
    /// The refresh_token grant. A rotated refresh token replaces the old one; a missing one keeps it. The refresh runs
    /// under a lease on the token's row, so no two processes (or two requests of one) spend one refresh token.
    /// <paramref name="stillNeeded"/> is asked once the lease is held, with the state as it is then: false means
    /// another process refreshed meanwhile and nothing is sent to the provider.
    /// </summary>
    public Task<TokenOperationResult> RefreshAsync(
        int configId, string actor, CancellationToken cancellationToken, Func<TokenState, bool>? stillNeeded = null) =>
        GuardSecretsAsync(() => RefreshCoreAsync(configId, actor, stillNeeded, cancellationToken));

    private async Task<TokenOperationResult> RefreshCoreAsync(
        int configId, string actor, Func<TokenState, bool>? stillNeeded, CancellationToken cancellationToken)
    {
        // Note: the lease comes first and the row is read once, under it: the refresh token read is the one to spend.
        var lease = Guid.NewGuid().ToString("N");
        var leased = await TokenRowLease.TakeAsync(db, writes, time, s => s.TokenConfigId == configId, lease, createRow: null, cancellationToken);
        var released = false;
        try
        {
            var (config, document) = await LoadAsync(configId, cancellationToken);
            if (config is null)
            {
                return new TokenOperationResult(false, "This token config no longer exists.");
            }

            if (leased == TokenRowLease.Outcome.Busy)
            {
                return new TokenOperationResult(false, $"Another refresh of '{config.Name}' is still running; try again in a minute.");
            }

            if (!config.Valid)
            {
                return new TokenOperationResult(false, $"'{config.Name}' is set to invalid; make it valid before refreshing its token.");
            }

            var state = config.State;
            if (state is not null && stillNeeded is not null && !stillNeeded(state))
            {
                return new TokenOperationResult(true, $"Token for '{config.Name}' was refreshed meanwhile by another process.", State: state);
            }

            // Client credentials and password configs can always start afresh: a refused refresh token is no dead end.
            if (state?.RefreshTokenProtected is null || state.RefreshTokenRevokedAt is not null)
            {
                if (document!.Flow != TokenFlows.AuthorizationCode)
                {
                    return await RequestCoreAsync(configId, actor, cancellationToken);
                }

                return state?.RefreshTokenProtected is null
                    ? new TokenOperationResult(false, $"'{config.Name}' has no refresh token yet: request a token first.")
                    : new TokenOperationResult(false, $"The refresh token of '{config.Name}' was refused by the provider ({state.LastErrorCode}). Request a new token.");
            }

            var grant = new Dictionary<string, string>
            {
                ["grant_type"] = "refresh_token",
                ["refresh_token"] = protector.Unprotect(state.RefreshTokenProtected),
            };
            var url = EndpointUrl(document!.Endpoints.Refresh ?? document.Endpoints.Token, document);
            var result = await CallAsync(config, document, url, grant, document.Parameters.Refresh, "token.refreshed", actor, cancellationToken);
            released = true; // the save that stored the outcome cleared the lease
            return result;
        }
        finally
        {
            if (leased == TokenRowLease.Outcome.Taken && !released)
            {
                await TokenRowLease.ReleaseAsync(db, writes, s => s.TokenConfigId == configId, lease);
            }
        }
    }

    /// <summary>Exchanges an authorization code (with its PKCE verifier) for tokens; checks the ID token's nonce.</summary>
    internal async Task<TokenOperationResult> ExchangeCodeAsync(
        TokenConfig config, TokenConfigDocument document, string code, string codeVerifier, string redirectUri, string? nonce,
        string actor, CancellationToken cancellationToken)
    {
        var grant = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = redirectUri,
            ["code_verifier"] = codeVerifier,
        };
        return await CallAsync(config, document, EndpointUrl(document.Endpoints.Token, document), grant, document.Parameters.Token,
            "token.authorized", actor, cancellationToken, nonce);
    }

    /// <summary>
    /// A secret written under another key ring (a lost or replaced master key) cannot be read: that is a message for
    /// the admin, not an error page.
    /// </summary>
    private static async Task<TokenOperationResult> GuardSecretsAsync(Func<Task<TokenOperationResult>> operation)
    {
        try
        {
            return await operation();
        }
        catch (SecretUnreadableException)
        {
            return new TokenOperationResult(false,
                "A stored secret or token of this config cannot be decrypted (it was written with another master key). " +
                "Enter the client secret (and password) again on the Edit page, then request a new token.");
        }
    }

    public static string EndpointUrl(string url, TokenConfigDocument document) =>
        url.Replace("{tenant}", Uri.EscapeDataString(document.Tenant ?? ""), StringComparison.Ordinal);

    private async Task<(TokenConfig? Config, TokenConfigDocument? Document)> LoadAsync(int configId, CancellationToken cancellationToken)
    {
        var config = await db.TokenConfigs.Include(c => c.State).SingleOrDefaultAsync(c => c.Id == configId, cancellationToken);
        return config is null ? (null, null) : (config, TokenConfigYaml.ParseShared(config.Yaml));
    }

    private async Task<TokenOperationResult> CallAsync(
        TokenConfig config, TokenConfigDocument document, string url, Dictionary<string, string> grant, Dictionary<string, string> extra,
        string auditAction, string actor, CancellationToken cancellationToken, string? expectedNonce = null)
    {
        var secret = config.ClientSecretProtected is null ? null : protector.Unprotect(config.ClientSecretProtected);
        var (response, failure) = await endpoint.RequestAsync(url, document, secret, grant, extra, cancellationToken);
        var state = config.State ??= new TokenState { TokenConfigId = config.Id };
        var now = time.GetUtcNow().UtcDateTime;
        if (response is not null && expectedNonce is not null && response.IdToken is not null
            && JwtInspector.Claim(response.IdToken, "nonce") != expectedNonce)
        {
            response = null;
            failure = new TokenFailure(TokenFailureKind.Rejected, "invalid_nonce", "The ID token's nonce does not match the request: the response was not for this sign-in and was discarded.");
        }

        if (response is null)
        {
            var isRefresh = grant["grant_type"] == "refresh_token";
            state.LastErrorCode = failure!.Code;
            state.LastErrorDescription = failure.Description;
            state.LastErrorAt = now;
            state.ConsecutiveFailures++;
            if (isRefresh && failure.RefreshTokenDead)
            {
                state.RefreshTokenRevokedAt = now;
            }

            state.Version = Guid.NewGuid().ToString("N");
            state.LeaseOwner = null;
            state.LeaseUntil = null;
            AuditLog.Add(db, time, actor, auditAction + "-failed", config.Name, $"{failure.Code}: {failure.Description}");
            using (await writes.EnterAsync(cancellationToken))
            {
                await db.SaveChangesAsync(cancellationToken);
            }

            events.Changed(config.Id);
            LogFailure(logger, config.Name, grant["grant_type"], failure.Code, failure.Description);
            var prefix = failure.Kind == TokenFailureKind.Unavailable ? "The provider could not be reached or failed; the stored tokens were kept." : "The provider refused the request.";
            return new TokenOperationResult(false, $"{prefix} {failure.Code}: {failure.Description}", failure);
        }

        Apply(state, document, response, now);
        state.LeaseOwner = null;
        state.LeaseUntil = null;
        AuditLog.Add(db, time, actor, auditAction, config.Name, Summary(state));
        // Note: the new refresh token is committed here, before the access token is handed to anyone. No
        // cancellation: the provider has already rotated the refresh token, so dropping this write would lose it.
        using (await writes.EnterAsync(CancellationToken.None))
        {
            try
            {
                await db.SaveChangesAsync(CancellationToken.None);
            }
            catch (DbUpdateConcurrencyException conflict)
            {
                // Someone changed the row meanwhile (an error recorded by a callback): the tokens just received still
                // win, because the provider has already invalidated the ones stored.
                foreach (var entry in conflict.Entries)
                {
                    await entry.ReloadAsync(CancellationToken.None);
                }

                Apply(state, document, response, now);
                state.LeaseOwner = null;
                state.LeaseUntil = null;
                await db.SaveChangesAsync(CancellationToken.None);
            }
        }

        events.Changed(config.Id);
        return new TokenOperationResult(true, $"Token for '{config.Name}' {(auditAction == "token.refreshed" ? "refreshed" : "received")}: {Summary(state)}.", State: state);
    }

    private void Apply(TokenState state, TokenConfigDocument document, TokenResponse response, DateTime now)
    {
        state.AccessTokenProtected = protector.Protect(response.AccessToken);
        state.TokenType = response.TokenType ?? "Bearer";
        // Note: a response without expires_in leaves the expiry to the JWT's exp, or unknown for opaque tokens.
        state.AccessTokenExpiresAt = response.ExpiresIn is { } seconds ? now.AddSeconds(seconds) : JwtInspector.TryDecode(response.AccessToken)?.ExpiresAt;
        state.GrantedScope = response.Scope ?? document.Scope;
        if (response.IdToken is not null)
        {
            state.IdTokenProtected = protector.Protect(response.IdToken);
        }

        if (response.RefreshToken is not null)
        {
            state.RefreshTokenProtected = protector.Protect(response.RefreshToken);
            state.RefreshTokenRevokedAt = null;
            (state.RefreshTokenExpiresAt, state.RefreshTokenExpiryEstimated) = response.RefreshTokenExpiresIn is { } rt
                ? (now.AddSeconds(rt), false)
                : document.RefreshToken.LifetimeDays is { } days ? (now.AddDays(days), true) : ((DateTime?)null, false);
        }
        else if (state.RefreshTokenProtected is not null && document.RefreshToken.Sliding && document.RefreshToken.LifetimeDays is { } days && state.RefreshTokenExpiryEstimated)
        {
            // The old refresh token stays (Znuny #226 keeps it too); a sliding lifetime starts again with this use.
            state.RefreshTokenExpiresAt = now.AddDays(days);
        }

        state.ObtainedAt ??= now;
        state.LastRefreshAt = now;
        state.LastErrorCode = null;
        state.LastErrorDescription = null;
        state.LastErrorAt = null;
        state.ConsecutiveFailures = 0;
        state.Version = Guid.NewGuid().ToString("N");
    }

    private static string Summary(TokenState state)
    {
        var access = state.AccessTokenExpiresAt is { } at ? $"valid until {at:yyyy-MM-dd HH:mm:ss} UTC" : "expiry not stated by the provider";
        var refresh = state.RefreshTokenProtected is null ? "no refresh token"
            : state.RefreshTokenExpiresAt is { } rt ? $"refresh token until {rt:yyyy-MM-dd HH:mm} UTC{(state.RefreshTokenExpiryEstimated ? " (assumed)" : "")}"
            : "refresh token without stated expiry";
        return $"{access}, {refresh}";
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Token request for '{Config}' ({GrantType}) failed: {Code}: {Description}")]
    private static partial void LogFailure(ILogger logger, string config, string grantType, string code, string description);
}
