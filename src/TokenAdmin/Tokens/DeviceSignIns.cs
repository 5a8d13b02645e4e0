using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace TokenAdmin.Tokens;

/// <summary>Timing of device sign-ins (section TokenAdmin:DeviceFlow). The defaults are RFC 8628's.</summary>
public sealed class DeviceFlowOptions
{
    public const string Section = "TokenAdmin:DeviceFlow";

    /// <summary>Wait between polls when the provider states no interval (RFC 8628 section 3.5: 5 seconds).</summary>
    public TimeSpan DefaultInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Added to the wait at each slow_down answer (RFC 8628 section 3.5: 5 seconds).</summary>
    public TimeSpan SlowDownStep { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Device sign-ins polled at once in this process; one more is refused with a message.</summary>
    public int MaxRunning { get; set; } = 20;
}

public enum DeviceSignInStatus { Pending, Succeeded, Failed }

/// <summary>
/// One device sign-in as the pages and the console see it: what the user enters where, until when, and how it ended.
/// Holds no secret (the device code stays with its poller).
/// </summary>
public sealed class DeviceSignIn
{
    internal DeviceSignIn(TokenSource source, string name, DeviceAuthorization authorization, DateTime startedAt, TimeSpan interval)
    {
        Source = source;
        Name = name;
        UserCode = authorization.UserCode;
        VerificationUri = authorization.VerificationUri;
        VerificationUriComplete = authorization.VerificationUriComplete;
        StartedAt = startedAt;
        ExpiresAt = startedAt.AddSeconds(authorization.ExpiresIn);
        _interval = interval;
    }

    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TimeSpan _interval;
    private volatile string _message = "Waiting for the user to enter the code.";
    private volatile int _status;
    private int _polls;

    public TokenSource Source { get; }
    public string Name { get; }
    public string UserCode { get; }
    public string VerificationUri { get; }
    public string? VerificationUriComplete { get; }
    public DateTime StartedAt { get; }

    /// <summary>When the codes expire (UTC): polling stops then at the latest.</summary>
    public DateTime ExpiresAt { get; }

    public DeviceSignInStatus Status => (DeviceSignInStatus)_status;

    /// <summary>What happened last, in words for an admin.</summary>
    public string Message => _message;

    /// <summary>The wait between polls now (grows with each slow_down).</summary>
    public TimeSpan Interval { get { lock (_finished) { return _interval; } } }

    /// <summary>Token requests sent so far.</summary>
    public int Polls => Volatile.Read(ref _polls);

    public DateTime? EndedAt { get; private set; }

    /// <summary>Completes when the sign-in has ended (tokens stored, refused, expired or cancelled).</summary>
    public Task Finished => _finished.Task;

    internal void SlowDown(TimeSpan step)
    {
        lock (_finished)
        {
            _interval += step;
        }
    }

    internal void Polled() => Interlocked.Increment(ref _polls);

    internal void Note(string message) => _message = message;

    internal void End(bool succeeded, string message, DateTime now)
    {
        _message = message;
        EndedAt = now;
        _status = (int)(succeeded ? DeviceSignInStatus.Succeeded : DeviceSignInStatus.Failed);
        _finished.TrySetResult();
    }
}

/// <summary>
/// The device sign-ins of this process (RFC 8628): starts one per source (a new one replaces the running one), polls
/// the token endpoint in the background honouring interval and slow_down until tokens are stored, the provider refuses,
/// or the codes expire; and keeps the last sign-in of each source for its page. The device code lives only in the
/// memory of its poller: after a restart a running sign-in is gone (its page says so), and the admin starts again.
/// </summary>
public sealed partial class DeviceSignIns(
    IServiceScopeFactory scopes, IOptions<DeviceFlowOptions> options, TimeProvider time, IHostApplicationLifetime lifetime, ILogger<DeviceSignIns> logger)
{
    private readonly ConcurrentDictionary<TokenSource, (DeviceSignIn SignIn, CancellationTokenSource Stop)> _signIns = new();

    /// <summary>The last device sign-in of the source in this process (running or ended), or null.</summary>
    public DeviceSignIn? Find(TokenSource source) => _signIns.TryGetValue(source, out var entry) ? entry.SignIn : null;

    /// <summary>
    /// Asks the provider for a user code and starts polling. On failure (the message says why) nothing is stored and a
    /// running sign-in of the source goes on.
    /// </summary>
    public async Task<(DeviceSignIn? SignIn, string Message)> StartAsync(TokenSource source, string actor, CancellationToken cancellationToken)
    {
        if (_signIns.Values.Count(e => e.SignIn.Status == DeviceSignInStatus.Pending && e.SignIn.Source != source) >= options.Value.MaxRunning)
        {
            return (null, $"{options.Value.MaxRunning} device sign-ins are running already; wait until one has ended.");
        }

        DeviceAuthorization? authorization;
        string message;
        string name;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var engine = scope.ServiceProvider.GetRequiredService<TokenEngine>();
            (authorization, message) = await engine.AuthorizeDeviceAsync(source, cancellationToken);
            name = authorization is null ? "" : (await engine.FindAsync(source, cancellationToken))?.Name ?? source.ToString();
        }

        if (authorization is null)
        {
            return (null, message);
        }

        var interval = authorization.Interval is { } seconds ? TimeSpan.FromSeconds(seconds) : options.Value.DefaultInterval;
        var signIn = new DeviceSignIn(source, name, authorization, time.GetUtcNow().UtcDateTime, interval);
        var stop = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping);
        // Note: the bound of the whole sign-in: the codes' lifetime (at most DeviceCodeGrant.MaxLifetime) and one poll's deadline.
        stop.CancelAfter(TimeSpan.FromSeconds(authorization.ExpiresIn) + TimeSpan.FromMinutes(2));
        // Note: replaced atomically, and the entry actually replaced is the one stopped, so two starts at once (a double
        // click, web and console) never leave a poller running unseen.
        (DeviceSignIn SignIn, CancellationTokenSource Stop)? previous = null;
        _signIns.AddOrUpdate(source, _ => (signIn, stop), (_, old) =>
        {
            previous = old;
            return (signIn, stop);
        });
        if (previous is { } replaced && replaced.SignIn.Status == DeviceSignInStatus.Pending)
        {
            try
            {
                replaced.Stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // It ended meanwhile: nothing to stop.
            }
        }

