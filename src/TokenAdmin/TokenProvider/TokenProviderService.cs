using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenAdmin.Data;
using TokenAdmin.Secrets;
using TokenAdmin.Tokens;

namespace TokenAdmin.TokenProvider;

/// <summary>
/// <see cref="ITokenProvider"/>: a lock-free cache in front of one single-flight refresh per source.
/// Fast path: one dictionary lookup and a clock read, no allocation. Slow path: the database, then the provider
/// through the <see cref="TokenEngine"/> under the row lease — the same code for every kind of source.
/// </summary>
public sealed class TokenProviderService : ITokenProvider, IDisposable
{
    private readonly ConcurrentDictionary<TokenSource, CacheEntry> _cache = new();
    private readonly ConcurrentDictionary<(TokenSource Source, bool Force), Task<BearerToken>> _flights = new();
    private readonly IServiceScopeFactory _scopes;
    private readonly ISecretProtector _protector;
    private readonly TokenStateEvents _events;
    private readonly TimeProvider _time;
    private readonly TokenProviderOptions _options;
    private readonly ILogger<TokenProviderService> _logger;
    private readonly ITimer? _clockTimer;
    private readonly CancellationTokenSource _clockStop = new();
    private int _disposed;

    /// <summary>
    /// A coarse clock for the fast path, moved on four times a second: reading the system clock would cost more than
    /// the whole cache lookup. A token is therefore handed out at most 250 ms past its lead-time boundary.
    /// Note: on the system clock a dedicated thread moves it, not a thread-pool timer. A timer's callback waits in the
    /// thread pool's queue behind the requests: on a busy node (a two-node cluster under a hammer on two cores) it ran
    /// seconds late and the cache handed out tokens that had expired meanwhile.
    /// </summary>
    private long _nowTicks;

    public static readonly TimeSpan ClockResolution = TimeSpan.FromMilliseconds(250);

    public TokenProviderService(
        IServiceScopeFactory scopes, ISecretProtector protector, TokenStateEvents events, TimeProvider time,
        IOptions<TokenProviderOptions> options, ILogger<TokenProviderService> logger, IMeterFactory? meters = null)
    {
        _scopes = scopes;
        _protector = protector;
        _events = events;
        _time = time;
        _options = options.Value;
        _logger = logger;
        _events.ConfigChanged += Forget;
        _events.AccountChanged += ForgetAccount;
        _nowTicks = time.GetUtcNow().UtcTicks;
        if (time == TimeProvider.System)
        {
            new Thread(MoveClock) { IsBackground = true, Name = "TokenProvider clock", Priority = ThreadPriority.AboveNormal }.Start();
        }
        else
        {
            // A test's clock: its timers fire when the test moves the time on.
            _clockTimer = time.CreateTimer(_ => Volatile.Write(ref _nowTicks, _time.GetUtcNow().UtcTicks), null, ClockResolution, ClockResolution);
        }

        // Note: observed only when a metrics listener asks, so the fast path pays nothing for it.
        meters?.Create(TokenMetrics.MeterName).CreateObservableGauge(
            "tokenadmin.token.seconds_until_expiry", ObserveExpiry, "s", "Seconds until each cached access token expires, per token source.");
    }

    private void MoveClock()
    {
        try
        {
            var stop = _clockStop.Token.WaitHandle;
            while (!stop.WaitOne(ClockResolution))
            {
                Volatile.Write(ref _nowTicks, _time.GetUtcNow().UtcTicks);
            }
        }
        catch (ObjectDisposedException)
        {
            // Disposed between two ticks: the provider is gone.
        }
    }

    private IEnumerable<Measurement<double>> ObserveExpiry()
    {
        var now = _time.GetUtcNow();
        foreach (var (source, entry) in _cache)
        {
            if (entry.Token.ExpiresAt is { } expires)
            {
                yield return new Measurement<double>((expires - now).TotalSeconds, new KeyValuePair<string, object?>("source", source.ToString()));
            }
        }
    }

    /// <summary>A cached token and the moment it must no longer be handed out: lead time or staleness, whichever comes first.</summary>
    private sealed class CacheEntry(BearerToken token, long servableUntilTicks)
    {
        public readonly BearerToken Token = token;
        public readonly long ServableUntilTicks = servableUntilTicks;
    }

    public ValueTask<BearerToken> GetTokenAsync(TokenSource source, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(source, out var entry))
        {
            if (Volatile.Read(ref _nowTicks) < entry.ServableUntilTicks)
            {
                return new ValueTask<BearerToken>(entry.Token);
            }
        }

