using Microsoft.EntityFrameworkCore;
using TokenAdmin.Admin;
using TokenAdmin.Data;
using TokenAdmin.Oidc;
using TokenAdmin.Secrets;
using TokenAdmin.Tokens;

namespace TokenAdmin.FunctionalAccounts;

/// <summary>The grant request an account makes, before the secrets are filled in (printed by `import-user`).</summary>
public sealed record AccountGrant(string TokenEndpoint, IReadOnlyDictionary<string, string> Parameters, IReadOnlyList<KeyValuePair<string, string>> Resources);

/// <summary>The code, PKCE verifier and redirect URI of an authorization-code exchange, and the nonce the ID token must carry.</summary>
public sealed record AuthorizationCodeGrant(string Code, string CodeVerifier, string RedirectUri, string? Nonce);

/// <summary>
/// What an account's token request got: the response and the checked ID token. <see cref="Failure"/> set means it
/// failed; <see cref="Response"/> may still be set then (an ID token was refused), so its rotated refresh token is kept.
/// </summary>
public sealed record AccountTokenResult(TokenResponse? Response, TokenFailure? Failure, TokenCheck? IdToken)
{
    public bool Succeeded => Response is not null && Failure is null;
}

/// <summary>
/// Gets and renews a functional account's tokens at its profile's provider: the token endpoint from discovery, the
/// profile's HttpClient (CA, client certificate), client credentials or password grant (or refresh_token when one is
/// held), resources one per parameter or space-joined, the ID token validated. Stored in <see cref="TokenState"/>
/// under a row lease, like token configs'.
/// </summary>
public sealed partial class AccountTokenOperations(
    TokenAdminDb db,
    OidcProfileRuntime runtime,
    TokenEndpointClient endpoint,
    ISecretProtector protector,
    TokenStateEvents events,
    DatabaseWriteGate writes,
    TimeProvider time,
    ILogger<AccountTokenOperations> logger)
{
    /// <summary>
    /// Renews the account's token: refresh_token when one is held and alive, otherwise a fresh grant.
    /// <paramref name="stillNeeded"/> is asked under the lease: false means another process renewed meanwhile.
    /// </summary>
    public async Task<TokenOperationResult> RenewAsync(int accountId, string actor, CancellationToken cancellationToken, Func<TokenState, bool>? stillNeeded = null)
    {
        if (!await db.FunctionalAccounts.AnyAsync(a => a.Id == accountId, cancellationToken))
        {
            return new TokenOperationResult(false, "This functional account no longer exists.");
        }

        var lease = TokenRowLease.NewOwner(time);
        var take = await TokenRowLease.TakeAsync(db, writes, time, s => s.FunctionalAccountId == accountId, lease,
            (owner, until) => new TokenState { FunctionalAccountId = accountId, LeaseOwner = owner, LeaseUntil = until }, cancellationToken, logger: logger);
        var leased = take.Taken;
        var released = false;
        try
        {
            var account = await db.FunctionalAccounts.Include(a => a.Profile).Include(a => a.State).SingleOrDefaultAsync(a => a.Id == accountId, cancellationToken);
            if (account is null)
            {
                return new TokenOperationResult(false, "This functional account no longer exists.");
            }

            if (!leased)
            {
                var busy = TokenRowLease.BusyFailure(account.Name, take, time.GetUtcNow().UtcDateTime);
                return new TokenOperationResult(false, busy.Description, busy);
            }

            if (!account.Valid)
            {
                return new TokenOperationResult(false, $"'{account.Name}' is set to invalid; make it valid before renewing its token.");
            }

            if (account.State is { } current && stillNeeded is not null && !stillNeeded(current))
            {
                return new TokenOperationResult(true, $"Token for '{account.Name}' was renewed meanwhile by another process.", State: current);
            }

            if (account.GrantType == AccountGrantTypes.AuthorizationCode && UsableRefreshToken(account.State) is null)
            {
                // Note: never fall back to another grant: the account's tokens are the signed-in user's, not the client's.
                return new TokenOperationResult(false, account.State?.RefreshTokenProtected is null
                    ? $"'{account.Name}' uses the authorization code flow: an admin must sign in at the provider first (Request token)."
                    : $"The refresh token of '{account.Name}' was refused by the provider or has expired: an admin must sign in at the provider again (Request token).");
            }

            var result = await ObtainAsync(account, actor, cancellationToken);
            released = true;
            return result;
        }
        catch (SecretUnreadableException)
        {
            return new TokenOperationResult(false, "A stored secret or token of this account or its profile cannot be decrypted (it was written with another master key). Enter the secrets again, then renew.");
        }
        catch (ProfileTlsException ex)
        {
            return new TokenOperationResult(false, $"The profile's TLS settings cannot be used: {ex.Field}: {ex.Message}");
        }
        finally
        {
            if (leased && !released)
            {
                await TokenRowLease.ReleaseAsync(db, writes, s => s.FunctionalAccountId == accountId, lease);
            }
        }
    }

    /// <summary>The stored refresh token when it may still be spent: present, not refused, not expired.</summary>
    private string? UsableRefreshToken(TokenState? state) =>
        state is { RefreshTokenProtected: { } stored, RefreshTokenRevokedAt: null } && !(state.RefreshTokenExpiresAt <= time.GetUtcNow().UtcDateTime)
            ? stored
            : null;

    /// <summary>The grant the account would send (no secrets in it), resolving the token endpoint by discovery.</summary>
    public async Task<(AccountGrant? Grant, string? Error)> DescribeGrantAsync(
        FunctionalAccount account, OidcProfile profile, string? refreshToken, CancellationToken cancellationToken, bool exchangingCode = false)
    {
        if (account.GrantType == AccountGrantTypes.AuthorizationCode && refreshToken is null && !exchangingCode)
        {
            return (null, $"'{account.Name}' uses the authorization code flow and holds no usable refresh token: an admin must sign in at the provider (Request token).");
        }

        string tokenEndpoint;
        try
        {
            var configuration = await runtime.MetadataFor(profile).GetAsync(cancellationToken);
            tokenEndpoint = configuration.TokenEndpoint;
        }
        catch (InvalidOperationException ex)
        {
            return (null, $"Profile '{profile.Name}': {ex.Message} Use Test on the profile for details.");
        }

        if (string.IsNullOrEmpty(tokenEndpoint))
        {
            return (null, $"The provider of profile '{profile.Name}' publishes no token_endpoint.");
        }

        if (OidcProfileRuntime.RequiresHttps(tokenEndpoint) && !tokenEndpoint.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            return (null, $"The provider of profile '{profile.Name}' names a token endpoint with plain http ({tokenEndpoint}); the client secret would travel unencrypted, so it is not used. Fix the provider's public URL (behind a proxy: its forwarded-headers setting).");
        }

        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        if (refreshToken is not null)
        {
            parameters["grant_type"] = "refresh_token";
        }
        else if (account.GrantType == AccountGrantTypes.Password)
        {
            parameters["grant_type"] = "password";
            parameters["username"] = account.Username ?? "";
        }
        else
        {
            parameters["grant_type"] = "client_credentials";
        }

        if (account.Scope.Length > 0)
        {
            parameters["scope"] = account.Scope;
        }

        var resources = (account.Resources ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        IReadOnlyList<KeyValuePair<string, string>> resourceParameters = resources.Length == 0 ? []
            : account.ResourcePerParameter ? [.. resources.Select(r => new KeyValuePair<string, string>(account.ResourceParameterName, r))]
            : [new(account.ResourceParameterName, string.Join(' ', resources))];
        return (new AccountGrant(tokenEndpoint, parameters, resourceParameters), null);
    }

    /// <summary>
    /// Sends the account's grant and checks the answer (the ID token validated); nothing is stored. Used by
    /// `import-user` and by <see cref="RenewAsync"/>.
    /// </summary>
    public async Task<AccountTokenResult> RequestAsync(
        FunctionalAccount account, OidcProfile profile, string? password, string? refreshToken, CancellationToken cancellationToken,
        AuthorizationCodeGrant? code = null)
    {
        var (grant, error) = await DescribeGrantAsync(account, profile, refreshToken, cancellationToken, exchangingCode: code is not null);
        if (grant is null)
        {
            return new AccountTokenResult(null, new TokenFailure(TokenFailureKind.Unavailable, "discovery_failed", error!), null);
        }

        var parameters = new Dictionary<string, string>(grant.Parameters, StringComparer.Ordinal);
        if (code is not null)
        {
            parameters["grant_type"] = "authorization_code";
            parameters["code"] = code.Code;
            parameters["redirect_uri"] = code.RedirectUri;
            parameters["code_verifier"] = code.CodeVerifier;
            parameters.Remove("scope");
        }
        else if (refreshToken is not null)
        {
            parameters["refresh_token"] = refreshToken;
        }
        else if (account.GrantType == AccountGrantTypes.Password)
        {
            parameters["password"] = password ?? "";
        }

        var configuration = await runtime.MetadataFor(profile).GetAsync(cancellationToken);
        var supported = configuration.TokenEndpointAuthMethodsSupported;
        var client = new TokenConfigDocument
        {
            ClientId = profile.ClientId,
            // The spec's default is client_secret_basic; a provider that lists only client_secret_post gets that.
            ClientAuthentication = supported.Count == 0 || supported.Contains(ClientAuthentications.Basic) ? ClientAuthentications.Basic : ClientAuthentications.Post,
        };
        var secret = profile.ClientSecretProtected is null ? null : protector.Unprotect(profile.ClientSecretProtected);
        var (response, failure) = await endpoint.RequestAsync(grant.TokenEndpoint, client, secret, parameters, new Dictionary<string, string>(), cancellationToken,
            grant.Resources, runtime.HttpClientFor(profile));
        if (response is null)
        {
            return new AccountTokenResult(null, failure, null);
        }

        TokenCheck? idToken = null;
        if (response.IdToken is not null)
        {
            idToken = await ProfileTokenValidator.ValidateIdTokenAsync(response.IdToken, profile, runtime.MetadataFor(profile), code?.Nonce, time.GetUtcNow().UtcDateTime);
            if (!idToken.Valid)
            {
                // Note: the response stays with the failure: a rotated refresh token in it must still be stored.
                return new AccountTokenResult(response, new TokenFailure(TokenFailureKind.Rejected, "invalid_id_token", idToken.Error!), idToken);
            }
        }
        else if (account.TokenType == AccountTokenTypes.IdToken)
        {
            return new AccountTokenResult(response, new TokenFailure(TokenFailureKind.Rejected, "no_id_token",
                "The provider answered without an id_token, and this account hands out ID tokens: check that the scope holds openid and that the grant type issues ID tokens (some providers issue none on refresh)."), null);
        }

        return new AccountTokenResult(response, null, idToken);
    }

    private async Task<TokenOperationResult> ObtainAsync(FunctionalAccount account, string actor, CancellationToken cancellationToken)
    {
        var profile = account.Profile!;
        var refreshToken = UsableRefreshToken(account.State) is { } stored ? protector.Unprotect(stored) : null;
        var password = account.PasswordProtected is null ? null : protector.Unprotect(account.PasswordProtected);
        var result = await RequestAsync(account, profile, password, refreshToken, cancellationToken);
        var refreshTokenRefused = false;
        if (result.Response is null && refreshToken is not null && result.Failure!.RefreshTokenDead && account.GrantType != AccountGrantTypes.AuthorizationCode)
        {
            // A refused refresh token is no dead end for an account with its own credentials: start afresh.
            LogRefreshRefused(logger, account.Name, result.Failure.Code);
            result = await RequestAsync(account, profile, password, null, cancellationToken);
            refreshToken = null;
            refreshTokenRefused = true;
        }

        return await StoreAsync(account, result, refreshTokenSpent: refreshToken is not null, refreshTokenRefused, actor);
    }

    /// <summary>The authorization-code exchange for an account an admin signed in for (the callback), under the row lease.</summary>
    public async Task<TokenOperationResult> ExchangeCodeAsync(int accountId, AuthorizationCodeGrant code, string actor, CancellationToken cancellationToken)
    {
        if (!await db.FunctionalAccounts.AnyAsync(a => a.Id == accountId, cancellationToken))
        {
            return new TokenOperationResult(false, "The functional account of this request was deleted meanwhile.");
        }

        var lease = TokenRowLease.NewOwner(time);
        var take = await TokenRowLease.TakeAsync(db, writes, time, s => s.FunctionalAccountId == accountId, lease,
            (owner, until) => new TokenState { FunctionalAccountId = accountId, LeaseOwner = owner, LeaseUntil = until }, cancellationToken, logger: logger);
        var leased = take.Taken;
        var released = false;
        try
        {
            var account = await db.FunctionalAccounts.Include(a => a.Profile).Include(a => a.State).SingleAsync(a => a.Id == accountId, cancellationToken);
            if (!leased)
            {
                var busy = TokenRowLease.BusyFailure(account.Name, take, time.GetUtcNow().UtcDateTime);
                return new TokenOperationResult(false, busy.Description + " Then sign in again.", busy);
            }

            var result = await RequestAsync(account, account.Profile!, null, null, cancellationToken, code);
            var stored = await StoreAsync(account, result, refreshTokenSpent: false, refreshTokenRefused: false, actor);
            released = true;
            return stored;
        }
        catch (SecretUnreadableException)
        {
            return new TokenOperationResult(false, "The profile's client secret cannot be decrypted (it was written with another master key). Enter it again.");
        }
        catch (ProfileTlsException ex)
        {
            return new TokenOperationResult(false, $"The profile's TLS settings cannot be used: {ex.Field}: {ex.Message}");
        }
        finally
        {
            if (leased && !released)
            {
                await TokenRowLease.ReleaseAsync(db, writes, s => s.FunctionalAccountId == accountId, lease);
            }
        }
    }

    /// <summary>
    /// Stores what the provider answered and clears the lease, in one commit before anyone gets the token. Tokens in an
    /// answer are stored even when the answer failed a check (a refused ID token): the provider has already rotated the
    /// refresh token. A save that meets a concurrent change of the row reloads it and applies the answer again.
    /// </summary>
    private async Task<TokenOperationResult> StoreAsync(FunctionalAccount account, AccountTokenResult result, bool refreshTokenSpent, bool refreshTokenRefused, string actor)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var failure = result.Failure;
        void Apply(TokenState state)
        {
            if (result.Response is { } response)
            {
                state.AccessTokenProtected = protector.Protect(response.AccessToken);
                state.TokenType = response.TokenType ?? "Bearer";
                // Note: the expiry comes from expires_in; an opaque token is never decoded. Without expires_in a JWT's exp is used.
                state.AccessTokenExpiresAt = response.ExpiresIn is { } seconds ? now.AddSeconds(seconds) : JwtInspector.TryDecode(response.AccessToken)?.ExpiresAt;
                state.GrantedScope = response.Scope ?? account.Scope;
                if (response.IdToken is not null && result.IdToken is { Valid: true } idToken)
                {
                    state.IdTokenProtected = protector.Protect(response.IdToken);
                    state.IdTokenExpiresAt = idToken.ExpiresAt;
                }

                if (response.RefreshToken is not null)
                {
                    state.RefreshTokenProtected = protector.Protect(response.RefreshToken);
                    state.RefreshTokenRevokedAt = null;
                    state.RefreshTokenExpiresAt = response.RefreshTokenExpiresIn is { } rt ? now.AddSeconds(rt) : null;
                    state.RefreshTokenExpiryEstimated = false;
                }
                else if (refreshTokenRefused)
                {
                    // The refused one is dead; keeping it would make every renewal try it first.
                    state.RefreshTokenProtected = null;
                    state.RefreshTokenExpiresAt = null;
                    state.RefreshTokenRevokedAt = null;
                }

                state.ObtainedAt ??= now;
                state.LastRefreshAt = now;
            }

            if (failure is not null)
            {
                state.LastErrorCode = failure.Code;
                state.LastErrorDescription = failure.Description;
                state.LastErrorAt = now;
                state.ConsecutiveFailures++;
                if (refreshTokenSpent && failure.RefreshTokenDead && result.Response is null)
                {
                    state.RefreshTokenRevokedAt = now;
                }
            }
            else
            {
                state.LastErrorCode = null;
                state.LastErrorDescription = null;
                state.LastErrorAt = null;
                state.ConsecutiveFailures = 0;
            }

            state.LeaseOwner = null;
            state.LeaseUntil = null;
            state.Version = Guid.NewGuid().ToString("N");
        }

        var state = account.State ??= new TokenState { FunctionalAccountId = account.Id };
        Apply(state);
        string message;
        if (failure is null)
        {
            message = $"Token for '{account.Name}' received: " + (state.AccessTokenExpiresAt is { } at ? $"valid until {at:yyyy-MM-dd HH:mm:ss} UTC." : "expiry not stated by the provider.");
        }
        else
        {
            message = (failure.Kind == TokenFailureKind.Unavailable ? "The provider could not be reached or failed; the stored tokens were kept. " : "The provider refused the request. ")
                + $"{failure.Code}: {failure.Description}";
            LogFailure(logger, account.Name, failure.Code, failure.Description);
        }

        AuditLog.Add(db, time, actor, failure is null ? "functional-account.token-renewed" : "functional-account.token-failed", account.Name,
            failure is null ? "" : $"{failure.Code}: {failure.Description}");
        // Note: no cancellation once the provider answered: a rotated refresh token must be stored.
        using (await writes.EnterAsync(CancellationToken.None))
        {
            try
            {
                await db.SaveChangesAsync(CancellationToken.None);
            }
            catch (DbUpdateConcurrencyException conflict)
            {
                foreach (var entry in conflict.Entries)
                {
                    await entry.ReloadAsync(CancellationToken.None);
                }

                Apply(state);
                await db.SaveChangesAsync(CancellationToken.None);
            }
        }

        events.AccountTokensChanged(account.Id);
        return new TokenOperationResult(failure is null, message, failure, state);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Token request for functional account '{Account}' failed: {Code}: {Description}")]
    private static partial void LogFailure(ILogger logger, string account, string code, string description);

    [LoggerMessage(Level = LogLevel.Information, Message = "The refresh token of functional account '{Account}' was refused ({Code}); asking for a new token with the account's own credentials.")]
    private static partial void LogRefreshRefused(ILogger logger, string account, string code);
}
