using Microsoft.EntityFrameworkCore;
using TokenAdmin.Admin;
using TokenAdmin.Alerts;
using TokenAdmin.Data;
using TokenAdmin.Providers;
using TokenAdmin.Secrets;

namespace TokenAdmin.Tokens;

/// <summary>What one grant request got: the answer (possibly with a failure, when a check of it failed) and the ID-token check.</summary>
/// <param name="Response">The provider's answer; may be set together with <paramref name="Failure"/> (an ID token was refused), so a rotated refresh token in it is still stored.</param>
/// <param name="IdToken">The checked ID token; null when the answer had none or it could not be checked (then it is not kept).</param>
public sealed record GrantAnswer(TokenResponse? Response, TokenFailure? Failure, TokenCheck? IdToken)
{
    public bool Succeeded => Response is not null && Failure is null;
}

/// <summary>
/// Applies a provider's answer or failure to a source's stored <see cref="TokenState"/>, for every kind of source and
/// every grant: rotation (a missing refresh_token keeps the old one), lifetimes (stated, assumed, sliding), the checked
/// ID token, error recording, lease release; then stores it in one transaction, retrying on a concurrent change.
/// </summary>
public sealed partial class TokenStateWriter(
    TokenAdminDb db, ISecretProtector protector, TokenStateEvents events, AlertOutbox alerts, DatabaseWriteGate writes, TimeProvider time, ILogger<TokenStateWriter> logger)
{
    /// <summary>One answer applied to its source's state; stored by <see cref="SaveAsync"/>.</summary>
    public sealed class Outcome
    {
        internal Outcome(TokenSourceDefinition source, string grantType, GrantAnswer answer, bool refreshTokenSpent, bool dropRefreshToken, DateTime now)
        {
            Source = source;
            GrantType = grantType;
            Answer = answer;
            RefreshTokenSpent = refreshTokenSpent;
            DropRefreshToken = dropRefreshToken;
            Now = now;
        }

        public TokenSourceDefinition Source { get; }
        public string GrantType { get; }
        public GrantAnswer Answer { get; }
        public bool RefreshTokenSpent { get; }
        public bool DropRefreshToken { get; }
        public DateTime Now { get; }
        public TokenOperationResult Result { get; internal set; } = null!;
    }

    /// <summary>
    /// Applies <paramref name="answer"/> to the source's (tracked) state and adds the audit entry; nothing is saved yet.
    /// </summary>
    /// <param name="refreshTokenSpent">The request spent the stored refresh token: a refusal of it marks it dead.</param>
    /// <param name="dropRefreshToken">The stored refresh token is known dead (refused, expired) and the answer brings none: forget it.</param>
    public Outcome Record(TokenSourceDefinition source, string grantType, GrantAnswer answer, bool refreshTokenSpent, bool dropRefreshToken, string actor)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (source.State is null)
        {
            source.State = source.Kind.NewState(source.Source.Id);
            db.TokenStates.Add(source.State);
        }

        var outcome = new Outcome(source, grantType, answer, refreshTokenSpent, dropRefreshToken, now);
        Apply(source.State, outcome);
        var failure = answer.Failure;
        if (failure is not null)
        {
            AuditLog.Add(db, time, actor, source.Kind.AuditAction(grantType, failed: true), source.Name, $"{failure.Code}: {failure.Description}");
            LogFailure(logger, source.Kind.Noun, source.Name, grantType, failure.Code, failure.Description);
            var prefix = failure.Kind == TokenFailureKind.Unavailable
                ? "The provider could not be reached or failed; the stored tokens were kept."
                : "The provider refused the request.";
            outcome.Result = new TokenOperationResult(false, $"{prefix} {failure.Code}: {failure.Description}", failure, source.State);
        }
        else
        {
            AuditLog.Add(db, time, actor, source.Kind.AuditAction(grantType, failed: false), source.Name, Summary(source.State));
            outcome.Result = new TokenOperationResult(true,
                $"Token for '{source.Name}' {(grantType == "refresh_token" ? "refreshed" : "received")}: {Summary(source.State)}.", State: source.State)
            {
                Issued = answer.Response is { } response
                    ? new IssuedTokens(response.AccessToken, response.IdToken is not null && answer.IdToken is { Valid: true } ? response.IdToken : null)
                    : null,
            };
        }

        return outcome;
    }

    private void Apply(TokenState state, Outcome outcome)
    {
        var source = outcome.Source;
        var now = outcome.Now;
        if (outcome.Answer.Response is { } response)
        {
            state.AccessTokenProtected = protector.Protect(response.AccessToken);
            state.TokenType = response.TokenType ?? "Bearer";
            // Note: a response without expires_in leaves the expiry to the JWT's exp, or unknown for opaque tokens.
            state.AccessTokenExpiresAt = response.ExpiresIn is { } seconds ? now.AddSeconds(seconds) : JwtInspector.TryDecode(response.AccessToken)?.ExpiresAt;
            state.GrantedScope = response.Scope ?? source.Scope;
            if (response.IdToken is not null && outcome.Answer.IdToken is { Valid: true } idToken)
            {
                // Note: only a checked ID token is kept; one that could not be checked is not vouched for.
                state.IdTokenProtected = protector.Protect(response.IdToken);
                state.IdTokenExpiresAt = idToken.ExpiresAt;
            }

            if (response.RefreshToken is not null)
            {
                state.RefreshTokenProtected = protector.Protect(response.RefreshToken);
                state.RefreshTokenRevokedAt = null;
                (state.RefreshTokenExpiresAt, state.RefreshTokenExpiryEstimated) = response.RefreshTokenExpiresIn is { } rt
                    ? (now.AddSeconds(rt), false)
                    : source.RefreshTokenLifetimeDays is { } days ? (now.AddDays(days), true) : ((DateTime?)null, false);
            }
            else if (outcome.DropRefreshToken)
            {
                // The refused or expired one is dead; keeping it would make every renewal try it first.
                state.RefreshTokenProtected = null;
                state.RefreshTokenExpiresAt = null;
                state.RefreshTokenExpiryEstimated = false;
                state.RefreshTokenRevokedAt = null;
            }
            else if (state.RefreshTokenProtected is not null && source.RefreshTokenSliding && source.RefreshTokenLifetimeDays is { } days && state.RefreshTokenExpiryEstimated)
            {
                // The old refresh token stays (Znuny #226 keeps it too); a sliding lifetime starts again with this use.
                state.RefreshTokenExpiresAt = now.AddDays(days);
            }

            state.ObtainedAt ??= now;
            state.LastRefreshAt = now;
        }

        if (outcome.Answer.Failure is { } failure)
        {
            state.LastErrorCode = Cut(failure.Code, 100);
            state.LastErrorDescription = Cut(failure.Description, 2000);
            state.LastErrorAt = now;
            state.ConsecutiveFailures++;
            state.FailingSince ??= now;
            if (outcome.Answer.Response is null && failure.RefreshTokenDead && (outcome.RefreshTokenSpent || outcome.DropRefreshToken)
                && state.RefreshTokenProtected is not null)
            {
                state.RefreshTokenRevokedAt ??= now;
            }
        }
        else
        {
            state.LastErrorCode = null;
            state.LastErrorDescription = null;
            state.LastErrorAt = null;
            state.ConsecutiveFailures = 0;
            state.FailingSince = null;
        }

        state.LeaseOwner = null;
        state.LeaseUntil = null;
    }

    /// <summary>
    /// Stores the outcomes in one transaction and tells the caches. No cancellation: a provider that has rotated a
    /// refresh token has already invalidated the stored one, so dropping this write would lose it. The new refresh token
    /// is committed here, before the access token is handed to anyone.
    /// </summary>
    public async Task SaveAsync(IReadOnlyList<Outcome> outcomes)
    {
        var raised = new List<AlertEvent>();
        using (await writes.EnterAsync(CancellationToken.None))
        {
            RaiseAlerts(outcomes, raised);
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
                    if (entry.Entity is TokenState state && outcomes.FirstOrDefault(o => ReferenceEquals(o.Source.State, state)) is { } outcome)
                    {
                        Apply(state, outcome);
                    }
                }

                // The alerts are judged again against the reloaded rows (another process may have raised one already).
                foreach (var alert in raised)
                {
                    db.Entry(alert).State = EntityState.Detached;
                }

                raised.Clear();
                RaiseAlerts(outcomes, raised);
                await db.SaveChangesAsync(CancellationToken.None);
            }
        }

        foreach (var outcome in outcomes)
        {
            outcome.Source.Kind.Changed(events, outcome.Source.Source.Id);
        }

        if (raised.Count > 0)
        {
            alerts.Wake();
        }
    }

    /// <summary>
    /// Compares each source's condition after the outcome with the one last alerted and adds one alert to the outbox for
    /// each change, to be committed with the state: failing (transient failures, after N in a row or M minutes), dead (the
    /// provider refused: a new authorization or new credentials are needed), recovered (works again after either).
    /// </summary>
    private void RaiseAlerts(IReadOnlyList<Outcome> outcomes, List<AlertEvent> raised)
    {
        var options = alerts.Options;
        foreach (var outcome in outcomes)
        {
            var source = outcome.Source;
            var state = source.State!;
            var failure = outcome.Answer.Failure;
            var condition = failure switch
            {
                null => AlertConditions.Ok,
                { Kind: TokenFailureKind.Rejected } => AlertConditions.Dead,
                _ when state.ConsecutiveFailures >= options.FailingAfterFailures
                    || outcome.Now - (state.FailingSince ?? outcome.Now) >= options.FailingAfter => AlertConditions.Failing,
                _ => state.AlertCondition ?? AlertConditions.Ok, // a transient failure below the thresholds changes nothing yet
            };
            var previous = state.AlertCondition ?? AlertConditions.Ok;
            if (condition == previous)
            {
                continue;
            }

            state.AlertCondition = condition == AlertConditions.Ok ? null : condition;
            var subject = new AlertSubject(source.Kind.Kind.ToString(), source.Source.Id, source.Name, source.Kind.PagePath(source.Source.Id));
            var noun = $"The {source.Kind.Noun} '{source.Name}'";
            var (type, message) = condition switch
            {
                AlertConditions.Ok => (AlertTypes.SourceRecovered, $"{noun} works again: {Summary(state)}."),
                AlertConditions.Dead when failure!.RefreshTokenDead && !source.CanStartAfresh =>
                    (AlertTypes.SourceDead, $"{noun} needs a new authorization: the provider refused the refresh token ({failure.Code}: {failure.Description}); " +
                        $"it has expired or was revoked (password change, idle too long, consent withdrawn). To fix it, {source.Kind.ReauthorizeHint}."),
                AlertConditions.Dead => (AlertTypes.SourceDead,
                    $"{noun} cannot get tokens: the provider refused the request ({failure!.Code}: {failure.Description}). Check its client ID, secret or certificate and scopes."),
                _ => (AlertTypes.SourceFailing,
                    $"{noun} has failed {state.ConsecutiveFailures} time(s) in a row since {state.FailingSince:yyyy-MM-dd HH:mm} UTC: {failure!.Code}: {failure.Description}. " +
                        "The stored tokens were kept; TokenAdmin keeps trying."),
            };
            raised.Add(alerts.Add(db, subject, type, condition, message, outcome.Now));
        }
    }

    /// <summary>Records a refusal the provider sent to the callback (error=...) on the source's state.</summary>
    public async Task RecordAuthorizationRefusalAsync(TokenSourceDefinition source, string error, string description, CancellationToken cancellationToken)
    {
        if (source.State is null)
        {
            source.State = source.Kind.NewState(source.Source.Id);
            db.TokenStates.Add(source.State);
        }

        var state = source.State;
        state.LastErrorCode = Cut(error, 100);
        state.LastErrorDescription = Cut(description, 1000);
        state.LastErrorAt = time.GetUtcNow().UtcDateTime;
        AuditLog.Add(db, time, "provider", source.Kind.AuditAction(AuthorizationRefused, failed: true), source.Name, $"{state.LastErrorCode}: {state.LastErrorDescription}");
        using (await writes.EnterAsync(cancellationToken))
        {
            await db.SaveChangesAsync(cancellationToken);
        }

        source.Kind.Changed(events, source.Source.Id);
    }

    /// <summary>The pseudo grant type under which a refusal sent to the callback is audited.</summary>
    public const string AuthorizationRefused = "authorization-refused";

    public static string Summary(TokenState state)
    {
        var access = state.AccessTokenExpiresAt is { } at ? $"valid until {at:yyyy-MM-dd HH:mm:ss} UTC" : "expiry not stated by the provider";
        var refresh = state.RefreshTokenProtected is null ? "no refresh token"
            : state.RefreshTokenExpiresAt is { } rt ? $"refresh token until {rt:yyyy-MM-dd HH:mm} UTC{(state.RefreshTokenExpiryEstimated ? " (assumed)" : "")}"
            : "refresh token without stated expiry";
        return $"{access}, {refresh}";
    }

    private static string Cut(string value, int max) => value.Length <= max ? value : value[..max];

    [LoggerMessage(Level = LogLevel.Warning, Message = "Token request for {Kind} '{Source}' ({GrantType}) failed: {Code}: {Description}")]
    private static partial void LogFailure(ILogger logger, string kind, string source, string grantType, string code, string description);
}