        return new ValueTask<BearerToken>(JoinFlightAsync(source, force: false, cancellationToken));
    }

    public Task<BearerToken> ForceRefreshAsync(TokenSource source, CancellationToken cancellationToken)
    {
        _cache.TryRemove(source, out _);
        return JoinFlightAsync(source, force: true, cancellationToken);
    }

    public void Dispose()
    {
        _events.ConfigChanged -= Forget;
        _events.AccountChanged -= ForgetAccount;
        // Note: the container disposes this service once per registration (as itself and as ITokenProvider).
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _clockTimer?.Dispose();
        _clockStop.Cancel();
        _clockStop.Dispose();
    }

    private void Forget(int tokenConfigId) => _cache.TryRemove(TokenSource.Config(tokenConfigId), out _);

    private void ForgetAccount(int accountId) => _cache.TryRemove(TokenSource.Account(accountId), out _);

    /// <summary>
    /// One flight per source (and kind): every concurrent caller awaits the same task, so a herd of callers causes
    /// one provider request, and a failure reaches them all. Each caller may stop waiting on its own token; the
    /// flight itself runs to the end, because a refresh token the provider has rotated must be stored.
    /// </summary>
    private Task<BearerToken> JoinFlightAsync(TokenSource source, bool force, CancellationToken cancellationToken)
    {
        var key = (source, force);
        while (true)
        {
            if (_flights.TryGetValue(key, out var running))
            {
                return running.WaitAsync(cancellationToken);
            }

            var start = new TaskCompletionSource<BearerToken>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_flights.TryAdd(key, start.Task))
            {
                _ = FlyAsync(source, force, start, key);
                return start.Task.WaitAsync(cancellationToken);
            }
        }
    }

    private async Task FlyAsync(TokenSource source, bool force, TaskCompletionSource<BearerToken> flight, (TokenSource, bool) key)
    {
        try
        {
            flight.SetResult(await ObtainAsync(source, force));
        }
        catch (Exception ex)
        {
            flight.SetException(ex);
        }
        finally
        {
            _flights.TryRemove(new KeyValuePair<(TokenSource, bool), Task<BearerToken>>(key, flight.Task));
        }
    }

    private async Task<BearerToken> ObtainAsync(TokenSource source, bool force)
    {
        var started = _time.GetUtcNow().UtcDateTime;
        using var scope = _scopes.CreateScope();
        var engine = scope.ServiceProvider.GetRequiredService<TokenEngine>();
        TokenSourceDefinition? definition;
        try
        {
            definition = await engine.FindAsync(source, CancellationToken.None);
        }
        catch (TokenSourceUnreadableException ex)
        {
            throw Unavailable(source, "?", TokenUnavailableReason.ConfigInvalid, ex.Message);
        }

        if (definition is null)
        {
            throw Unavailable(source, "?", TokenUnavailableReason.NotFound, $"There is no {(source.Kind == TokenSourceKind.TokenConfig ? "token config" : "functional account")} with id {source.Id}.");
        }

        var name = definition.Name;
        if (!definition.Valid)
        {
            throw Unavailable(source, name, TokenUnavailableReason.ConfigDisabled, $"{definition.Title} is set to invalid.");
        }

        var lead = definition.LeadTime ?? _options.DefaultLeadTime;
        var state = definition.State;
        if (!force && Usable(definition, state, lead, started) is { } stored)
        {
            // Refreshed by the updater job or another node: no provider call.
            return Remember(source, stored, lead);
        }

        ThrowDuringBackoff(source, name, state, started);
        if (!definition.CanStartAfresh)
        {
            // Note: these need an admin to sign in at the provider again; asking the provider would only repeat the refusal.
            if (state?.RefreshTokenProtected is null)
            {
                throw Unavailable(source, name, TokenUnavailableReason.NotAuthorizedYet,
                    $"{definition.Title} has no token that can be renewed: {definition.Kind.ReauthorizeHint} first.");
            }

            if (state.RefreshTokenRevokedAt is not null)
            {
                throw Unavailable(source, name, TokenUnavailableReason.RefreshTokenRevoked,
                    $"The provider refused the refresh token of {definition.Kind.Noun} '{name}' ({state.LastErrorCode}): {definition.Kind.ReauthorizeHint}.");
            }

            if (state.RefreshTokenExpiresAt <= started)
            {
                throw Unavailable(source, name, TokenUnavailableReason.RefreshTokenExpired,
                    $"The refresh token of {definition.Kind.Noun} '{name}' expired on {state.RefreshTokenExpiresAt:yyyy-MM-dd HH:mm} UTC: {definition.Kind.ReauthorizeHint}.");
            }
        }

        var result = await engine.RenewAsync(source, "token-provider", CancellationToken.None,
            fresh => force ? !(fresh.LastRefreshAt > started) : Usable(definition, fresh, lead, _time.GetUtcNow().UtcDateTime) is null);
        if (!result.Succeeded)
        {
            var reason = result.Failure switch
            {
                null => TokenUnavailableReason.ConfigInvalid,
                { Kind: TokenFailureKind.Unavailable } => TokenUnavailableReason.ProviderUnavailable,
                { RefreshTokenDead: true } when !definition.CanStartAfresh => TokenUnavailableReason.RefreshTokenRevoked,
                _ => TokenUnavailableReason.ProviderRefused,
            };
            throw Unavailable(source, name, reason, result.Message, result.Failure?.RetryAfter);
        }

        // The state the engine stored (or found refreshed by another process): no second read.
        return Usable(definition, result.State, TimeSpan.Zero, _time.GetUtcNow().UtcDateTime, result.Issued) is { } token
            ? Remember(source, token, lead)
            : throw Unavailable(source, name, TokenUnavailableReason.ProviderRefused,
                definition.HandsOutIdToken && result.State?.IdTokenProtected is null
                    ? $"The provider answered for '{name}' without a usable ID token."
                    : $"The provider answered for '{name}' with a token that is already expired.");
    }

    /// <summary>After failures, the provider is left alone for a growing while: a dead provider is not hammered.</summary>
    private void ThrowDuringBackoff(TokenSource source, string name, TokenState? state, DateTime now)
    {
        if (state is { ConsecutiveFailures: > 0, LastErrorAt: { } failedAt, RefreshTokenRevokedAt: null })
        {
            var wait = Backoff(state.ConsecutiveFailures) - (now - failedAt);
            if (wait > TimeSpan.Zero)
            {
                throw Unavailable(source, name, TokenUnavailableReason.ProviderUnavailable,
                    $"The provider of '{name}' failed {state.ConsecutiveFailures} time(s) in a row ({state.LastErrorCode}: {state.LastErrorDescription}); TokenAdmin asks again in {wait.TotalSeconds:0} s.",
                    wait);
            }
        }
    }

    /// <summary>The token the source hands out (its access token, or its ID token), when it has more than <paramref name="lead"/> left.</summary>
    /// <param name="issued">What the refresh that left <paramref name="state"/> received: used instead of decrypting it again.</param>
    private BearerToken? Usable(TokenSourceDefinition source, TokenState? state, TimeSpan lead, DateTime now, IssuedTokens? issued = null) => source.HandsOutIdToken
        ? Usable(state?.IdTokenProtected, state?.IdTokenExpiresAt, "Bearer", lead, now, issued?.IdToken)
        : Usable(state?.AccessTokenProtected, state?.AccessTokenExpiresAt, state?.TokenType, lead, now, issued?.AccessToken);

    /// <summary>
    /// The stored access token when it has more than <paramref name="lead"/> left; an unknown expiry counts as usable.
    /// One that cannot be decrypted (another master key) is no token: the refresh that follows says why.
    /// </summary>
    private BearerToken? Usable(string? protectedToken, DateTime? expiresAt, string? type, TimeSpan lead, DateTime now, string? plain = null)
    {
        if (protectedToken is null || !(expiresAt is null || expiresAt.Value - lead > now))
        {
            return null;
        }

        try
        {
            return new BearerToken(plain ?? _protector.Unprotect(protectedToken), type ?? "Bearer", expiresAt is { } at ? new DateTimeOffset(at, TimeSpan.Zero) : null);
        }
        catch (SecretUnreadableException)
        {
            return null;
        }
    }

    private BearerToken Remember(TokenSource source, BearerToken token, TimeSpan lead)
    {
        var now = _time.GetUtcNow();
        Volatile.Write(ref _nowTicks, now.UtcTicks);
        var usableUntil = token.ExpiresAt is { } expires ? (expires - lead).UtcTicks : long.MaxValue;
        _cache[source] = new CacheEntry(token, Math.Min(usableUntil, (now + _options.MaxStaleness).UtcTicks));
        return token;
    }

    private TimeSpan Backoff(int failures)
    {
        var seconds = _options.FirstBackoff.TotalSeconds * Math.Pow(2, Math.Min(failures - 1, 16));
        return TimeSpan.FromSeconds(Math.Min(seconds, _options.MaxBackoff.TotalSeconds));
    }

    private TokenUnavailableException Unavailable(TokenSource source, string name, TokenUnavailableReason reason, string message, TimeSpan? retryAfter = null)
    {
        TokenProviderLog.Unavailable(_logger, name, reason, message);
        return new TokenUnavailableException(source, name, reason, message, retryAfter);
    }
}

internal static partial class TokenProviderLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "No token for '{Source}' ({Reason}): {Message}")]
    public static partial void Unavailable(ILogger logger, string source, TokenUnavailableReason reason, string message);
}
