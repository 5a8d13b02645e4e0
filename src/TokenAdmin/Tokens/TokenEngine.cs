using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;
using TokenAdmin.Secrets;

namespace TokenAdmin.Tokens;

/// <summary>What a token operation did, in words for an admin; <see cref="State"/> is the stored state it left (when it stored one).</summary>
public sealed record TokenOperationResult(bool Succeeded, string Message, TokenFailure? Failure = null, TokenState? State = null)
{
    /// <summary>
    /// The tokens this operation received and stored (encrypted in <see cref="State"/>), so the token provider hands
    /// them out without decrypting what was just encrypted. Internal: never printed with the result.
    /// </summary>
    internal IssuedTokens? Issued { get; init; }
}

/// <summary>An access token and the checked ID token (if any) as received; never printed.</summary>
internal sealed class IssuedTokens(string accessToken, string? idToken)
{
    public string AccessToken { get; } = accessToken;
    public string? IdToken { get; } = idToken;

    public override string ToString() => "(tokens)";
}

/// <summary>The code, PKCE verifier and redirect URI of an authorization-code exchange, and the nonce the ID token must carry.</summary>
public sealed record AuthorizationCodeGrant(string Code, string CodeVerifier, string RedirectUri, string? Nonce);

/// <summary>A grant request as it is sent, without the client secret (printed by `import-user`, sent by the engine).</summary>
public sealed record GrantRequest(string GrantType, string Endpoint, IReadOnlyDictionary<string, string> Parameters, IReadOnlyList<KeyValuePair<string, string>> Resources);

