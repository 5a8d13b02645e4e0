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
        var lease = TokenRowLease.NewOwner(time);
        var leased = await TokenRowLease.TakeAsync(db, writes, time, s => s.TokenConfigId == configId, lease, createRow: null, cancellationToken, logger: logger);
        var released = false;
        try
        {
            var (config, document) = await LoadAsync(configId, cancellationToken);
            if (config is null)
            {
                return new TokenOperationResult(false, "This token config no longer exists.");
            }

            if (leased.Outcome == TokenRowLease.Outcome.Busy)
            {
                var busy = TokenRowLease.BusyFailure(config.Name, leased, time.GetUtcNow().UtcDateTime);
                return new TokenOperationResult(false, busy.Description, busy);
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
            if (leased.Taken && !released)
            {
                await TokenRowLease.ReleaseAsync(db, writes, s => s.TokenConfigId == configId, lease);
            }
        }
    }

    /// <summary>
    /// The refresh_token grant for many token configs at once, for the token store updater: one statement takes the
    /// row leases of all, one query reads them, the requests run concurrently (at most <paramref name="parallelism"/>
    /// at a time), and one transaction stores every outcome before anything is handed out — the same rules as
    /// <see cref="RefreshAsync"/> with a fraction of its database work per token. A config this path leaves alone gets
    /// a null result, for the one-by-one path with its full handling: leased by someone else, deleted, set to
    /// invalid, without a usable refresh token, after failures (backoff), or with a secret that cannot be decrypted.
    /// A config refreshed after <paramref name="refreshedSince"/> (by another process) is not refreshed again.
    /// </summary>
    public async Task<IReadOnlyList<(int ConfigId, TokenOperationResult? Result)>> RefreshManyAsync(
        IReadOnlyList<int> configIds, DateTime refreshedSince, string actor, int parallelism, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var ids = configIds.Distinct().ToList();
        var lease = TokenRowLease.NewOwner(time);
        var now = time.GetUtcNow().UtcDateTime;
        var until = now + TokenRowLease.Duration;
        // Note: from here on no cancellation: leases taken are given back, answers received are stored.
        using (await writes.EnterAsync(CancellationToken.None))
        {
            await db.TokenStates
                .Where(s => s.TokenConfigId != null && ids.Contains(s.TokenConfigId.Value) && (s.LeaseUntil == null || s.LeaseUntil < now))
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.LeaseOwner, lease).SetProperty(s => s.LeaseUntil, until), CancellationToken.None);
        }

        var configs = await db.TokenConfigs.Include(c => c.State).Where(c => ids.Contains(c.Id)).ToListAsync(CancellationToken.None);
        var results = ids.ToDictionary(id => id, _ => (TokenOperationResult?)null);
        var work = new List<(TokenConfig Config, TokenConfigDocument Document, string Url, Dictionary<string, string> Grant, string? Secret)>();
        var release = new List<int>();
        foreach (var config in configs)
        {
            var state = config.State;
            if (state?.LeaseOwner != lease)
            {
                continue; // another refresh holds it: the one-by-one path waits for that
            }

            try
            {
                if (!config.Valid || state.RefreshTokenProtected is null || state.RefreshTokenRevokedAt is not null
                    || state.RefreshTokenExpiresAt <= now || state.ConsecutiveFailures > 0)
                {
                    release.Add(config.Id);
                    continue;
                }

                if (state.LastRefreshAt > refreshedSince)
                {
                    release.Add(config.Id);
                    results[config.Id] = new TokenOperationResult(true, $"Token for '{config.Name}' was refreshed meanwhile by another process.", State: state);
                    continue;
                }

                var document = TokenConfigYaml.ParseShared(config.Yaml);
                var grant = new Dictionary<string, string>
                {
                    ["grant_type"] = "refresh_token",
                    ["refresh_token"] = protector.Unprotect(state.RefreshTokenProtected),
                };
                var secret = config.ClientSecretProtected is null ? null : protector.Unprotect(config.ClientSecretProtected);
                work.Add((config, document, EndpointUrl(document.Endpoints.Refresh ?? document.Endpoints.Token, document), grant, secret));
            }
            catch (Exception ex) when (ex is TokenConfigYamlException or SecretUnreadableException)
            {
                release.Add(config.Id);
            }
        }

        if (release.Count > 0)
        {
            using (await writes.EnterAsync(CancellationToken.None))
            {
                await db.TokenStates.Where(s => s.TokenConfigId != null && release.Contains(s.TokenConfigId.Value) && s.LeaseOwner == lease)
                    .ExecuteUpdateAsync(u => u.SetProperty(s => s.LeaseOwner, (string?)null).SetProperty(s => s.LeaseUntil, (DateTime?)null), CancellationToken.None);
            }
        }

        var answers = new (TokenResponse? Response, TokenFailure? Failure)[work.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, work.Count), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism) }, async (i, _) =>
        {
            var item = work[i];
            try
            {
                answers[i] = await endpoint.RequestAsync(item.Url, item.Document, item.Secret, item.Grant, item.Document.Parameters.Refresh, CancellationToken.None);
            }
            catch (Exception ex)
            {
                // Note: one config failing in an unexpected way must not lose the answers the others received.
                answers[i] = (null, new TokenFailure(TokenFailureKind.Unavailable, "error", ex.Message));
            }
        });

        var outcomes = new List<Outcome>(work.Count);
        for (var i = 0; i < work.Count; i++)
        {
            var outcome = Record(work[i].Config, work[i].Document, "refresh_token", answers[i].Response, answers[i].Failure, "token.refreshed", actor, expectedNonce: null);
            outcomes.Add(outcome);
            results[work[i].Config.Id] = outcome.Result;
        }

        if (outcomes.Count > 0)
        {
            await SaveAsync(outcomes);
            foreach (var outcome in outcomes)
            {
                events.Changed(outcome.Config.Id);
            }
        }

        return [.. ids.Select(id => (id, results[id]))];
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
        var outcome = Record(config, document, grant["grant_type"], response, failure, auditAction, actor, expectedNonce);
        await SaveAsync([outcome]);
        events.Changed(config.Id);
        return outcome.Result;
    }

    /// <summary>What one token request gave, applied to its config's state; stored by <see cref="SaveAsync"/>.</summary>
    private sealed record Outcome(TokenConfig Config, TokenConfigDocument Document, bool IsRefresh, TokenResponse? Response, TokenFailure? Failure, DateTime Now)
    {
        public TokenOperationResult Result { get; set; } = null!;
    }

    /// <summary>
    /// Applies a token endpoint's answer to the config's state (new tokens, or the failure with the stored tokens
    /// kept), clears the lease and adds the audit entry. Nothing is saved yet.
    /// </summary>
    private Outcome Record(
        TokenConfig config, TokenConfigDocument document, string grantType, TokenResponse? response, TokenFailure? failure,
        string auditAction, string actor, string? expectedNonce)
    {
        var isRefresh = grantType == "refresh_token";
        var now = time.GetUtcNow().UtcDateTime;
        if (response is not null && expectedNonce is not null && response.IdToken is not null
            && JwtInspector.Claim(response.IdToken, "nonce") != expectedNonce)
        {
            response = null;
            failure = new TokenFailure(TokenFailureKind.Rejected, "invalid_nonce", "The ID token's nonce does not match the request: the response was not for this sign-in and was discarded.");
        }

        config.State ??= new TokenState { TokenConfigId = config.Id };
        var outcome = new Outcome(config, document, isRefresh, response, failure, now);
        ApplyOutcome(config.State, outcome);
        if (response is null)
        {
            AuditLog.Add(db, time, actor, auditAction + "-failed", config.Name, $"{failure!.Code}: {failure.Description}");
            LogFailure(logger, config.Name, grantType, failure.Code, failure.Description);
            var prefix = failure.Kind == TokenFailureKind.Unavailable ? "The provider could not be reached or failed; the stored tokens were kept." : "The provider refused the request.";
            outcome.Result = new TokenOperationResult(false, $"{prefix} {failure.Code}: {failure.Description}", failure);
        }
        else
        {
            AuditLog.Add(db, time, actor, auditAction, config.Name, Summary(config.State));
            outcome.Result = new TokenOperationResult(true, $"Token for '{config.Name}' {(auditAction == "token.refreshed" ? "refreshed" : "received")}: {Summary(config.State)}.", State: config.State);
        }

        return outcome;
    }

    private void ApplyOutcome(TokenState state, Outcome outcome)
    {
        if (outcome.Response is { } response)
        {
            Apply(state, outcome.Document, response, outcome.Now);
        }
        else
        {
            var failure = outcome.Failure!;
            state.LastErrorCode = failure.Code;
            state.LastErrorDescription = failure.Description;
            state.LastErrorAt = outcome.Now;
            state.ConsecutiveFailures++;
            if (outcome.IsRefresh && failure.RefreshTokenDead)
            {
                state.RefreshTokenRevokedAt = outcome.Now;
            }

            state.Version = Guid.NewGuid().ToString("N");
        }

        state.LeaseOwner = null;
        state.LeaseUntil = null;
    }

    /// <summary>
    /// Stores the outcomes in one transaction. No cancellation: a provider that has rotated a refresh token has
    /// already invalidated the stored one, so dropping this write would lose it. The new refresh token is committed
    /// here, before the access token is handed to anyone.
    /// </summary>
    private async Task SaveAsync(IReadOnlyList<Outcome> outcomes)
    {
        using (await writes.EnterAsync(CancellationToken.None))
        {
            try
            {
                await db.SaveChangesAsync(CancellationToken.None);
            }
            catch (DbUpdateConcurrencyException conflict)
            {
                // Someone changed a row meanwhile (an error recorded by a callback, an admin's edit): the answers just
                // received still win, because the provider has already acted on them; they are applied to the row as it is now.
                foreach (var entry in conflict.Entries)
                {
                    await entry.ReloadAsync(CancellationToken.None);
                    if (entry.Entity is TokenState state && outcomes.FirstOrDefault(o => o.Config.State == state) is { } outcome)
                    {
                        ApplyOutcome(state, outcome);
                    }
                }

                await db.SaveChangesAsync(CancellationToken.None);
            }
        }
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
