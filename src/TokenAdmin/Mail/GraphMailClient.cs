using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Mail;

/// <summary>The Microsoft Graph deployment a Graph mail account or the Graph transport talks to.</summary>
public enum GraphCloud { Global = 1, UsGovernmentL4 = 2, UsGovernmentL5 = 3, China = 4, Custom = 9 }

/// <summary>Service roots of the Microsoft Graph national cloud deployments (learn.microsoft.com/graph/deployments).</summary>
public static class GraphClouds
{
    public static readonly IReadOnlyList<(GraphCloud Cloud, string Name, string Root)> All =
    [
        (GraphCloud.Global, "Global service", "https://graph.microsoft.com"),
        (GraphCloud.UsGovernmentL4, "US Government L4 (GCC High)", "https://graph.microsoft.us"),
        (GraphCloud.UsGovernmentL5, "US Government L5 (DoD)", "https://dod-graph.microsoft.us"),
        (GraphCloud.China, "China (operated by 21Vianet)", "https://microsoftgraph.chinacloudapi.cn"),
        (GraphCloud.Custom, "Custom endpoint", ""),
    ];

    /// <summary>The service root (no trailing slash, no version) of a cloud, or the custom endpoint.</summary>
    public static string Root(GraphCloud cloud, string? customEndpoint) =>
        cloud == GraphCloud.Custom ? (customEndpoint ?? "").TrimEnd('/') : All.First(c => c.Cloud == cloud).Root;

    /// <summary>Why a custom endpoint cannot be used, or null. https only, except to this machine.</summary>
    public static string? CheckCustomEndpoint(string? value)
    {
        if (!Uri.TryCreate(value?.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || uri.Query.Length > 0 || uri.Fragment.Length > 0
            || uri.UserInfo.Length > 0)
        {
            return "Enter the service root of the Graph endpoint, e.g. https://graph.example.net (https, no query).";
        }

        // Note: the bearer token travels with every request; in the clear only to this machine.
        return uri.Scheme == "http" && !Settings.Loopback.IsLoopback(uri)
            ? "A custom endpoint must use https; plain http is allowed only to this machine (localhost, 127.0.0.1, ::1)."
            : null;
    }
}

/// <summary>Microsoft Graph refused or failed a request; the message is in words for the admin.</summary>
public sealed class GraphMailException(string message, int status = 0, string? code = null, Exception? inner = null) : Exception(message, inner)
{
    public int Status { get; } = status;
    public string? Code { get; } = code;
}

/// <summary>A message over the account's size limit (found while downloading it).</summary>
public sealed class GraphMessageTooLargeException(long limit) : Exception($"over {limit} bytes")
{
    public long Limit { get; } = limit;
}

public sealed record GraphFolder(string Id, string DisplayName, int TotalItemCount, int UnreadItemCount);

/// <summary>One message of a list or delta page. Size is null where Graph did not give it (delta pages).</summary>
public sealed record GraphMessageRef(string Id, DateTimeOffset? Received, bool IsRead, long? Size, bool Removed);

public sealed record GraphPage(IReadOnlyList<GraphMessageRef> Messages, string? NextLink, string? DeltaLink);

/// <summary>What a token tells about itself (a JWT's claims; nothing for an opaque token).</summary>
public sealed record GraphTokenInfo(bool Readable, string? Audience, IReadOnlyList<string> Roles, IReadOnlyList<string> Scopes, string? Subject, bool HasScp = false)
{
    /// <summary>An application (app-only) token: roles and no scp, as Entra ID issues them.</summary>
    public bool AppOnly => Readable && Roles.Count > 0 && !HasScp;

    public static GraphTokenInfo Read(string token)
    {
        try
        {
            var jwt = new JsonWebToken(token);
            var roles = jwt.Claims.Where(c => c.Type == "roles").Select(c => c.Value).ToList();
            // Note: Entra ID names delegated permissions in scp; other issuers in scope. A token with scp may carry a
            // scope claim as well (the requested OAuth scopes): scp is what Graph goes by.
            var scp = jwt.Claims.Where(c => c.Type == "scp").ToList();
            var scopes = (scp.Count > 0 ? scp : jwt.Claims.Where(c => c.Type == "scope")).SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
            var subject = jwt.Claims.FirstOrDefault(c => c.Type is "upn" or "preferred_username" or "unique_name")?.Value ?? jwt.Subject;
            return new GraphTokenInfo(true, string.Join(" ", jwt.Audiences), roles, scopes, subject, scp.Count > 0);
        }
        catch (ArgumentException)
        {
            return new GraphTokenInfo(false, null, [], [], null);
        }
    }

