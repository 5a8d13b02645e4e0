using System.Buffers;
using System.Text;
using Microsoft.IdentityModel.Protocols;

namespace TokenAdmin.Providers;

/// <summary>A provider document (discovery, JWKS) could not be fetched: the message says why, naming the URL.</summary>
/// <remarks>An <see cref="IOException"/>, as Microsoft.IdentityModel's own retriever throws, so its callers need nothing new.</remarks>
public sealed class ProviderDocumentException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>The whole exchange with a provider did not end within <see cref="ProviderHttpOptions.Deadline"/>.</summary>
public sealed class ProviderDeadlineException(string message, Exception inner) : TimeoutException(message, inner);

/// <summary>
/// One exchange with a provider under one deadline: sending, every retry, and reading the answer to its last byte,
/// capped at <see cref="ProviderHttp.MaxResponseBytes"/>. Token requests, discovery documents and JWKS all go through here.
/// </summary>
/// <remarks>
/// Note: the retry pipeline's timeout per attempt ends when the headers arrive (the body is read after the handler
/// returns), and the caller's token may never fire (the updater, a shared refresh). Without this deadline a provider
/// that sent its headers and then one byte every few seconds held its caller for ever.
/// </remarks>
public static class ProviderExchange
{
    /// <summary>The answer's status and headers, and its body; the body is null when it was larger than the cap, "" for a redirect.</summary>
    public sealed record Answer(HttpResponseMessage Response, string? Body) : IDisposable
    {
        public void Dispose() => Response.Dispose();
    }

    /// <exception cref="ProviderDeadlineException">the deadline passed; the message names the host and the seconds</exception>
    public static async Task<Answer> SendAsync(HttpClient client, HttpRequestMessage request, TimeSpan deadline, CancellationToken cancellationToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(deadline);
        HttpResponseMessage? response = null;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timer.Token);
            // A redirect is reported, never followed: its body is of no use.
            var body = ProviderHttp.IsRedirect(response.StatusCode) ? "" : await ReadLimitedAsync(response.Content, timer.Token);
            return new Answer(response, body);
        }
        catch (OperationCanceledException ex) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            response?.Dispose();
            throw new ProviderDeadlineException(DeadlineMessage(request.RequestUri!, deadline), ex);
        }
        catch
        {
            response?.Dispose();
            throw;
        }
    }

    public static string DeadlineMessage(Uri uri, TimeSpan deadline) => $"{uri.Host} did not answer within {deadline.TotalSeconds:0.#} seconds.";

    /// <summary>
    /// A JSON document (discovery, JWKS) as text: a success status, no redirect, at most 1 MiB, within the deadline.
    /// </summary>
    /// <param name="what">"discovery document", "JWKS": how the failure names the document</param>
    /// <exception cref="ProviderDocumentException">anything that went wrong, in words for an admin</exception>
    public static async Task<string> GetDocumentAsync(HttpClient client, Uri uri, string what, TimeSpan deadline, TimeSpan attemptTimeout, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        try
        {
            using var answer = await SendAsync(client, request, deadline, cancellationToken);
            var response = answer.Response;
            if (ProviderHttp.IsRedirect(response.StatusCode))
            {
                throw new ProviderDocumentException(
                    $"The {what} at {uri} answered {ProviderHttp.DescribeRedirect(response, uri)}; TokenAdmin follows no redirects from a provider. Enter the final URL if it is right.");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new ProviderDocumentException($"The {what} at {uri} answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}.");
            }

            return answer.Body ?? throw new ProviderDocumentException($"The {what} at {uri} is larger than 1 MiB; TokenAdmin reads no more from a provider.");
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or TaskCanceledException or Polly.Timeout.TimeoutRejectedException
            && !cancellationToken.IsCancellationRequested)
        {
            throw new ProviderDocumentException(ex is ProviderDeadlineException ? ex.Message : ProviderHttp.Describe(ex, uri, attemptTimeout), ex);
        }
    }

    /// <summary>
    /// The body as text, or null when it is longer than <see cref="ProviderHttp.MaxResponseBytes"/>. The buffer starts
    /// small and grows only for a large answer: a token response is a few kilobytes, and a 1 MiB array per response
    /// (the large object heap) made the updater spend most of its time in full garbage collections.
    /// </summary>
    private static async Task<string?> ReadLimitedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        const int max = ProviderHttp.MaxResponseBytes;
        if (content.Headers.ContentLength > max)
        {
            return null;
        }

        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = ArrayPool<byte>.Shared.Rent(8 * 1024);
        try
        {
            var read = 0;
            while (true)
            {
                if (read == buffer.Length)
                {
                    if (read > max)
                    {
                        return null;
                    }

                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, max + 1));
                    buffer.AsSpan(0, read).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }

            return read > max ? null : Encoding.UTF8.GetString(buffer, 0, read);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>
/// Microsoft.IdentityModel's document retriever for an OIDC profile's discovery document and JWKS, through
/// <see cref="ProviderExchange.GetDocumentAsync"/>: one deadline per document, no redirects, 1 MiB at most.
/// </summary>
/// <remarks>Note: the library's HttpDocumentRetriever reads any size and waits as long as its HttpClient lets it.</remarks>
/// <param name="discoveryAddress">the profile's discovery URL: any other address asked for is its JWKS</param>
public sealed class ProviderDocumentRetriever(HttpClient client, ProviderHttpOptions options, string discoveryAddress, bool requireHttps) : IDocumentRetriever
{
    public async Task<string> GetDocumentAsync(string address, CancellationToken cancel)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
        {
            throw new ProviderDocumentException($"'{address}' is not an absolute http(s) URL.");
        }

        if (requireHttps && uri.Scheme != Uri.UriSchemeHttps)
        {
            throw new ProviderDocumentException($"{address} uses plain http; only a provider on this machine may. Use https.");
        }

        var what = address == discoveryAddress ? "discovery document" : "JWKS";
        return await ProviderExchange.GetDocumentAsync(client, uri, what, options.Deadline, options.Timeout, cancel);
    }
}
