using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;
using TokenAdmin.Secrets;
using TokenAdmin.Tokens;

namespace TokenAdmin.WebServices;

/// <summary>
/// Calls one invoker of one web service: fills the path, checks the body, and sends the request through the
/// authenticating and recording handlers, within the invoker's timeout.
/// </summary>
public sealed partial class WebServiceInvoker(
    TokenAdminDb db, IHttpClientFactory clients, ISecretProtector protector, ICallRecorder recorder, CallHealth health, TimeProvider time) : IWebServiceInvoker
{
    public const string ClientName = "TokenAdmin.WebServices";

    public async Task<InvokeResult> InvokeAsync(string webService, string invoker, InvokeRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var service = await db.WebServices.AsNoTracking().Include(w => w.Headers)
            .SingleOrDefaultAsync(w => w.NormalizedName == WebService.Normalize(webService ?? ""), cancellationToken);
        if (service is null || !service.Enabled)
        {
            throw new InvokeException(InvokeFailure.NotFound, service is null ? $"There is no web service named '{webService}'." : $"Web service '{service.Name}' is disabled.");
        }

        if (service.SendsCredentialsUnencrypted() && !service.AllowUnencrypted)
        {
            // Note: a web service saved before plain http needed consent; its credential is not sent until an admin decides.
            throw new InvokeException(InvokeFailure.BadInput, $"Web service '{service.Name}' would send its password or token over plain http to another machine; "
                + "an admin must change its base URL to https or tick \"Allow unencrypted\" on it. The call was not made.");
        }

        var operation = await db.Invokers.AsNoTracking()
            .SingleOrDefaultAsync(i => i.WebServiceId == service.Id && i.NormalizedName == WebService.Normalize(invoker ?? ""), cancellationToken);
        if (operation is null)
        {
            throw new InvokeException(InvokeFailure.NotFound, $"Web service '{service.Name}' has no invoker named '{invoker}'.");
        }

        var started = time.GetUtcNow();
        var watch = Stopwatch.StartNew();
        WebServiceCall? call = null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            var url = BuildUrl(service.BaseUrl, operation.Path, request.PathValues, request.Query);
            using var message = new HttpRequestMessage(new HttpMethod(operation.Method), url);
            if (!string.IsNullOrWhiteSpace(request.JsonBody))
            {
                CheckJson(request.JsonBody);
                if (operation.Method is "GET" or "HEAD")
                {
                    throw new InvokeException(InvokeFailure.BadInput, $"Invoker '{operation.Name}' sends {operation.Method} requests, which carry no body. Leave the body empty.");
                }

                message.Content = new StringContent(request.JsonBody, Encoding.UTF8, "application/json");
            }

            call = new WebServiceCall
            {
                WebService = service.Name,
                Invoker = operation.Name,
                Caller = request.Caller,
                TokenSource = service.TokenSource,
                TokenType = service.TokenType,
                BasicUserName = service.Authentication == WebServiceAuthentication.Basic ? service.BasicUserName ?? "" : null,
                BasicPassword = service.Authentication == WebServiceAuthentication.Basic && service.BasicPasswordProtected is { } p ? Unprotect(service.Name, p) : null,
                Headers = [.. service.Headers.Select(h => new KeyValuePair<string, string>(h.Name, h.Secret ? Unprotect(service.Name, h.Value) : h.Value))],
                Timeout = TimeSpan.FromSeconds(operation.TimeoutSeconds),
                TimedOut = () => timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested,
            };
            message.Options.Set(WebServiceCall.Key, call);
            timeout.CancelAfter(call.Timeout);

            using var response = await clients.CreateClient(ClientName).SendAsync(message, HttpCompletionOption.ResponseContentRead, timeout.Token);
            var body = await response.Content.ReadAsStringAsync(timeout.Token);
            var status = (int)response.StatusCode;
            await health.RecordAsync(service, CallHealth.IsFailure(status)
                ? $"Invoker '{operation.Name}' got HTTP {status.ToString(System.Globalization.CultureInfo.InvariantCulture)} {response.ReasonPhrase}." : null);
            return new InvokeResult((int)response.StatusCode, CallRecordingHandler.HeaderList(response.Headers, response.Content.Headers), body, watch.Elapsed);
        }
        catch (InvokeException ex)
        {
            await RecordFailureAsync(service, operation, request, call, started, watch.Elapsed, ex.Message);
            if (ex.Failure is InvokeFailure.TokenUnavailable or InvokeFailure.Unreachable or InvokeFailure.Timeout)
            {
                // Note: the caller's bad input is not the web service failing; no token, no answer and timeouts are.
                await health.RecordAsync(service, ex.Message);
            }

            throw;
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var message = $"Web service '{service.Name}' did not answer invoker '{operation.Name}' within {operation.TimeoutSeconds} s.";
            await RecordFailureAsync(service, operation, request, call, started, watch.Elapsed, message);
            await health.RecordAsync(service, message);
            throw new InvokeException(InvokeFailure.Timeout, message, ex);
        }
        catch (HttpRequestException ex)
        {
            var message = call?.Recorded == true && ex.Message.Contains("buffer", StringComparison.OrdinalIgnoreCase)
                ? $"The answer of web service '{service.Name}' is larger than {CallRecordingHandler.MaxAnswerBytes / 1024 / 1024} MB; TokenAdmin does not read it."
                : $"Web service '{service.Name}' could not be reached at {new Uri(service.BaseUrl).Authority}: {ex.Message}";
            await RecordFailureAsync(service, operation, request, call, started, watch.Elapsed, message);
            await health.RecordAsync(service, message);
            throw new InvokeException(InvokeFailure.Unreachable, message, ex);
        }
    }

    /// <summary>The placeholders of a path, e.g. ["ticketId"] for /tickets/{ticketId}.</summary>
    public static IReadOnlyList<string> Placeholders(string path) =>
        [.. PlaceholderRegex().Matches(path).Select(m => m.Groups[1].Value).Distinct(StringComparer.Ordinal)];

    /// <summary>Base URL + path with every placeholder filled and URL-escaped, plus the query.</summary>
    /// <exception cref="InvokeException">a placeholder has no value</exception>
    public static Uri BuildUrl(string baseUrl, string path, IReadOnlyDictionary<string, string>? values, IReadOnlyDictionary<string, string>? query)
    {
        var missing = Placeholders(path).Where(p => values is null || !values.TryGetValue(p, out var v) || string.IsNullOrEmpty(v)).ToList();
        if (missing.Count > 0)
        {
            throw new InvokeException(InvokeFailure.BadInput, $"The path {path} needs a value for {string.Join(", ", missing.Select(m => "{" + m + "}"))}.");
        }

        var dotSegments = Placeholders(path).Where(p => values![p].Trim() is "." or "..").ToList();
        if (dotSegments.Count > 0)
        {
            // Note: escaping leaves dots alone and System.Uri removes dot segments, so ".." would leave the invoker's path.
            throw new InvokeException(InvokeFailure.BadInput,
                $"{string.Join(", ", dotSegments.Select(m => "{" + m + "}"))} may not be \".\" or \"..\" (it would change the path instead of filling it).");
        }

        var filled = PlaceholderRegex().Replace(path, m => Uri.EscapeDataString(values![m.Groups[1].Value]));
        var url = new StringBuilder(baseUrl.TrimEnd('/'));
        if (filled.Length > 0)
        {
            url.Append('/').Append(filled.TrimStart('/'));
        }

        if (query is { Count: > 0 })
        {
            url.Append(filled.Contains('?', StringComparison.Ordinal) ? '&' : '?');
            url.AppendJoin('&', query.Select(q => Uri.EscapeDataString(q.Key) + "=" + Uri.EscapeDataString(q.Value)));
        }

        if (!Uri.TryCreate(url.ToString(), UriKind.Absolute, out var uri))
        {
            throw new InvokeException(InvokeFailure.BadInput, $"{url} is not a valid URL.");
        }

        // Note: whatever the path and values, the call stays below the web service's base URL (its credentials go nowhere else).
        if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var root) || !Below(uri, root))
        {
            throw new InvokeException(InvokeFailure.BadInput, "The filled path leaves the web service's base URL; the call was not made.");
        }

        return uri;
    }

    private static bool Below(Uri uri, Uri root)
    {
        if (!string.Equals(uri.Scheme, root.Scheme, StringComparison.OrdinalIgnoreCase) || !string.Equals(uri.Authority, root.Authority, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var basePath = root.AbsolutePath.TrimEnd('/');
        return basePath.Length == 0 || uri.AbsolutePath == basePath || uri.AbsolutePath.StartsWith(basePath + "/", StringComparison.Ordinal);
    }

    private static void CheckJson(string body)
    {
        try
        {
            using var _ = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            throw new InvokeException(InvokeFailure.BadInput, $"The body is not valid JSON: {ex.Message}");
        }
    }

    private string Unprotect(string webService, string value)
    {
        try
        {
            return protector.Unprotect(value);
        }
        catch (SecretUnreadableException ex)
        {
            throw new InvokeException(InvokeFailure.BadInput, $"Web service '{webService}': {ex.Message}", ex);
        }
    }

    private async Task RecordFailureAsync(WebService service, Invoker operation, InvokeRequest request, WebServiceCall? call, DateTimeOffset started, TimeSpan duration, string error)
    {
        if (call?.Recorded == true)
        {
            return;
        }

        string url;
        try
        {
            url = BuildUrl(service.BaseUrl, operation.Path, request.PathValues, request.Query).ToString();
        }
        catch (InvokeException)
        {
            url = service.BaseUrl.TrimEnd('/') + "/" + operation.Path.TrimStart('/');
        }

        await recorder.RecordAsync(new CallRecord(CallDirection.Outgoing, started, duration, operation.Method, url, null,
            [], request.JsonBody, [], null, error, service.Name, operation.Name, request.Caller), CancellationToken.None);
    }

    [GeneratedRegex(@"\{([A-Za-z0-9_.\-]+)\}")]
    private static partial Regex PlaceholderRegex();
}