/// <summary>
/// The token engine: obtains, refreshes and exchanges tokens for every kind of token source (token configs and
/// functional accounts) and keeps their <see cref="TokenState"/> through the one <see cref="TokenStateWriter"/>. Each
/// request to the provider runs under the source's row lease, so no two processes spend one refresh token. Used by the
/// pages, console verbs, token provider, authorization callback and the token store updater.
/// </summary>
public sealed partial class TokenEngine(
    TokenAdminDb db,
    TokenSourceKinds kinds,
    TokenEndpointClient endpoint,
    TokenStateWriter writer,
    ISecretProtector protector,
    DatabaseWriteGate writes,
    TimeProvider time,
    ILogger<TokenEngine> logger)
{
    private enum Mode { Request, Renew, Exchange, DevicePoll, DeviceEnded }

    /// <summary>A fresh grant (client credentials or password): "Request token" of a source that needs no browser.</summary>
    public Task<TokenOperationResult> RequestAsync(TokenSource source, string actor, CancellationToken cancellationToken) =>
        RunAsync(source, Mode.Request, actor, stillNeeded: null, code: null, cancellationToken);

    /// <summary>
    /// One poll of a device sign-in (RFC 8628 section 3.4), under the row lease: tokens received are stored like any
    /// grant's; authorization_pending, slow_down and an unreachable provider store nothing (the result's failure says
    /// which, for the poller); any other refusal (expired_token, access_denied, ...) is recorded on the source.
    /// </summary>
    public Task<TokenOperationResult> PollDeviceCodeAsync(TokenSource source, string deviceCode, string actor, CancellationToken cancellationToken) =>
        RunAsync(source, Mode.DevicePoll, actor, stillNeeded: null, code: null, cancellationToken, deviceCode: deviceCode);

    /// <summary>Records on the source that its device sign-in ended without tokens (the codes expired before the user finished).</summary>
    public Task<TokenOperationResult> RecordDeviceSignInEndedAsync(TokenSource source, TokenFailure failure, string actor, CancellationToken cancellationToken) =>
        RunAsync(source, Mode.DeviceEnded, actor, stillNeeded: null, code: null, cancellationToken, ended: failure);

    /// <summary>
    /// Renews the source's token: the refresh_token grant when a usable refresh token is held, otherwise a fresh grant
    /// where the source has its own credentials. A rotated refresh token replaces the old one; a missing one keeps it; a
    /// refused one is forgotten, and a source with its own credentials starts afresh at once. <paramref name="stillNeeded"/>
    /// is asked once the lease is held, with the state as it is then: false means another process renewed meanwhile
    /// and nothing is sent to the provider.
    /// </summary>
    public Task<TokenOperationResult> RenewAsync(TokenSource source, string actor, CancellationToken cancellationToken, Func<TokenState, bool>? stillNeeded = null) =>
        RunAsync(source, Mode.Renew, actor, stillNeeded, code: null, cancellationToken);

    /// <summary>Exchanges an authorization code (the callback) for tokens, under the row lease; the ID token's nonce is checked.</summary>
    public Task<TokenOperationResult> ExchangeCodeAsync(TokenSource source, AuthorizationCodeGrant code, string actor, CancellationToken cancellationToken) =>
        RunAsync(source, Mode.Exchange, actor, stillNeeded: null, code, cancellationToken);

    private async Task<TokenOperationResult> RunAsync(
        TokenSource source, Mode mode, string actor, Func<TokenState, bool>? stillNeeded, AuthorizationCodeGrant? code, CancellationToken cancellationToken,
        string? deviceCode = null, TokenFailure? ended = null)
    {
        var kind = kinds[source.Kind];
        await using var held = await SqliteConnections.HoldAsync(db, cancellationToken);

        // Note: the lease comes first and the row is read once, under it: the refresh token read is the one to spend.
        // The row is created with the lease held when the source has none yet, so even its first token is got once;
        // whether the source still exists is asked only then (a deleted source's row is gone with it), and otherwise
        // by the read under the lease.
        var lease = TokenRowLease.NewOwner(time);
        var take = await TokenRowLease.TakeAsync(db, writes, time, kind.StateRow(source.Id), lease, (owner, until) =>
        {
            var created = kind.NewState(source.Id);
            created.LeaseOwner = owner;
            created.LeaseUntil = until;
            return created;
        }, cancellationToken, logger: logger, ownerExists: ct => kind.ExistsAsync(db, source.Id, ct));
        if (take.Outcome == TokenRowLease.Outcome.NoRow)
        {
            return new TokenOperationResult(false, $"This {kind.Noun} no longer exists.");
        }

        var leased = take.Taken;
        var released = false;
        try
        {
            var definition = await kind.LoadAsync(db, source.Id, tracking: true, cancellationToken);
            if (definition is null)
            {
                return new TokenOperationResult(false, $"This {kind.Noun} no longer exists.");
            }

            if (!leased)
            {
                var busy = TokenRowLease.BusyFailure(definition.Name, take, time.GetUtcNow().UtcDateTime);
                return new TokenOperationResult(false, mode == Mode.Exchange ? busy.Description + " Then sign in again." : busy.Description, busy);
            }

            if (!definition.Valid)
            {
                return new TokenOperationResult(false, $"'{definition.Name}' is set to invalid; make it valid before requesting or refreshing its token.");
            }

            if (definition.State is { } current && stillNeeded is not null && !stillNeeded(current))
            {
                return new TokenOperationResult(true, $"Token for '{definition.Name}' was refreshed meanwhile by another process.", State: current);
            }

            var now = time.GetUtcNow().UtcDateTime;
            var stored = definition.State;
            var usableRefreshToken = stored is { RefreshTokenProtected: not null, RefreshTokenRevokedAt: null } && !(stored.RefreshTokenExpiresAt <= now);
            var storedRefreshTokenDead = stored?.RefreshTokenProtected is not null && !usableRefreshToken;
            string grantType;
            switch (mode)
            {
                case Mode.Exchange:
                    grantType = "authorization_code";
                    break;
                case Mode.DevicePoll or Mode.DeviceEnded when definition.Flow != TokenFlows.DeviceCode:
                    return new TokenOperationResult(false, $"'{definition.Name}' no longer uses the device code flow; its device sign-in was ended.",
                        new TokenFailure(TokenFailureKind.Rejected, "flow_changed", "The source no longer uses the device code flow."));
                case Mode.DevicePoll or Mode.DeviceEnded:
                    grantType = DeviceCodeGrant.GrantType;
                    break;
                case Mode.Request when definition.Flow == TokenFlows.DeviceCode:
                    return new TokenOperationResult(false, $"'{definition.Name}' uses the device code flow: start its device sign-in on its page (\"Device sign-in\"), or with `tokens device`.");
                case Mode.Request when !definition.CanStartAfresh:
                    return new TokenOperationResult(false, $"'{definition.Name}' uses the authorization code flow: request its token in the browser with \"Request token\", or print the link with `tokens auth-url`.");
                case Mode.Request:
                    grantType = FreshGrant(definition);
                    break;
                default:
                    if (usableRefreshToken)
                    {
                        grantType = "refresh_token";
                    }
                    else if (definition.CanStartAfresh)
                    {
                        grantType = FreshGrant(definition);
                    }
                    else
                    {
                        // Note: never fall back to another grant: the tokens are the signed-in user's, not the client's.
                        return new TokenOperationResult(false, stored?.RefreshTokenProtected is null
                            ? $"'{definition.Name}' has no refresh token yet: {definition.Kind.ReauthorizeHint}."
                            : stored.RefreshTokenRevokedAt is not null
                                ? $"The refresh token of '{definition.Name}' was refused by the provider ({stored.LastErrorCode}): {definition.Kind.ReauthorizeHint}."
                                : $"The refresh token of '{definition.Name}' expired on {stored.RefreshTokenExpiresAt:yyyy-MM-dd HH:mm} UTC: {definition.Kind.ReauthorizeHint}.");
                    }

                    break;
            }

            await held.DisposeAsync(); // not held while the provider answers; the save opens it again
            var answer = mode == Mode.DeviceEnded
                ? new GrantAnswer(null, ended, null)
                : await SendAsync(definition, grantType, code, cancellationToken, deviceCode);
            if (mode == Mode.DevicePoll && answer.Response is null && answer.Failure is { } waiting
                && (DeviceCodeGrant.KeepPolling(waiting) || waiting.Kind == TokenFailureKind.Unavailable))
            {
                // Not an outcome yet: the user has not finished, or the provider is out of reach for now. Nothing is stored.
                return new TokenOperationResult(false, $"{waiting.Code}: {waiting.Description}", waiting);
            }

            if (mode is Mode.DevicePoll or Mode.DeviceEnded && answer.Response is null && answer.Failure is { } refused)
            {
                // Note: a device sign-in that ends without tokens (declined, expired, refused) is recorded like a refusal
                // sent to the authorization callback: the last error and the audit, but no failure count, backoff or
                // alert, because the tokens the source holds (if any) still work.
                await writer.RecordAuthorizationRefusalAsync(definition, refused.Code, refused.Description, cancellationToken);
                return new TokenOperationResult(false, $"{refused.Code}: {refused.Description}", refused);
            }

            var spent = grantType == "refresh_token";
            var drop = storedRefreshTokenDead;
            if (spent && answer.Response is null && answer.Failure!.RefreshTokenDead && definition.CanStartAfresh)
            {
                // A refused refresh token is no dead end for a source with its own credentials: start afresh.
                LogRefreshRefused(logger, definition.Name, answer.Failure.Code);
                grantType = FreshGrant(definition);
                answer = await SendAsync(definition, grantType, code: null, cancellationToken);
                drop = true;
            }

            var outcome = writer.Record(definition, grantType, answer, refreshTokenSpent: spent, dropRefreshToken: drop, actor);
            await writer.SaveAsync([outcome]);
            released = true; // the save that stored the outcome cleared the lease
            return outcome.Result;
        }
        catch (TokenSourceUnreadableException ex)
        {
            return new TokenOperationResult(false, ex.Message);
        }
        catch (SecretUnreadableException)
        {
            return new TokenOperationResult(false,
                $"A stored secret or token of this {kind.Noun} cannot be decrypted (it was written with another master key). " +
                "Enter the client secret (and password) again, or upload the client certificate again, on its Edit page, then request a new token.");
        }
        finally
        {
            if (leased && !released)
            {
                await TokenRowLease.ReleaseAsync(db, writes, kind.StateRow(source.Id), lease);
            }
        }
    }

    private static string FreshGrant(TokenSourceDefinition source) => source.Flow switch
    {
        TokenFlows.Password => "password",
        TokenFlows.JwtBearer => JwtBearerGrant.GrantType,
        _ => "client_credentials",
    };

    /// <summary>
    /// The grant request the source would send (no secrets in it), resolving the provider's endpoints (discovery for a
    /// functional account).
    /// </summary>
    /// <exception cref="ProviderConfigurationException">the provider side cannot be used (the message says why)</exception>
    public async Task<(GrantRequest Request, ProviderEndpoints Endpoints)> DescribeAsync(
        TokenSourceDefinition source, string grantType, CancellationToken cancellationToken)
    {
        var endpoints = await source.ResolveAsync(cancellationToken);
        var parameters = new Dictionary<string, string>(grantType == "refresh_token" ? source.RefreshParameters : source.TokenParameters, StringComparer.Ordinal)
        {
            ["grant_type"] = grantType,
        };
        if (grantType == "password")
        {
            parameters["username"] = source.Username ?? "";
        }

        // Note: an authorization code (and a device code) carries the scope the admin consented to; the request names none (RFC 6749 4.1.3, RFC 8628 3.4).
        if (grantType is not ("authorization_code" or DeviceCodeGrant.GrantType) && source.Scope.Length > 0)
        {
            parameters["scope"] = source.Scope;
        }

        return (new GrantRequest(grantType, grantType == "refresh_token" ? endpoints.RefreshEndpoint : endpoints.TokenEndpoint, parameters, source.Resources), endpoints);
    }

    /// <summary>
    /// Sends one grant for the source and checks the answer (the ID token against the provider's keys, iss, aud,
    /// lifetimes and the nonce); stores nothing. Used by the engine and by `import-user`.
    /// </summary>
    public Task<GrantAnswer> SendAsync(TokenSourceDefinition source, string grantType, AuthorizationCodeGrant? code, CancellationToken cancellationToken, string? deviceCode = null) =>
        SendAsync(source, grantType, code, protector.Unprotect, cancellationToken, deviceCode);

    /// <param name="unprotect">Decrypts the source's secrets: a batch that has already decrypted them passes what it knows.</param>
    private async Task<GrantAnswer> SendAsync(TokenSourceDefinition source, string grantType, AuthorizationCodeGrant? code, Func<string, string> unprotect, CancellationToken cancellationToken, string? deviceCode = null)
    {
        GrantRequest request;
        ProviderEndpoints endpoints;
        try
        {
            (request, endpoints) = await DescribeAsync(source, grantType, cancellationToken);
        }
        catch (ProviderConfigurationException ex)
        {
            return new GrantAnswer(null, new TokenFailure(ex.Unreachable ? TokenFailureKind.Unavailable : TokenFailureKind.Rejected,
                ex.Unreachable ? "discovery_failed" : "provider_configuration", ex.Message), null);
        }

        var secrets = new Dictionary<string, string>(StringComparer.Ordinal) { ["grant_type"] = grantType };
        switch (grantType)
        {
            case "refresh_token":
                secrets["refresh_token"] = unprotect(source.State!.RefreshTokenProtected!);
                break;
            case "password":
                secrets["password"] = source.PasswordProtected is null ? "" : unprotect(source.PasswordProtected);
                break;
            case "authorization_code":
                secrets["code"] = code!.Code;
                secrets["redirect_uri"] = code.RedirectUri;
                secrets["code_verifier"] = code.CodeVerifier;
                break;
            case DeviceCodeGrant.GrantType:
                secrets["device_code"] = deviceCode ?? throw new ArgumentNullException(nameof(deviceCode));
                break;
            case JwtBearerGrant.GrantType:
                if (!source.ServiceAccountKey.Present && !source.Certificate.Present)
                {
                    return new GrantAnswer(null, new TokenFailure(TokenFailureKind.Rejected, "provider_configuration",
                        $"'{source.Name}' uses the JWT bearer grant but holds no key to sign the assertion: upload the service account's JSON key (or a client certificate) on its Edit page."), null);
                }

                secrets["assertion"] = JwtBearerGrant.CreateAssertion(source, request.Endpoint, unprotect, time.GetUtcNow().UtcDateTime);
                break;
        }

        var (client, problem) = ClientAuthFor(source, endpoints.ClientAuthentication,
            source.ClientAssertionAudience == ClientAssertion.AudienceIssuer ? endpoints.Issuer : request.Endpoint, unprotect);
        if (client is null)
        {
            return new GrantAnswer(null, problem, null);
        }

        var (response, failure) = await endpoint.RequestAsync(request.Endpoint, client, secrets, request.Parameters, cancellationToken,
            request.Resources.Count == 0 ? null : request.Resources, endpoints.Http);
        if (response is null)
        {
            return new GrantAnswer(null, failure, null);
        }

        return await CheckIdTokenAsync(source, endpoints, response, grantType, code?.Nonce);
    }

    /// <summary>
    /// Starts a device sign-in (RFC 8628 section 3.1): posts the client (authenticated as in its grants), scope and
    /// resource indicators to the device authorization endpoint (written down or from the provider's metadata). Stores
    /// nothing; the answer's device code is for the caller's poller only.
    /// </summary>
    public async Task<(DeviceAuthorization? Authorization, string Message)> AuthorizeDeviceAsync(TokenSource source, CancellationToken cancellationToken)
    {
        var kind = kinds[source.Kind];
        TokenSourceDefinition? definition;
        try
        {
            definition = await kind.LoadAsync(db, source.Id, tracking: false, cancellationToken);
        }
        catch (TokenSourceUnreadableException ex)
        {
            return (null, ex.Message);
        }

        if (definition is null)
        {
            return (null, $"This {kind.Noun} no longer exists.");
        }

        if (!definition.Valid)
        {
            return (null, $"'{definition.Name}' is set to invalid; make it valid before signing in.");
        }

        if (definition.Flow != TokenFlows.DeviceCode)
        {
            return (null, $"'{definition.Name}' does not use the device code flow; choose it on its Edit page first.");
        }

        ProviderEndpoints endpoints;
        try
        {
            endpoints = await definition.ResolveAsync(cancellationToken);
        }
        catch (ProviderConfigurationException ex)
        {
            return (null, ex.Message);
        }

        if (endpoints.DeviceAuthorizationEndpoint is not { } device)
        {
            return (null, source.Kind == TokenSourceKind.TokenConfig
                ? $"No device authorization endpoint is known for '{definition.Name}': its provider's metadata names none (device_authorization_endpoint), or no issuer or discovery URL is set. Enter the device authorization endpoint on its Edit page, or use a provider that offers the device code flow."
                : $"The provider of '{definition.Name}' offers no device code flow: its metadata names no device_authorization_endpoint. Choose another grant type, or a profile of a provider that offers it.");
        }

        if (!Uri.TryCreate(device, UriKind.Absolute, out var deviceUri) || deviceUri.Scheme is not ("https" or "http")
            || (deviceUri.Scheme == "http" && Providers.ProviderHttp.RequiresHttps(device)))
        {
            return (null, $"The device authorization endpoint of '{definition.Name}' ({device}) is not an https URL; the client secret would travel unencrypted, so nothing was sent.");
        }

        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        if (definition.Scope.Length > 0)
        {
            parameters["scope"] = definition.Scope;
        }

        try
        {
            var (client, problem) = ClientAuthFor(definition, endpoints.ClientAuthentication,
                definition.ClientAssertionAudience == ClientAssertion.AudienceIssuer ? endpoints.Issuer : device, protector.Unprotect);
            if (client is null)
            {
                return (null, problem!.Description);
            }

            var (authorization, failure) = await endpoint.AuthorizeDeviceAsync(device, client, parameters, cancellationToken,
                definition.Resources.Count == 0 ? null : definition.Resources, endpoints.Http);
            if (authorization is null)
            {
                LogDeviceAuthorizationFailed(logger, definition.Name, failure!.Code, failure.Description);
                return (null, failure.Kind == TokenFailureKind.Unavailable
                    ? $"The device authorization endpoint could not be reached or gave no usable answer; nothing was started. {failure.Code}: {failure.Description}"
                    : $"The provider refused the device sign-in; nothing was started. {failure.Code}: {failure.Description}");
            }

            return (authorization, $"Enter the code {authorization.UserCode} at {authorization.VerificationUri}.");
        }
        catch (SecretUnreadableException)
        {
            return (null, $"A stored secret of this {kind.Noun} cannot be decrypted (it was written with another master key). Enter the client secret again (or upload the client certificate again) on its Edit page.");
        }
    }

    /// <summary>
    /// How the source authenticates in a request to <paramref name="audience"/>: the client secret (Basic or form), a
    /// client assertion made now for that endpoint, or nothing beyond the client ID (mutual TLS).
    /// </summary>
    /// <remarks>
    /// Note: a request that is retried (5xx, timeout) carries the same assertion; a provider that saw its jti may refuse
    /// the repeat, and the next request makes a new one.
    /// </remarks>
    private (ClientAuth? Client, TokenFailure? Problem) ClientAuthFor(TokenSourceDefinition source, string method, string? audience, Func<string, string> unprotect)
    {
        if (!ClientAuthentications.UsesCertificate(method))
        {
            var secret = source.ClientSecretProtected is null ? null : unprotect(source.ClientSecretProtected);
            return (new ClientAuth(source.ClientId, method, secret), null);
        }

        var now = time.GetUtcNow().UtcDateTime;
        if (source.Certificate.NotAfter <= now)
        {
            return (null, new TokenFailure(TokenFailureKind.Rejected, "certificate_expired",
                $"The client certificate of '{source.Name}' ({source.Certificate.Thumbprint}) expired on {source.Certificate.NotAfter:yyyy-MM-dd HH:mm} UTC: upload a new one on its Edit page (and register it at the provider)."));
        }

        if (method == ClientAuthentications.TlsClientAuth)
        {
            return (new ClientAuth(source.ClientId, method, null), null);
        }

        if (!source.Certificate.Present)
        {
            return (null, new TokenFailure(TokenFailureKind.Rejected, "provider_configuration",
                $"'{source.Name}' authenticates with private_key_jwt but has no client certificate: upload one on its Edit page."));
        }

        if (audience is null)
        {
            return (null, new TokenFailure(TokenFailureKind.Rejected, "provider_configuration",
                $"'{source.Name}' names the issuer as the audience of its client assertions, but no issuer is known: enter the issuer, or use the token endpoint as the audience."));
        }

        using var certificate = ClientCertificates.Load(source.Certificate.Protected!, unprotect);
        var assertion = ClientAssertion.Create(certificate, source.ClientId, audience, source.ClientAssertionAlgorithm, now);
        return (new ClientAuth(source.ClientId, method, null, assertion), null);
    }

    private async Task<GrantAnswer> CheckIdTokenAsync(TokenSourceDefinition source, ProviderEndpoints endpoints, TokenResponse response, string grantType, string? nonce)
    {
        if (response.IdToken is null)
        {
            return source.HandsOutIdToken
                ? new GrantAnswer(response, new TokenFailure(TokenFailureKind.Rejected, "no_id_token",
                    "The provider answered without an id_token, and this source hands out ID tokens: check that the scope holds openid and that the grant type issues ID tokens (some providers issue none on refresh)."), null)
                : new GrantAnswer(response, null, null);
        }

        var check = endpoints.IdTokenChecker is { } checker
            ? await checker.CheckAsync(response.IdToken, nonce, time.GetUtcNow().UtcDateTime)
            : null;
        if (check is null || check is { Valid: false, ProviderUnreachable: true })
        {
            // Note: an ID token that cannot be checked (no issuer named, keys out of reach) is not kept. The access
            // and refresh tokens do not depend on it (the code exchange is bound by PKCE), so they are; a source that
            // hands out the ID token itself has nothing to hand out.
            LogIdTokenUnchecked(logger, source.Name, check?.Error ?? "no issuer or discovery URL is configured");
            return source.HandsOutIdToken
                ? new GrantAnswer(response, new TokenFailure(TokenFailureKind.Unavailable, "invalid_id_token",
                    check?.Error ?? "The ID token cannot be checked: no issuer is known for this source."), check)
                : new GrantAnswer(response with { IdToken = null }, null, null);
        }

        if (!check.Valid)
        {
            var failure = new TokenFailure(TokenFailureKind.Rejected, "invalid_id_token", check.Error!);
            // Note: a refused ID token in a code exchange means the answer was not for this sign-in: nothing of it is
            // kept (no refresh token was spent). Anywhere else the answer stays with the failure: a rotated refresh
            // token in it must still be stored.
            return grantType == "authorization_code" ? new GrantAnswer(null, failure, check) : new GrantAnswer(response, failure, check);
        }

        return new GrantAnswer(response, null, check);
    }

    /// <summary>
    /// The refresh_token grant for many sources at once, for the token store updater: one statement per kind takes the
    /// row leases of all, one query per kind reads them, the requests run concurrently (at most
    /// <paramref name="parallelism"/> at a time), and one transaction stores every outcome before anything is handed out
    /// — the same rules as <see cref="RenewAsync"/> with a fraction of its database work per token. A source this path
    /// leaves alone gets a null result, for the one-by-one path with its full handling: leased by someone else, deleted,
    /// set to invalid, without a usable refresh token, after failures (backoff), with a provider that cannot be resolved,
    /// or with a secret that cannot be decrypted. A source refreshed after <paramref name="refreshedSince"/> (by another
    /// process) is not refreshed again.
    /// </summary>
    public async Task<IReadOnlyList<(TokenSource Source, TokenOperationResult? Result)>> RefreshManyAsync(
        IReadOnlyList<TokenSource> sources, DateTime refreshedSince, string actor, int parallelism, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await using var held = await SqliteConnections.HoldAsync(db, cancellationToken);
        var distinct = sources.Distinct().ToList();
        var results = distinct.ToDictionary(s => s, _ => (TokenOperationResult?)null);
        var lease = TokenRowLease.NewOwner(time);
        var now = time.GetUtcNow().UtcDateTime;
        var until = now + TokenRowLease.Duration;
        var work = new List<TokenSourceDefinition>();
        var release = new List<(ITokenSourceKind Kind, List<int> Ids)>();
        var decrypted = new Dictionary<string, string>(StringComparer.Ordinal); // only read once the requests start
        void Decrypt(string value) => decrypted[value] = protector.Unprotect(value);
        string Unprotect(string value) => decrypted.TryGetValue(value, out var plain) ? plain : protector.Unprotect(value);
        // Note: from here on no cancellation: leases taken are given back, answers received are stored.
        foreach (var group in distinct.GroupBy(s => s.Kind))
        {
            var kind = kinds[group.Key];
            var ids = group.Select(s => s.Id).ToList();
            using (await writes.EnterAsync(CancellationToken.None))
            await using (await SqliteConnections.RelaxedCommitsAsync(db, CancellationToken.None))
            {
                await db.TokenStates.Where(kind.StateRows(ids)).Where(s => s.LeaseUntil == null || s.LeaseUntil < now)
                    .ExecuteUpdateAsync(u => u.SetProperty(s => s.LeaseOwner, lease).SetProperty(s => s.LeaseUntil, until), CancellationToken.None);
            }

            var toRelease = new List<int>();
            foreach (var definition in await kind.LoadManyAsync(db, ids, CancellationToken.None))
            {
                var state = definition.State;
                if (state?.LeaseOwner != lease)
                {
                    continue; // another refresh holds it: the one-by-one path waits for that
                }

                try
                {
                    if (!definition.Valid || state.RefreshTokenProtected is null || state.RefreshTokenRevokedAt is not null
                        || state.RefreshTokenExpiresAt <= now || state.ConsecutiveFailures > 0)
                    {
                        toRelease.Add(definition.Source.Id);
                        continue;
                    }

                    if (state.LastRefreshAt > refreshedSince)
                    {
                        toRelease.Add(definition.Source.Id);
                        results[definition.Source] = new TokenOperationResult(true, $"Token for '{definition.Name}' was refreshed meanwhile by another process.", State: state);
                        continue;
                    }

                    // Decrypted here, once (the request reuses them), so a secret written with another key leaves this
                    // source to the one-by-one path.
                    Decrypt(state.RefreshTokenProtected);
                    if (definition.ClientSecretProtected is not null)
                    {
                        Decrypt(definition.ClientSecretProtected);
                    }

                    if (definition.Certificate.Protected is not null)
                    {
                        Decrypt(definition.Certificate.Protected);
                    }

                    work.Add(definition);
                }
                catch (SecretUnreadableException)
                {
                    toRelease.Add(definition.Source.Id);
                }
            }

            release.Add((kind, toRelease));
        }

        foreach (var (kind, ids) in release.Where(r => r.Ids.Count > 0))
        {
            using (await writes.EnterAsync(CancellationToken.None))
            await using (await SqliteConnections.RelaxedCommitsAsync(db, CancellationToken.None))
            {
                await db.TokenStates.Where(kind.StateRows(ids)).Where(s => s.LeaseOwner == lease)
                    .ExecuteUpdateAsync(u => u.SetProperty(s => s.LeaseOwner, (string?)null).SetProperty(s => s.LeaseUntil, (DateTime?)null), CancellationToken.None);
            }
        }

        // Note: held through the requests and the save: the updater runs two batches at a time, so this keeps two
        // handles open, and giving the connection back here made each batch's save pay for opening it again.
        var answers = new GrantAnswer[work.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, work.Count), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism) }, async (i, _) =>
        {
            try
            {
                answers[i] = await SendAsync(work[i], "refresh_token", code: null, Unprotect, CancellationToken.None);
            }
            catch (Exception ex)
            {
                // Note: one source failing in an unexpected way must not lose the answers the others received.
                answers[i] = new GrantAnswer(null, new TokenFailure(TokenFailureKind.Unavailable, "error", ex.Message), null);
            }
        });

        var outcomes = new List<TokenStateWriter.Outcome>(work.Count);
        for (var i = 0; i < work.Count; i++)
        {
            var outcome = writer.Record(work[i], "refresh_token", answers[i], refreshTokenSpent: true, dropRefreshToken: false, actor);
            outcomes.Add(outcome);
            results[work[i].Source] = outcome.Result;
        }

        if (outcomes.Count > 0)
        {
            await writer.SaveAsync(outcomes);
        }

        return [.. distinct.Select(s => (s, results[s]))];
    }

    /// <summary>The source as stored (untracked), or null when it does not exist.</summary>
    /// <exception cref="TokenSourceUnreadableException">its stored configuration cannot be read</exception>
    public Task<TokenSourceDefinition?> FindAsync(TokenSource source, CancellationToken cancellationToken) =>
        kinds[source.Kind].LoadAsync(db, source.Id, tracking: false, cancellationToken);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The device sign-in of '{Source}' could not be started: {Code}: {Description}")]
    private static partial void LogDeviceAuthorizationFailed(ILogger logger, string source, string code, string description);

    [LoggerMessage(Level = LogLevel.Information, Message = "The refresh token of '{Source}' was refused ({Code}); asking for a new token with the source's own credentials.")]
    private static partial void LogRefreshRefused(ILogger logger, string source, string code);

    [LoggerMessage(Level = LogLevel.Information, Message = "The ID token received for '{Source}' was not kept: it cannot be checked ({Reason}).")]
    private static partial void LogIdTokenUnchecked(ILogger logger, string source, string reason);
}
