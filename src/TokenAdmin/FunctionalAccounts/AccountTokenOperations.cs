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

/// <summary>A token an account got: the response and, when there is one, the validated ID token's claims.</summary>
public sealed record AccountTokenResult(TokenResponse? Response, TokenFailure? Failure, TokenCheck? IdToken);

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
        var lease = Guid.NewGuid().ToString("N");
        var leased = await AcquireLeaseAsync(accountId, lease, cancellationToken);
        var released = false;
        try
        {
            var account = await db.FunctionalAccounts.Include(a => a.Profile).Include(a => a.State).SingleOrDefaultAsync(a => a.Id == accountId, cancellationToken);
            if (account is null)
            {
                return new TokenOperationResult(false, "This functional account no longer exists.");
            }

            if (leased == false)
            {
                return new TokenOperationResult(false, $"Another renewal of '{account.Name}' is still running; try again in a minute.");
            }

            if (!account.Valid)
            {
                return new TokenOperationResult(false, $"'{account.Name}' is set to invalid; make it valid before renewing its token.");
            }

            if (account.State is { } current && stillNeeded is not null && !stillNeeded(current))
            {
                return new TokenOperationResult(true, $"Token for '{account.Name}' was renewed meanwhile by another process.", State: current);
            }

            if (account.GrantType == AccountGrantTypes.AuthorizationCode && account.State?.RefreshTokenProtected is null)
            {
                return new TokenOperationResult(false, $"'{account.Name}' uses the authorization code flow: an admin must sign in at the provider first (Request token).");
            }

            var result = await ObtainAsync(account, actor, useRefreshToken: true, cancellationToken);
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
            if (leased == true && !released)
            {
                using (await writes.EnterAsync(CancellationToken.None))
                {
                    await db.TokenStates.Where(s => s.FunctionalAccountId == accountId && s.LeaseOwner == lease)
                        .ExecuteUpdateAsync(u => u.SetProperty(s => s.LeaseOwner, (string?)null).SetProperty(s => s.LeaseUntil, (DateTime?)null), CancellationToken.None);
                }
            }
        }
    }

    /// <summary>The grant the account would send (no secrets in it), resolving the token endpoint by discovery.</summary>
    public async Task<(AccountGrant? Grant, string? Error)> DescribeGrantAsync(FunctionalAccount account, OidcProfile profile, string? refreshToken, CancellationToken cancellationToken)
    {
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
        var (grant, error) = await DescribeGrantAsync(account, profile, refreshToken, cancellationToken);
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
                return new AccountTokenResult(null, new TokenFailure(TokenFailureKind.Rejected, "invalid_id_token", idToken.Error!), idToken);
            }
        }
        else if (account.TokenType == AccountTokenTypes.IdToken)
        {
            return new AccountTokenResult(null, new TokenFailure(TokenFailureKind.Rejected, "no_id_token",
                "The provider answered without an id_token, and this account hands out ID tokens: check that the scope holds openid and that the grant type issues ID tokens."), null);
        }

        return new AccountTokenResult(response, null, idToken);
    }

    private async Task<TokenOperationResult> ObtainAsync(FunctionalAccount account, string actor, bool useRefreshToken, CancellationToken cancellationToken)
    {
        var profile = account.Profile!;
        var state = account.State;
        var refreshToken = useRefreshToken && state is { RefreshTokenProtected: { } stored, RefreshTokenRevokedAt: null }
            && !(state.RefreshTokenExpiresAt <= time.GetUtcNow().UtcDateTime)
            ? protector.Unprotect(stored)
            : null;
        var password = account.PasswordProtected is null ? null : protector.Unprotect(account.PasswordProtected);
        var result = await RequestAsync(account, profile, password, refreshToken, cancellationToken);
        if (result.Response is null && refreshToken is not null && result.Failure!.RefreshTokenDead && account.GrantType != AccountGrantTypes.AuthorizationCode)
        {
            // A refused refresh token is no dead end for an account with its own credentials: start afresh.
            LogRefreshRefused(logger, account.Name, result.Failure.Code);
            result = await RequestAsync(account, profile, password, null, cancellationToken);
            refreshToken = null;
        }

        return await StoreAsync(account, result, refreshTokenSpent: refreshToken is not null, actor);
    }

    /// <summary>The authorization-code exchange for an account an admin signed in for (the callback).</summary>
    public async Task<TokenOperationResult> ExchangeCodeAsync(int accountId, AuthorizationCodeGrant code, string actor, CancellationToken cancellationToken)
    {
        var account = await db.FunctionalAccounts.Include(a => a.Profile).Include(a => a.State).SingleOrDefaultAsync(a => a.Id == accountId, cancellationToken);
        if (account is null)
        {
            return new TokenOperationResult(false, "The functional account of this request was deleted meanwhile.");
        }

        try
        {
            var result = await RequestAsync(account, account.Profile!, null, null, cancellationToken, code);
            return await StoreAsync(account, result, refreshTokenSpent: false, actor);
        }
        catch (SecretUnreadableException)
        {
            return new TokenOperationResult(false, "The profile's client secret cannot be decrypted (it was written with another master key). Enter it again.");
        }
        catch (ProfileTlsException ex)
        {
            return new TokenOperationResult(false, $"The profile's TLS settings cannot be used: {ex.Field}: {ex.Message}");
        }
    }

    private async Task<TokenOperationResult> StoreAsync(FunctionalAccount account, AccountTokenResult result, bool refreshTokenSpent, string actor)
    {
        var state = account.State ??= new TokenState { FunctionalAccountId = account.Id };
        var now = time.GetUtcNow().UtcDateTime;
        string auditAction;
        string message;
        if (result.Response is not { } response)
        {
            var failure = result.Failure!;
            state.LastErrorCode = failure.Code;
            state.LastErrorDescription = failure.Description;
            state.LastErrorAt = now;
            state.ConsecutiveFailures++;
            if (refreshTokenSpent && failure.RefreshTokenDead)
            {
                state.RefreshTokenRevokedAt = now;
            }

            auditAction = "functional-account.token-failed";
            message = (failure.Kind == TokenFailureKind.Unavailable ? "The provider could not be reached or failed; the stored tokens were kept. " : "The provider refused the request. ")
                + $"{failure.Code}: {failure.Description}";
            LogFailure(logger, account.Name, failure.Code, failure.Description);
        }
        else
        {
            state.AccessTokenProtected = protector.Protect(response.AccessToken);
            state.TokenType = response.TokenType ?? "Bearer";
            // Note: the expiry comes from expires_in; an opaque token is never decoded. Without expires_in a JWT's exp is used.
            state.AccessTokenExpiresAt = response.ExpiresIn is { } seconds ? now.AddSeconds(seconds) : JwtInspector.TryDecode(response.AccessToken)?.ExpiresAt;
            state.GrantedScope = response.Scope ?? account.Scope;
            if (response.IdToken is not null)
            {
                state.IdTokenProtected = protector.Protect(response.IdToken);
                state.IdTokenExpiresAt = result.IdToken?.ExpiresAt;
            }

            if (response.RefreshToken is not null)
            {
                state.RefreshTokenProtected = protector.Protect(response.RefreshToken);
                state.RefreshTokenRevokedAt = null;
                state.RefreshTokenExpiresAt = response.RefreshTokenExpiresIn is { } rt ? now.AddSeconds(rt) : null;
                state.RefreshTokenExpiryEstimated = false;
            }

            state.ObtainedAt ??= now;
            state.LastRefreshAt = now;
            state.LastErrorCode = null;
            state.LastErrorDescription = null;
            state.LastErrorAt = null;
            state.ConsecutiveFailures = 0;
            auditAction = "functional-account.token-renewed";
            message = $"Token for '{account.Name}' received: " + (state.AccessTokenExpiresAt is { } at ? $"valid until {at:yyyy-MM-dd HH:mm:ss} UTC." : "expiry not stated by the provider.");
        }

        state.LeaseOwner = null;
        state.LeaseUntil = null;
        state.Version = Guid.NewGuid().ToString("N");
        AuditLog.Add(db, time, actor, auditAction, account.Name, result.Response is null ? $"{result.Failure!.Code}: {result.Failure.Description}" : "");
        // Note: no cancellation once the provider answered: a rotated refresh token must be stored.
        using (await writes.EnterAsync(CancellationToken.None))
        {
            await db.SaveChangesAsync(CancellationToken.None);
        }

        events.AccountTokensChanged(account.Id);
        return new TokenOperationResult(result.Response is not null, message, result.Failure, state);
    }

    /// <summary>Takes the lease on the account's token row; null when there is no row yet (first token).</summary>
    private async Task<bool?> AcquireLeaseAsync(int accountId, string lease, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + TokenOperations.LeaseDuration;
        var pause = TimeSpan.FromMilliseconds(20);
        while (true)
        {
            var now = time.GetUtcNow().UtcDateTime;
            var until = now + TokenOperations.LeaseDuration;
            int taken;
            using (await writes.EnterAsync(cancellationToken))
            {
                taken = await db.TokenStates
                    .Where(s => s.FunctionalAccountId == accountId && (s.LeaseUntil == null || s.LeaseUntil < now))
                    .ExecuteUpdateAsync(u => u.SetProperty(s => s.LeaseOwner, lease).SetProperty(s => s.LeaseUntil, until), cancellationToken);
            }

            if (taken == 1)
            {
                return true;
            }

            if (!await db.TokenStates.AnyAsync(s => s.FunctionalAccountId == accountId, cancellationToken))
            {
                return null;
            }

            if (time.GetUtcNow() >= deadline)
            {
                return false;
            }

            await Task.Delay(pause, time, cancellationToken);
            pause = TimeSpan.FromMilliseconds(Math.Min(pause.TotalMilliseconds * 2, 500));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Token request for functional account '{Account}' failed: {Code}: {Description}")]
    private static partial void LogFailure(ILogger logger, string account, string code, string description);

    [LoggerMessage(Level = LogLevel.Information, Message = "The refresh token of functional account '{Account}' was refused ({Code}); asking for a new token with the account's own credentials.")]
    private static partial void LogRefreshRefused(ILogger logger, string account, string code);
}