    public string Describe() => !Readable
        ? "The token is opaque (not a JWT), so its audience and permissions cannot be shown."
        : $"Token audience: {Audience ?? "(none)"}; " + (AppOnly
            ? $"application token, roles: {Join(Roles)}."
            : $"delegated token for {Subject ?? "an unnamed user"}, scopes: {Join(Scopes)}{(Roles.Count > 0 ? $", roles: {Join(Roles)}" : "")}.");

    private static string Join(IReadOnlyList<string> values) => values.Count == 0 ? "(none)" : string.Join(" ", values);
}

/// <summary>Where one conversation with Graph goes: the service root, the mailbox, and the token source.</summary>
public sealed record GraphTarget(string Root, string Mailbox, TokenSource Source)
{
    /// <summary>"https://graph.microsoft.com/v1.0/users/alice%40contoso.com" (or .../me for "me").</summary>
    public string UserUrl => Root + "/v1.0/" + (Mailbox.Equals("me", StringComparison.OrdinalIgnoreCase) ? "me" : "users/" + Uri.EscapeDataString(Mailbox));

    public static GraphTarget For(MailAccount account) =>
        new(GraphClouds.Root(account.GraphCloud ?? GraphCloud.Global, account.GraphEndpoint), account.Login,
            account.TokenSource ?? throw new GraphMailException("The Graph mail account has no token source. Choose one on its edit page."));
}

/// <summary>
/// The mail part of Microsoft Graph v1.0 as TokenAdmin uses it. Tokens come only from <see cref="ITokenProvider"/>; a
/// 401 gets one forced refresh and one retry. Each exchange has its own deadline covering the whole answer; 429 and 503
/// are retried after Retry-After (bounded); every other failure becomes a <see cref="GraphMailException"/> in words.
/// Every request asks for immutable ids, so a message keeps its id when it is moved.
/// </summary>
public sealed class GraphMailClient(IHttpClientFactory httpClients, ITokenProvider tokens, IOptions<MailOptions> options, TimeProvider time)
{
    public const string ClientName = "TokenAdmin.Graph";
    public const string SizeProperty = "Integer 0x0E08";

    /// <summary>How long one exchange (request and whole answer) may take.</summary>
    private TimeSpan ExchangeTimeout => options.Value.GraphExchangeTimeout;

    /// <summary>The longest Retry-After waited for; a longer one ends the run (the next run tries again).</summary>
    private TimeSpan MaxRetryWait => options.Value.GraphMaxRetryWait;

    private const int MaxThrottleRetries = 4;
    private const int JsonCap = 16 * 1024 * 1024;

    public async Task<GraphFolder> GetFolderAsync(GraphTarget target, string folderId, CancellationToken cancellationToken)
    {
        var json = await GetJsonAsync(target, $"{target.UserUrl}/mailFolders/{Uri.EscapeDataString(folderId)}?$select=id,displayName,totalItemCount,unreadItemCount", cancellationToken);
        return Folder(json);
    }

    /// <summary>
    /// Finds a folder by well-known name ("inbox", "archive", ...) or by a path of display names from the top of the
    /// mailbox ("Inbox/Tickets"), whose first part may also be a well-known name.
    /// </summary>
    /// <exception cref="GraphMailException">the folder (or a part of its path) does not exist: the message names it</exception>
    public async Task<GraphFolder> ResolveFolderAsync(GraphTarget target, string path, CancellationToken cancellationToken)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            parts = ["inbox"];
        }

        GraphFolder? folder = null;
        if (WellKnownFolders.Contains(parts[0].ToLowerInvariant()))
        {
            folder = await GetFolderAsync(target, parts[0].ToLowerInvariant(), cancellationToken);
        }

