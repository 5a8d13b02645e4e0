namespace TokenAdmin.WebServices;

// The seams between the outgoing web services (invokers, debugger) and the incoming API under /api/v1.
// Both sides are built against these; the implementations live beside them in this folder.

public enum CallDirection
{
    Incoming,
    Outgoing,
}

/// <summary>
/// One call for the debugger. Headers and bodies arrive as they were on the wire: the recorder redacts secrets
/// (Authorization, cookies, tokens, passwords) and cuts bodies at the configured limit before anything is stored.
/// </summary>
public sealed record CallRecord(
    CallDirection Direction,
    DateTimeOffset StartedAt,
    TimeSpan Duration,
    string Method,
    string Url,
    int? StatusCode,
    IReadOnlyList<KeyValuePair<string, string>> RequestHeaders,
    string? RequestBody,
    IReadOnlyList<KeyValuePair<string, string>> ResponseHeaders,
    string? ResponseBody,
    string? Error = null,
    string? WebService = null,
    string? Invoker = null,
    /// <summary>Who called: the API user's login for incoming calls, the admin or job for outgoing ones.</summary>
    string? Caller = null,
    /// <summary>Further values known to be secret for this call (e.g. what an invoked web service was sent), masked wherever they appear.</summary>
    IReadOnlyList<string>? KnownSecrets = null,
    /// <summary>
    /// For a call refused before authentication: the one line stored instead of its headers and bodies (anyone can
    /// send those, so they must not fill the debugger).
    /// </summary>
    string? Summary = null);

public interface ICallRecorder
{
    /// <summary>Stores one call; never throws for a storage failure (the call itself must not fail because of the debugger).</summary>
    ValueTask RecordAsync(CallRecord record, CancellationToken cancellationToken);
}

/// <summary>Values for an invoker's path placeholders, query and JSON body.</summary>
public sealed record InvokeRequest(
    IReadOnlyDictionary<string, string> PathValues,
    string? JsonBody,
    IReadOnlyDictionary<string, string>? Query = null,
    string? Caller = null);

public sealed record InvokeResult(
    int StatusCode,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    string Body,
    TimeSpan Duration);

public enum InvokeFailure
{
    /// <summary>No such web service or invoker (or it is disabled).</summary>
    NotFound,
    /// <summary>Missing placeholder value, body that is not JSON, and the like.</summary>
    BadInput,
    /// <summary>The token source could not give a token (not authorized, refresh token revoked, provider down).</summary>
    TokenUnavailable,
    /// <summary>The remote endpoint could not be reached.</summary>
    Unreachable,
    /// <summary>The invoker's timeout passed.</summary>
    Timeout,
}

/// <summary>A call that did not reach an answer from the remote side; the message is fit to show an admin or API caller.</summary>
public sealed class InvokeException(InvokeFailure failure, string message, Exception? inner = null) : Exception(message, inner)
{
    public InvokeFailure Failure { get; } = failure;
}

public interface IWebServiceInvoker
{
    /// <summary>Calls one invoker of one web service (both by name) with a bearer token when the web service uses one.</summary>
    /// <exception cref="InvokeException">The call could not be made or got no answer.</exception>
    Task<InvokeResult> InvokeAsync(string webService, string invoker, InvokeRequest request, CancellationToken cancellationToken);
}
