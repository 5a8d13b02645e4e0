using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;
using TokenAdmin.Secrets;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.WebServices;

/// <summary>What the handlers of one outgoing call need to know; travels in the request's options, never stored.</summary>
public sealed class WebServiceCall
{
    public static readonly HttpRequestOptionsKey<WebServiceCall> Key = new("TokenAdmin.WebServiceCall");

    public required string WebService { get; init; }
    public required string Invoker { get; init; }
    public string? Caller { get; init; }
    public TokenSource? TokenSource { get; init; }
    public string TokenType { get; init; } = WebServiceTokenTypes.AccessToken;
    public string? BasicUserName { get; init; }
    public string? BasicPassword { get; init; }
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];
    public TimeSpan Timeout { get; init; }
    /// <summary>True once the call's own timeout has passed (as opposed to the caller giving up).</summary>
    public Func<bool> TimedOut { get; init; } = () => false;
    /// <summary>Set by the recording handler once it has stored an attempt, so a failure is not recorded twice.</summary>
    public bool Recorded { get; set; }
}

/// <summary>
/// Authenticates an outgoing call: a bearer token from <see cref="ITokenProvider"/>, basic credentials, and the
/// web service's extra headers. A 401 to a bearer call gets one forced refresh and one retry, never more.
/// </summary>
public sealed class WebServiceAuthHandler(ITokenProvider tokens, IServiceScopeFactory scopes) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.Options.TryGetValue(WebServiceCall.Key, out var call))
        {
            return await base.SendAsync(request, cancellationToken);
        }

        foreach (var (name, value) in call.Headers)
        {
            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                request.Content?.Headers.Remove(name);
                request.Content?.Headers.TryAddWithoutValidation(name, value);
            }
        }

        if (call.BasicUserName is not null)
        {
            var credential = Convert.ToBase64String(Encoding.UTF8.GetBytes(call.BasicUserName + ":" + call.BasicPassword));
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", credential);
        }

        if (call.TokenSource is not { } source)
        {
            return await base.SendAsync(request, cancellationToken);
        }

        // Note: buffered before the first attempt, so the same body can go out again after a 401.
        var body = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        request.Headers.Authorization = await AuthorizationAsync(call, source, force: false, cancellationToken);
        var response = await base.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        // The provider may have revoked the token before it expired, or the remote side rotated its keys.
        AuthenticationHeaderValue authorization;
        try
        {
            authorization = await AuthorizationAsync(call, source, force: true, cancellationToken);
        }
        catch (InvokeException ex)
        {
            // Note: the 401 attempt is stored already; this failure gets its own entry, so the debugger shows why no retry followed.
            call.Recorded = false;
            throw new InvokeException(ex.Failure, $"The web service answered 401 and the forced token refresh failed, so the call was not retried: {ex.Message}", ex);
        }
        finally
        {
            response.Dispose();
        }

        using var retry = Copy(request, body);
        retry.Headers.Authorization = authorization;
        return await base.SendAsync(retry, cancellationToken);
    }

    private async Task<AuthenticationHeaderValue> AuthorizationAsync(WebServiceCall call, TokenSource source, bool force, CancellationToken cancellationToken)
    {
        BearerToken token;
        try
        {
            token = force ? await tokens.ForceRefreshAsync(source, cancellationToken) : await tokens.GetTokenAsync(source, cancellationToken);
        }
        catch (TokenUnavailableException ex)
        {
            throw new InvokeException(InvokeFailure.TokenUnavailable, $"No token for web service '{call.WebService}': {ex.Message}", ex);
        }

        if (call.TokenType == WebServiceTokenTypes.IdToken && source.Kind == TokenSourceKind.TokenConfig)
        {
            // The provider hands out a token config's access token; its ID token, renewed with it, is read beside it.
            return new AuthenticationHeaderValue("Bearer", await IdTokenAsync(call, source, cancellationToken));
        }

        return token.ToAuthenticationHeader();
    }

    private async Task<string> IdTokenAsync(WebServiceCall call, TokenSource source, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenAdminDb>();
        var state = await db.TokenStates.AsNoTracking().Where(s => s.TokenConfigId == source.Id)
            .Select(s => new { s.IdTokenProtected, s.IdTokenExpiresAt }).SingleOrDefaultAsync(cancellationToken);
        if (state?.IdTokenProtected is null || state.IdTokenExpiresAt <= DateTime.UtcNow)
        {
            throw new InvokeException(InvokeFailure.TokenUnavailable,
                $"No token for web service '{call.WebService}': its token config holds no current ID token. The provider issues one only when the scope contains openid, and some providers not on refresh; use the access token instead.");
        }

        try
        {
            return scope.ServiceProvider.GetRequiredService<ISecretProtector>().Unprotect(state.IdTokenProtected);
        }
        catch (SecretUnreadableException ex)
        {
            throw new InvokeException(InvokeFailure.TokenUnavailable, $"No token for web service '{call.WebService}': {ex.Message}", ex);
        }
    }

    private static HttpRequestMessage Copy(HttpRequestMessage request, byte[]? body)
    {
        var copy = new HttpRequestMessage(request.Method, request.RequestUri) { Version = request.Version, VersionPolicy = request.VersionPolicy };
        foreach (var (name, values) in request.Headers)
        {
            copy.Headers.TryAddWithoutValidation(name, values);
        }

        if (body is not null)
        {
            copy.Content = new ByteArrayContent(body);
            foreach (var (name, values) in request.Content!.Headers)
            {
                copy.Content.Headers.TryAddWithoutValidation(name, values);
            }
        }

        foreach (var (key, value) in request.Options)
        {
            ((IDictionary<string, object?>)copy.Options)[key] = value;
        }

        return copy;
    }
}