        for (var i = folder is null ? 0 : 1; i < parts.Length; i++)
        {
            var list = folder is null ? $"{target.UserUrl}/mailFolders" : $"{target.UserUrl}/mailFolders/{Uri.EscapeDataString(folder.Id)}/childFolders";
            var filter = "displayName eq '" + parts[i].Replace("'", "''", StringComparison.Ordinal) + "'";
            var json = await GetJsonAsync(target, $"{list}?$filter={Uri.EscapeDataString(filter)}&$select=id,displayName,totalItemCount,unreadItemCount", cancellationToken);
            var match = (json["value"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault();
            if (match is null)
            {
                var where = i == 0 ? "at the top of the mailbox" : $"in '{string.Join('/', parts[..i])}'";
                throw new GraphMailException($"The folder '{path}' does not exist in mailbox {target.Mailbox}: there is no folder '{parts[i]}' {where}.", 404, "ErrorItemNotFound");
            }

            folder = Folder(match);
        }

        return folder!;
    }

    /// <summary>One page of a folder's messages, oldest first, with their sizes.</summary>
    public async Task<GraphPage> ListAsync(GraphTarget target, string folderId, int pageSize, string? nextLink, CancellationToken cancellationToken)
    {
        var url = nextLink ?? $"{target.UserUrl}/mailFolders/{Uri.EscapeDataString(folderId)}/messages" +
            $"?$select=id,receivedDateTime,isRead&$orderby={Uri.EscapeDataString("receivedDateTime asc")}&$top={pageSize.ToString(CultureInfo.InvariantCulture)}" +
            $"&$expand={Uri.EscapeDataString($"singleValueExtendedProperties($filter=id eq '{SizeProperty}')")}";
        CheckLink(target, url);
        return Page(await GetJsonAsync(target, url, cancellationToken));
    }

    /// <summary>One page of a delta round: the first of a new round (no link), or the page behind a next or delta link.</summary>
    /// <exception cref="GraphMailException">status 410: the sync state is gone; start a new round</exception>
    public async Task<GraphPage> DeltaAsync(GraphTarget target, string folderId, int pageSize, string? link, CancellationToken cancellationToken)
    {
        var url = link ?? $"{target.UserUrl}/mailFolders/{Uri.EscapeDataString(folderId)}/messages/delta?$select=id,receivedDateTime,isRead";
        CheckLink(target, url);
        return Page(await GetJsonAsync(target, url, cancellationToken, "odata.maxpagesize=" + pageSize.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>The message as MIME (RFC 5322), at most <paramref name="maxBytes"/> bytes.</summary>
    /// <exception cref="GraphMessageTooLargeException">the message is larger</exception>
    public async Task<byte[]> DownloadAsync(GraphTarget target, string messageId, long maxBytes, CancellationToken cancellationToken)
    {
        var (_, body) = await SendAsync(target, () => new HttpRequestMessage(HttpMethod.Get, $"{target.UserUrl}/messages/{Uri.EscapeDataString(messageId)}/$value"),
            maxBytes, cancellationToken);
        return body;
    }

    public Task MarkReadAsync(GraphTarget target, string messageId, CancellationToken cancellationToken) =>
        SendAsync(target, () => new HttpRequestMessage(HttpMethod.Patch, $"{target.UserUrl}/messages/{Uri.EscapeDataString(messageId)}")
        {
            Content = new StringContent("{\"isRead\":true}", Encoding.UTF8, "application/json"),
        }, JsonCap, cancellationToken);

    public Task MoveAsync(GraphTarget target, string messageId, string destinationFolderId, CancellationToken cancellationToken) =>
        SendAsync(target, () => new HttpRequestMessage(HttpMethod.Post, $"{target.UserUrl}/messages/{Uri.EscapeDataString(messageId)}/move")
        {
            Content = new StringContent(new JsonObject { ["destinationId"] = destinationFolderId }.ToJsonString(), Encoding.UTF8, "application/json"),
        }, JsonCap, cancellationToken);

    public Task DeleteAsync(GraphTarget target, string messageId, CancellationToken cancellationToken) =>
        SendAsync(target, () => new HttpRequestMessage(HttpMethod.Delete, $"{target.UserUrl}/messages/{Uri.EscapeDataString(messageId)}"), JsonCap, cancellationToken);

    /// <summary>Sends a MIME message from the mailbox (POST sendMail, base64 MIME as text/plain); Graph saves it to Sent Items.</summary>
    public Task SendMimeAsync(GraphTarget target, byte[] mime, CancellationToken cancellationToken)
    {
        var base64 = Convert.ToBase64String(mime);
        return SendAsync(target, () => new HttpRequestMessage(HttpMethod.Post, $"{target.UserUrl}/sendMail")
        {
            Content = new StringContent(base64, Encoding.ASCII, "text/plain"),
        }, JsonCap, cancellationToken);
    }

    /// <summary>
    /// Test connection: resolves the mailbox and folder (and the folder mail is moved to), counts the folder's messages,
    /// and says what the token carries. Changes nothing.
    /// </summary>
    /// <exception cref="GraphMailException">the mailbox, a folder or the token did not work, in words</exception>
    public async Task<string> TestAsync(MailAccount account, CancellationToken cancellationToken)
    {
        var target = GraphTarget.For(account);
        var info = await TokenInfoAsync(target, cancellationToken);
        var folder = await ResolveFolderAsync(target, account.ImapFolder, cancellationToken);
        var move = "";
        if (!account.KeepOnServer && account.MoveToFolder is { } moveTo)
        {
            var destination = await ResolveFolderAsync(target, moveTo, cancellationToken);
            move = $" Fetched mail is moved to '{destination.DisplayName}'.";
        }

        return $"Reached mailbox {account.Login} at {Host(target)}: folder '{account.ImapFolder}' ({folder.DisplayName}) holds " +
            $"{folder.TotalItemCount.ToString(CultureInfo.InvariantCulture)} message(s), {folder.UnreadItemCount.ToString(CultureInfo.InvariantCulture)} unread.{move} {info.Describe()}";
    }

    /// <summary>What the token the source currently gives says about itself (for Test connection).</summary>
    public async Task<GraphTokenInfo> TokenInfoAsync(GraphTarget target, CancellationToken cancellationToken) =>
        GraphTokenInfo.Read((await TokenAsync(target, force: false, cancellationToken)).Value);

    private static readonly HashSet<string> WellKnownFolders = new(StringComparer.Ordinal)
    {
        "inbox", "archive", "deleteditems", "drafts", "sentitems", "junkemail", "outbox", "msgfolderroot", "clutter", "conflicts",
        "conversationhistory", "localfailures", "recoverableitemsdeletions", "scheduled", "searchfolders", "serverfailures", "syncissues",
    };

    private static GraphFolder Folder(JsonObject json) => new(
        json["id"]?.GetValue<string>() ?? throw new GraphMailException("Microsoft Graph answered a folder without id."),
        json["displayName"]?.GetValue<string>() ?? "",
        json["totalItemCount"]?.GetValue<int>() ?? 0,
        json["unreadItemCount"]?.GetValue<int>() ?? 0);

    private static GraphPage Page(JsonObject json)
    {
        var messages = new List<GraphMessageRef>();
        foreach (var item in (json["value"] as JsonArray)?.OfType<JsonObject>() ?? [])
        {
            var id = item["id"]?.GetValue<string>();
            if (string.IsNullOrEmpty(id))
            {
                continue;
            }

            long? size = null;
            foreach (var property in (item["singleValueExtendedProperties"] as JsonArray)?.OfType<JsonObject>() ?? [])
            {
                if (string.Equals(property["id"]?.GetValue<string>(), SizeProperty, StringComparison.OrdinalIgnoreCase)
                    && long.TryParse(property["value"]?.GetValue<string>(), NumberStyles.None, CultureInfo.InvariantCulture, out var bytes))
                {
                    size = bytes;
                }
            }

            DateTimeOffset? received = DateTimeOffset.TryParse(item["receivedDateTime"]?.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var r) ? r : null;
            var isRead = item["isRead"] is JsonValue value && value.TryGetValue<bool>(out var read) && read;
            messages.Add(new GraphMessageRef(id, received, isRead, size, item.ContainsKey("@removed")));
        }

        return new GraphPage(messages, json["@odata.nextLink"]?.GetValue<string>(), json["@odata.deltaLink"]?.GetValue<string>());
    }

    /// <summary>A next or delta link must point back to the same service: the token goes with it.</summary>
    private static void CheckLink(GraphTarget target, string url)
    {
        if (!url.StartsWith(target.Root + "/", StringComparison.OrdinalIgnoreCase))
        {
            throw new GraphMailException($"Microsoft Graph answered a paging link outside {target.Root}; TokenAdmin does not send the token there.");
        }
    }

    private async Task<JsonObject> GetJsonAsync(GraphTarget target, string url, CancellationToken cancellationToken, string? prefer = null)
    {
        var (_, body) = await SendAsync(target, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (prefer is not null)
            {
                request.Headers.TryAddWithoutValidation("Prefer", prefer);
            }

            return request;
        }, JsonCap, cancellationToken);
        try
        {
            return JsonNode.Parse(body) as JsonObject ?? throw new GraphMailException("Microsoft Graph answered something other than a JSON object.");
        }
        catch (JsonException ex)
        {
            throw new GraphMailException($"Microsoft Graph answered invalid JSON: {ex.Message}", inner: ex);
        }
    }

    private async Task<BearerToken> TokenAsync(GraphTarget target, bool force, CancellationToken cancellationToken)
    {
        try
        {
            return force ? await tokens.ForceRefreshAsync(target.Source, cancellationToken) : await tokens.GetTokenAsync(target.Source, cancellationToken);
        }
        catch (TokenUnavailableException ex)
        {
            throw new GraphMailException($"No token from {ex.SourceName}: {ex.Message}", inner: ex);
        }
    }

    /// <summary>
    /// One exchange with retries: a 401 gets one forced token refresh and one more try; 429 and 503 are tried again
    /// after Retry-After (at most <see cref="MaxRetryWait"/> each, a few times). Each attempt has its own deadline.
    /// </summary>
    private async Task<(HttpStatusCode Status, byte[] Body)> SendAsync(GraphTarget target, Func<HttpRequestMessage> build, long maxBytes, CancellationToken cancellationToken)
    {
        var client = httpClients.CreateClient(ClientName);
        var token = await TokenAsync(target, force: false, cancellationToken);
        var refreshed = false;
        var throttled = 0;
        while (true)
        {
            using var request = build();
            request.Headers.Authorization = token.ToAuthenticationHeader();
            // Note: immutable ids survive a move between folders, so the index key of a message never changes.
            request.Headers.TryAddWithoutValidation("Prefer", "IdType=\"ImmutableId\"");
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(ExchangeTimeout);
            HttpStatusCode status;
            byte[] body;
            RetryConditionHeaderValue? retryAfter;
            string? challenge;
            try
            {
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
                status = response.StatusCode;
                // Note: read only from a refusal; parsing them from every answer cost each download for nothing.
                var refused = !response.IsSuccessStatusCode;
                retryAfter = refused ? response.Headers.RetryAfter : null;
                challenge = refused ? response.Headers.WwwAuthenticate.FirstOrDefault()?.ToString() : null;
                body = await ReadCappedAsync(response.Content, response.IsSuccessStatusCode ? maxBytes : 64 * 1024, deadline.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new GraphMailException($"{Host(target)} did not answer {request.Method} {Describe(request)} within {ExchangeTimeout.TotalSeconds:0.#} seconds.");
            }
            catch (HttpRequestException ex)
            {
                throw new GraphMailException($"Cannot reach {Host(target)}: {ex.Message}", inner: ex);
            }
            catch (IOException ex)
            {
                throw new GraphMailException($"{Host(target)} broke off its answer to {request.Method} {Describe(request)}: {ex.Message}", inner: ex);
            }

            if ((int)status is >= 200 and < 300)
            {
                return (status, body);
            }

            var (code, message) = ParseError(body);
            if (status == HttpStatusCode.Unauthorized && !refreshed)
            {
                // Note: the token was refused before its expiry (revoked, or keys rolled): one forced refresh, one retry.
                refreshed = true;
                token = await TokenAsync(target, force: true, cancellationToken);
                continue;
            }

            if ((status is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable) && throttled < MaxThrottleRetries)
            {
                var wait = Wait(retryAfter, throttled, time.GetUtcNow());
                if (wait > MaxRetryWait)
                {
                    throw new GraphMailException(
                        $"{Host(target)} is throttling this mailbox ({(int)status} {code}) and asked to wait {wait.TotalSeconds:0} seconds; the next run goes on from here.",
                        (int)status, code);
                }

                throttled++;
                await Task.Delay(wait, time, cancellationToken);
                continue;
            }

            throw Explain(target, request, status, code, message, challenge, token);
        }
    }

    /// <summary>How long Retry-After asks to wait: seconds, or until an HTTP date (RFC 9110 section 10.2.3).</summary>
    private static TimeSpan Wait(RetryConditionHeaderValue? retryAfter, int attempt, DateTimeOffset now)
    {
        if (retryAfter?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (retryAfter?.Date is { } date)
        {
            var wait = date - now;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        // No Retry-After: 1, 2, 4, 8 seconds.
        return TimeSpan.FromSeconds(1 << attempt);
    }

    private static async Task<byte[]> ReadCappedAsync(HttpContent content, long maxBytes, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength is { } length && length > maxBytes)
        {
            throw new GraphMessageTooLargeException(maxBytes);
        }

        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        if (content.Headers.ContentLength is { } exact)
        {
            // Note: the length is known (Graph sends it for $value and JSON): read straight into the answer's array;
            // the HTTP client ends the body at Content-Length, so a longer one cannot overrun it.
            var body = new byte[exact];
            await stream.ReadExactlyAsync(body, cancellationToken);
            return body;
        }

        using var buffer = new MemoryStream();
        var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    throw new GraphMessageTooLargeException(maxBytes);
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }

    private static (string Code, string Message) ParseError(byte[] body)
    {
        try
        {
            if (JsonNode.Parse(body) is JsonObject { } json && json["error"] is JsonObject error)
            {
                return (error["code"]?.GetValue<string>() ?? "", error["message"]?.GetValue<string>() ?? "");
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
        }

        return ("", "");
    }

    private static GraphMailException Explain(GraphTarget target, HttpRequestMessage request, HttpStatusCode status, string code, string message, string? challenge, BearerToken token)
    {
        var said = $"{(int)status}{(code.Length > 0 ? " " + code : "")}{(message.Length > 0 ? ": " + message : "")}";
        var info = GraphTokenInfo.Read(token.Value);
        var text = status switch
        {
            HttpStatusCode.Unauthorized =>
                $"{Host(target)} refused the token even after a forced refresh ({said}{(challenge is null ? "" : "; " + challenge)}). " +
                $"The token must be issued for {target.Root} (its audience) by the tenant of the mailbox. {info.Describe()}",
            HttpStatusCode.Forbidden => Forbidden(target, request, said, info),
            HttpStatusCode.NotFound when code == "MailboxNotEnabledForRESTAPI" =>
                $"The mailbox {target.Mailbox} cannot be reached through Microsoft Graph: it is inactive, soft-deleted, hosted on-premises, or has no Exchange Online license ({said}).",
            HttpStatusCode.NotFound when code is "ErrorInvalidUser" or "ResourceNotFound" or "Request_ResourceNotFound" || message.Contains("user", StringComparison.OrdinalIgnoreCase) =>
                $"The mailbox {target.Mailbox} does not exist in the tenant (or the token is for another tenant) ({said}). Enter the user's id, user principal name or primary address.",
            HttpStatusCode.NotFound => $"{Host(target)} did not find what {request.Method} {Describe(request)} asked for ({said}).",
            _ => $"{Host(target)} answered {request.Method} {Describe(request)} with {said}.",
        };
        return new GraphMailException(text, (int)status, code);
    }

    private static string Forbidden(GraphTarget target, HttpRequestMessage request, string said, GraphTokenInfo info)
    {
        var sending = request.RequestUri?.AbsolutePath.EndsWith("/sendMail", StringComparison.Ordinal) == true;
        var permission = sending ? "Mail.Send" : "Mail.ReadWrite";
        var start = $"Microsoft Graph denied access to mailbox {target.Mailbox} ({said}). {info.Describe()} ";
        if (!info.Readable)
        {
            return start + $"An application token needs the application permission {permission} with admin consent (and, if RBAC for Applications " +
                $"scopes the app, the mailbox inside its management scope); a delegated token needs the delegated permission {permission} " +
                $"({permission}.Shared and full access for another user's or a shared mailbox).";
        }

        if (info.AppOnly)
        {
            var has = info.Roles.Contains(permission) || (!sending && info.Roles.Contains("Mail.ReadWrite"));
            return start + (has
                ? $"The token carries the application permission {permission}, so the tenant limits where the app may go: with RBAC for Applications " +
                  "(an Exchange Online management scope) or an application access policy, this mailbox is outside the app's scope. " +
                  "An Exchange admin can check it with Test-ServicePrincipalAuthorization and add the mailbox to the scope."
                : $"The app lacks the application permission {permission}: add it under API permissions (Microsoft Graph, application) and grant admin consent, " +
                  "or assign the Exchange Online role \"Application " + permission + "\" with RBAC for Applications.");
        }

        var shared = info.Subject is { } user && !target.Mailbox.Equals(user, StringComparison.OrdinalIgnoreCase) && !target.Mailbox.Equals("me", StringComparison.OrdinalIgnoreCase);
        return start + (shared
            ? $"For another user's or a shared mailbox a delegated token needs {permission}.Shared, and the signed-in user needs full access to the mailbox."
            : $"The delegated token needs the permission {permission} (consented for the user or by an admin).");
    }

    private static string Host(GraphTarget target) => Uri.TryCreate(target.Root, UriKind.Absolute, out var uri) ? uri.Authority : target.Root;

    private static string Describe(HttpRequestMessage request) => request.RequestUri?.AbsolutePath ?? "";
}