        LogStarted(logger, name, signIn.ExpiresAt);
        _ = Task.Run(() => PollAsync(signIn, authorization.DeviceCode, actor, stop), CancellationToken.None);
        return (signIn, message);
    }

    private async Task PollAsync(DeviceSignIn signIn, string deviceCode, string actor, CancellationTokenSource stop)
    {
        var step = options.Value.SlowDownStep;
        try
        {
            while (true)
            {
                var wait = signIn.Interval;
                var left = signIn.ExpiresAt - time.GetUtcNow().UtcDateTime;
                if (left <= wait)
                {
                    // Note: no poll after the codes expired: the provider would only say expired_token.
                    await Task.Delay(left > TimeSpan.Zero ? left : TimeSpan.Zero, time, stop.Token);
                    await EndExpiredAsync(signIn, actor);
                    return;
                }

                await Task.Delay(wait, time, stop.Token);
                TokenOperationResult result;
                await using (var scope = scopes.CreateAsyncScope())
                {
                    signIn.Polled();
                    result = await scope.ServiceProvider.GetRequiredService<TokenEngine>().PollDeviceCodeAsync(signIn.Source, deviceCode, actor, stop.Token);
                }

                if (result.Succeeded)
                {
                    signIn.End(true, result.Message, time.GetUtcNow().UtcDateTime);
                    LogEnded(logger, signIn.Name, "tokens stored");
                    return;
                }

                switch (result.Failure)
                {
                    case { Code: "authorization_pending" }:
                        signIn.Note("Waiting for the user to enter the code.");
                        continue;
                    case { Code: "slow_down" }:
                        signIn.SlowDown(step);
                        signIn.Note($"The provider asked to poll less often; polling every {signIn.Interval.TotalSeconds:0.#} seconds now.");
                        continue;
                    case { Kind: TokenFailureKind.Unavailable }:
                        // Note: tried again at the next interval until the codes expire; the page shows why.
                        signIn.Note($"The last poll got no usable answer ({result.Message}); trying again.");
                        continue;
                    default:
                        signIn.End(false, Describe(result), time.GetUtcNow().UtcDateTime);
                        LogEnded(logger, signIn.Name, result.Failure?.Code ?? "refused");
                        return;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            var replaced = Find(signIn.Source) != signIn;
            signIn.End(false, replaced ? "A newer device sign-in replaced this one."
                : lifetime.ApplicationStopping.IsCancellationRequested ? "TokenAdmin stopped; start the device sign-in again."
                : "The device sign-in ran out of time; start it again.", time.GetUtcNow().UtcDateTime);
        }
        catch (Exception ex)
        {
            // Note: the poller never takes the process down; the sign-in ends with what went wrong.
            LogPollFailed(logger, signIn.Name, ex);
            signIn.End(false, $"The device sign-in failed: {ex.Message}", time.GetUtcNow().UtcDateTime);
        }
        finally
        {
            stop.Dispose();
        }
    }

    private async Task EndExpiredAsync(DeviceSignIn signIn, string actor)
    {
        var failure = new TokenFailure(TokenFailureKind.Rejected, "expired_token",
            $"The user code {signIn.UserCode} expired at {signIn.ExpiresAt:yyyy-MM-dd HH:mm:ss} UTC before the sign-in was finished; start the device sign-in again.");
        await using (var scope = scopes.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<TokenEngine>().RecordDeviceSignInEndedAsync(signIn.Source, failure, actor, CancellationToken.None);
        }

        signIn.End(false, failure.Description, time.GetUtcNow().UtcDateTime);
        LogEnded(logger, signIn.Name, "expired");
    }

    private static string Describe(TokenOperationResult result) => result.Failure?.Code switch
    {
        "access_denied" => $"The user declined the sign-in at the provider (access_denied); no token was stored. {result.Failure.Description}".TrimEnd(),
        "expired_token" => $"The user code expired before the sign-in was finished (expired_token); start the device sign-in again. {result.Failure.Description}".TrimEnd(),
        _ => result.Message,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Device sign-in of '{Source}' started; the user code expires at {ExpiresAt:u}.")]
    private static partial void LogStarted(ILogger logger, string source, DateTime expiresAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Device sign-in of '{Source}' ended: {How}.")]
    private static partial void LogEnded(ILogger logger, string source, string how);

    [LoggerMessage(Level = LogLevel.Error, Message = "Device sign-in of '{Source}' failed.")]
    private static partial void LogPollFailed(ILogger logger, string source, Exception exception);
}
