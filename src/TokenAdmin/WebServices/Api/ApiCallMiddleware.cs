using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;

namespace TokenAdmin.WebServices.Api;

/// <summary>Problem details (RFC 9457) as the API writes them outside endpoint results (authentication, errors).</summary>
public static class ApiProblems
{
    public static async Task WriteAsync(HttpContext context, int status, string title, string detail)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/problem+json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["type"] = status == StatusCodes.Status429TooManyRequests ? "https://tools.ietf.org/html/rfc6585#section-4" : $"https://tools.ietf.org/html/rfc9110#section-{Section(status)}",
            ["title"] = title,
            ["status"] = status,
            ["detail"] = detail,
        }), context.RequestAborted);
    }

    private static string Section(int status) => status switch
    {
        401 => "15.5.2",
        403 => "15.5.4",
        404 => "15.5.5",
        503 => "15.6.4",
        _ => "15.6.1",
    };
}

/// <summary>
/// Wraps every /api call: answers unexpected errors as problem details (never the HTML error page), keeps the status
/// code pages out of the API, and records the call in the debugger (direction Incoming, the API user or "anonymous").
/// Headers go to the recorder as they were (it redacts Authorization); a response that holds a token (the broker) is
/// not recorded with its body.
/// </summary>
public sealed partial class ApiCallMiddleware(RequestDelegate next, ILogger<ApiCallMiddleware> logger)
{
    /// <summary>Bodies are handed to the recorder up to this many bytes (it cuts them again at its own limit).</summary>
    public const int BodyLimit = 64 * 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Features.Get<IStatusCodePagesFeature>() is { } pages)
        {
            pages.Enabled = false;
        }

        var recorder = context.RequestServices.GetRequiredService<ICallRecorder>();
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        // Note: a call without a bearer token is never authenticated: its body is neither buffered nor stored.
        var maybeAuthenticated = context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase);
        string? requestBody = null;
        if (maybeAuthenticated)
        {
            context.Request.EnableBuffering(BodyLimit);
            requestBody = await ReadRequestBodyAsync(context.Request);
        }

        var original = context.Response.Body;
        using var capture = new CaptureStream(original, BodyLimit);
        context.Response.Body = capture;
        string? error = null;
        try
        {
            await RunAsync(context);
        }
        catch (Exception ex)
        {
            error = ex.GetType().Name;
            throw;
        }
        finally
        {
            context.Response.Body = original;
            clock.Stop();
            var holdsSecret = context.GetEndpoint()?.Metadata.GetMetadata<ResponseHoldsSecret>() is not null;
            // Note: a call that is not authenticated (anonymous, or refused with 401) leaves one capped line: anyone can
            // send those, so neither their headers nor their bodies may fill the debugger.
            var authenticated = context.User.Identity is { IsAuthenticated: true, AuthenticationType: ApiAuthentication.Scheme }
                && context.Response.StatusCode != StatusCodes.Status401Unauthorized;
            var record = authenticated
                ? new CallRecord(
                    CallDirection.Incoming, started, clock.Elapsed, context.Request.Method,
                    $"{context.Request.PathBase}{context.Request.Path}{context.Request.QueryString}",
                    context.Response.StatusCode,
                    [.. context.Request.Headers.SelectMany(h => h.Value.Select(v => new KeyValuePair<string, string>(h.Key, v ?? "")))],
                    requestBody,
                    [.. context.Response.Headers.SelectMany(h => h.Value.Select(v => new KeyValuePair<string, string>(h.Key, v ?? "")))],
                    holdsSecret && context.Response.StatusCode < 300 ? "(not recorded: the answer holds a token)" : capture.Text(),
                    error,
                    context.Request.RouteValues.TryGetValue("webservice", out var ws) ? ws as string : null,
                    context.Request.RouteValues.TryGetValue("invoker", out var inv) ? inv as string : null,
                    context.User.Identity!.Name,
                    context.Items.TryGetValue(ApiEndpoints.SentSecretsItem, out var sent) ? sent as IReadOnlyList<string> : null)
                : new CallRecord(
                    CallDirection.Incoming, started, clock.Elapsed, context.Request.Method,
                    $"{context.Request.PathBase}{context.Request.Path}", context.Response.StatusCode, [], null, [], null, error,
                    Caller: "anonymous", Summary: Summary(context));
            await recorder.RecordAsync(record, CancellationToken.None);
        }
    }

    /// <summary>The one line stored for a call that was not authenticated: why it was refused and how big it was.</summary>
    private static string Summary(HttpContext context)
    {
        var headerBytes = context.Request.Headers.Sum(h => h.Key.Length + 4 + h.Value.Sum(v => v?.Length ?? 0));
        var body = context.Request.ContentLength is { } length ? $"{length} bytes of body" : "body size unknown";
        var reason = context.Response.Headers.WWWAuthenticate.ToString() is { Length: > 0 } challenge
            ? ErrorDescription(challenge)
            : context.Response.StatusCode < 400 ? "anonymous call" : $"refused ({context.Response.StatusCode})";
        return $"Not authenticated: {reason}. Request: {headerBytes} bytes of headers, {body} (not stored).";
    }

    /// <summary>The error_description of a Bearer challenge (or the challenge), cut: the reason the debugger shows.</summary>
    private static string ErrorDescription(string challenge)
    {
        const string key = "error_description=\"";
        var start = challenge.IndexOf(key, StringComparison.Ordinal);
        var text = start < 0 ? challenge : challenge[(start + key.Length)..].Split('"', 2)[0];
        return text.Length <= 300 ? text : text[..300] + "…";
    }

    private async Task RunAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted)
        {
            LogUnexpected(logger, context.Request.Path, ex);
            context.Response.Clear();
            await ApiProblems.WriteAsync(context, StatusCodes.Status500InternalServerError, "Unexpected error",
                "The call failed unexpectedly; the server log has the details.");
        }
    }

    private static async Task<string?> ReadRequestBodyAsync(HttpRequest request)
    {
        if (request.ContentLength is 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count == 0))
        {
            return null;
        }

        var buffer = new byte[BodyLimit];
        var read = 0;
        int n;
        while (read < buffer.Length && (n = await request.Body.ReadAsync(buffer.AsMemory(read), request.HttpContext.RequestAborted)) > 0)
        {
            read += n;
        }

        request.Body.Position = 0;
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "API call {Path} failed unexpectedly.")]
    private static partial void LogUnexpected(ILogger logger, string path, Exception exception);

    /// <summary>Passes writes on and keeps the first bytes for the debugger.</summary>
    private sealed class CaptureStream(Stream inner, int limit) : Stream
    {
        private readonly MemoryStream _kept = new();

        public string? Text() => _kept.Length == 0 ? null : Encoding.UTF8.GetString(_kept.GetBuffer(), 0, (int)_kept.Length);

        private void Keep(ReadOnlySpan<byte> data)
        {
            var room = limit - (int)_kept.Length;
            if (room > 0)
            {
                _kept.Write(data[..Math.Min(room, data.Length)]);
            }
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            Keep(buffer.AsSpan(offset, count));
            inner.Write(buffer, offset, count);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Keep(buffer.Span);
            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _kept.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