/// <summary>
/// The innermost handler: every attempt that goes on the wire, answered or not, is handed to the debugger with the
/// headers as sent (the recorder redacts them).
/// </summary>
public sealed class CallRecordingHandler(ICallRecorder recorder, TimeProvider time) : DelegatingHandler
{
    /// <summary>An answer larger than this is not read: the call fails instead of filling the memory.</summary>
    public const long MaxAnswerBytes = 16 * 1024 * 1024;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Options.TryGetValue(WebServiceCall.Key, out var call);
        var started = time.GetUtcNow();
        var watch = Stopwatch.StartNew();
        var requestBody = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        var requestHeaders = HeaderList(request.Headers, request.Content?.Headers);
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            var error = ex is OperationCanceledException
                ? call?.TimedOut() == true ? $"Timed out after {call.Timeout.TotalSeconds:0.#} s." : "Cancelled by the caller."
                : $"Could not reach {request.RequestUri?.Authority}: {ex.Message}";
            await RecordAsync(call, request, started, watch.Elapsed, null, requestHeaders, requestBody, [], null, error);
            throw;
        }

        try
        {
            await response.Content.LoadIntoBufferAsync(MaxAnswerBytes, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            var error = ex is OperationCanceledException
                ? call?.TimedOut() == true ? $"Timed out after {call.Timeout.TotalSeconds:0.#} s while reading the answer." : "Cancelled by the caller."
                : $"The answer of {request.RequestUri?.Authority} could not be read (at most {MaxAnswerBytes / 1024 / 1024} MB are read): {ex.Message}";
            await RecordAsync(call, request, started, watch.Elapsed, (int)response.StatusCode, requestHeaders, requestBody,
                HeaderList(response.Headers, response.Content.Headers), null, error);
            response.Dispose();
            throw;
        }

        var responseBody = await response.Content.ReadAsStringAsync(cancellationToken);
        await RecordAsync(call, request, started, watch.Elapsed, (int)response.StatusCode, requestHeaders, requestBody,
            HeaderList(response.Headers, response.Content.Headers), responseBody, null);
        return response;
    }

    private async Task RecordAsync(
        WebServiceCall? call, HttpRequestMessage request, DateTimeOffset started, TimeSpan duration, int? status,
        IReadOnlyList<KeyValuePair<string, string>> requestHeaders, string? requestBody,
        IReadOnlyList<KeyValuePair<string, string>> responseHeaders, string? responseBody, string? error)
    {
        await recorder.RecordAsync(new CallRecord(CallDirection.Outgoing, started, duration, request.Method.Method, request.RequestUri?.ToString() ?? "",
            status, requestHeaders, requestBody, responseHeaders, responseBody, error, call?.WebService, call?.Invoker, call?.Caller), CancellationToken.None);
        if (call is not null)
        {
            call.Recorded = true;
        }
    }

    public static IReadOnlyList<KeyValuePair<string, string>> HeaderList(HttpHeaders headers, HttpHeaders? more = null) =>
        [.. headers.Concat(more ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>())
            .Select(h => new KeyValuePair<string, string>(h.Key, string.Join(", ", h.Value)))];
}
