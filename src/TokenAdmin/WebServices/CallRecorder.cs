using System.Globalization;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;
using TokenAdmin.Settings;

namespace TokenAdmin.WebServices;

/// <summary>
/// Stores calls for the debugger. Everything is redacted and cut here, before it reaches the database; a failure to
/// store is logged and swallowed, because a call must never fail for the debugger's sake.
/// </summary>
public sealed partial class CallRecorder(IServiceScopeFactory scopes, SettingsStore settings, ILogger<CallRecorder> logger) : ICallRecorder, IDisposable
{
    /// <summary>The most header text stored per direction of a call, whatever the call sent.</summary>
    public const int MaxHeaderText = 8 * 1024;

    /// <summary>The most text stored for a call refused before authentication.</summary>
    public const int MaxSummaryText = 500;

    /// <summary>What this node believes the debugger holds (characters); -1 until first measured. See <see cref="CallLogBound"/>.</summary>
    private long _storedSize = -1;
    private readonly SemaphoreSlim _trim = new(1, 1);

    /// <summary>Bounds the time a call waits for its debugger entry, e.g. while the database is locked.</summary>
    private static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(10);

    public async ValueTask RecordAsync(CallRecord record, CancellationToken cancellationToken)
    {
        try
        {
            // Note: not the caller's token: a call cancelled by its timeout is exactly what the debugger must show.
            using var timeout = new CancellationTokenSource(StoreTimeout);
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TokenAdminDb>();
            var snapshot = await settings.GetAsync(timeout.Token);
            var limit = int.TryParse(snapshot.Get(DebuggerSettings.BodyLimit), NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? l : 16384;
            var secretHeaders = await SecretHeaderNamesAsync(db, record.WebService, timeout.Token);
            var entry = Redact(record, secretHeaders, limit);
            db.CallLogEntries.Add(entry);
            await db.SaveChangesAsync(timeout.Token);
            await KeepWithinSizeAsync(db, CallLogBound.SizeOf(entry), CallLogBound.MaxSize(snapshot), timeout.Token);
        }
#pragma warning disable CA1031 // The debugger must never break the call it records.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogStoreFailed(logger, ex, record.Direction, record.Method, record.WebService ?? "");
        }
    }

    /// <summary>
    /// Adds the new entry to the known size and, once that passes the limit, measures the store and removes the oldest
    /// calls (<see cref="CallLogBound.TrimAsync"/>). One trim at a time; a call that finds one running does not wait.
    /// </summary>
    private async Task KeepWithinSizeAsync(TokenAdminDb db, long added, long maxSize, CancellationToken cancellationToken)
    {
        var known = Interlocked.Read(ref _storedSize);
        if (known >= 0 && Interlocked.Add(ref _storedSize, added) <= maxSize)
        {
            return;
        }

        if (!await _trim.WaitAsync(0, cancellationToken))
        {
            return;
        }

        try
        {
            var (size, removed) = await CallLogBound.TrimAsync(db, maxSize, cancellationToken);
            Interlocked.Exchange(ref _storedSize, size);
            if (removed > 0)
            {
                LogTrimmed(logger, removed, maxSize / CallLogBound.Megabyte);
            }
        }
        finally
        {
            _trim.Release();
        }
    }

    public void Dispose() => _trim.Dispose();

    /// <summary>The entry as it is stored: secrets masked, bodies cut at <paramref name="bodyLimit"/>, fields cut to their columns.</summary>
    public static CallLogEntry Redact(CallRecord record, IReadOnlySet<string>? secretHeaders, int bodyLimit)
    {
        if (record.Summary is { } summary)
        {
            // Note: nothing the caller chose beyond method and path (no query, no headers, no body) is kept.
            var path = record.Url.Split('?', 2)[0];
            return new CallLogEntry
            {
                At = record.StartedAt.UtcDateTime,
                Direction = record.Direction,
                Method = Cut(CallRedaction.SingleLine(record.Method), 10) ?? "",
                Url = Cut(CallRedaction.SingleLine(path), 200) ?? "",
                StatusCode = record.StatusCode,
                DurationMs = (long)record.Duration.TotalMilliseconds,
                RequestHeaders = Cut(CallRedaction.SingleLine(summary), MaxSummaryText) ?? "",
                ResponseHeaders = "",
                Error = record.Error is null ? null : Cut(record.Error, 100),
                Caller = Cut(record.Caller, 100),
            };
        }

        var known = CallRedaction.KnownSecrets(record.RequestHeaders.Concat(record.ResponseHeaders), secretHeaders);
        if (record.KnownSecrets is { Count: > 0 } extra)
        {
            known = [.. known.Concat(extra).Where(s => s.Length >= 4).Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length)];
        }

        string? Body(string? body) => body is null ? null : CallRedaction.Cut(CallRedaction.RedactBody(body, known), bodyLimit);
        return new CallLogEntry
        {
            At = record.StartedAt.UtcDateTime,
            Direction = record.Direction,
            WebService = Cut(record.WebService, 100),
            Invoker = Cut(record.Invoker, 100),
            Method = Cut(record.Method, 10) ?? "",
            Url = Cut(CallRedaction.RedactUrl(record.Url, known), 4000) ?? "",
            StatusCode = record.StatusCode,
            DurationMs = (long)record.Duration.TotalMilliseconds,
            RequestHeaders = Cut(CallRedaction.RedactHeaders(record.RequestHeaders, secretHeaders, known), MaxHeaderText)!,
            RequestBody = Body(record.RequestBody),
            ResponseHeaders = Cut(CallRedaction.RedactHeaders(record.ResponseHeaders, secretHeaders, known), MaxHeaderText)!,
            ResponseBody = Body(record.ResponseBody),
            Error = Cut(record.Error is null ? null : CallRedaction.RedactBody(record.Error, known), 2000),
            Caller = Cut(record.Caller, 200),
        };
    }

    private static async Task<IReadOnlySet<string>?> SecretHeaderNamesAsync(TokenAdminDb db, string? webService, CancellationToken cancellationToken)
    {
        if (webService is null)
        {
            return null;
        }

        var normalized = WebService.Normalize(webService);
        var names = await db.WebServiceHeaders.AsNoTracking()
            .Where(h => h.Secret && db.WebServices.Any(w => w.Id == h.WebServiceId && w.NormalizedName == normalized))
            .Select(h => h.Name).ToListAsync(cancellationToken);
        return names.ToHashSet(StringComparer.OrdinalIgnoreCase);
    }

    private static string? Cut(string? value, int max) => value is null || value.Length <= max ? value : value[..(max - 1)] + "…";

    [LoggerMessage(LogLevel.Information, "Debugger: removed the {Count} oldest call(s) to stay within {MaxSizeMb} MB.")]
    private static partial void LogTrimmed(ILogger logger, int count, long maxSizeMb);

    [LoggerMessage(LogLevel.Warning, "The debugger could not store a {Direction} {Method} call of web service '{WebService}'.")]
    private static partial void LogStoreFailed(ILogger logger, Exception exception, CallDirection direction, string method, string webService);
}
