using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace TokenAdmin.Tests.Infrastructure;

/// <summary>
/// A loopback stand-in for the mail part of Microsoft Graph v1.0, built from Microsoft's published request and response
/// shapes (learn.microsoft.com/graph/api: message list/get/$value/update/move/delete, message delta, mailFolder
/// get/list/childFolders, user sendMail, errors, throttling), not from what TokenAdmin happens to send:
/// <list type="bullet">
/// <item>every request needs a bearer JWT signed by the configured issuer with <c>aud</c> = the Graph resource; app-only
/// tokens carry <c>roles</c>, delegated ones <c>scp</c> (the test IdP's <c>scope</c> claim counts as scp); a missing or
/// bad token gets 401 with Graph's <c>WWW-Authenticate</c> challenge and error body;</item>
/// <item>Mail.Read/Mail.ReadWrite/Mail.Send are checked per operation (403 ErrorAccessDenied), app-only access can be
/// scoped to some mailboxes (RBAC for Applications), delegated access reaches only the user's own mailbox and mailboxes
/// that name the user as a delegate (with the .Shared permissions);</item>
/// <item>message lists page with <c>$top</c>/<c>$skip</c> in <c>@odata.nextLink</c> (a message deleted meanwhile shifts
/// the pages, as on the real service), honour <c>$select</c>, <c>$orderby=receivedDateTime</c> and the size property
/// <c>$expand=singleValueExtendedProperties($filter=id eq 'Integer 0x0E08')</c>;</item>
/// <item>ids are REST ids that change when a message moves, unless the request sends <c>Prefer: IdType="ImmutableId"</c>;
/// both are accepted in paths;</item>
/// <item>delta rounds (<c>Prefer: odata.maxpagesize</c>, <c>$skiptoken</c> in nextLink, <c>$deltatoken</c> in
/// deltaLink, <c>@removed</c> entries, 410 for an unknown token); DELETE moves a message to Deleted Items;</item>
/// <item>faults on demand: 429/503 with Retry-After, stalls, revoked tokens.</item>
/// </list>
/// </summary>
public sealed class GraphMailServer : IAsyncDisposable
{
    public const string GraphResource = "https://graph.microsoft.com";
    public const string SizeProperty = "Integer 0x0E08";
    private static readonly string[] WellKnown = ["msgfolderroot", "inbox", "archive", "deleteditems", "drafts", "sentitems", "junkemail", "outbox"];
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    private readonly WebApplication _app;
    private readonly object _gate = new();
    private readonly List<Mailbox> _mailboxes = [];
    private readonly ConcurrentQueue<Fault> _faults = new();
    private readonly List<(string PathContains, Func<Task> Action)> _before = [];
    private readonly ConcurrentDictionary<string, bool> _revoked = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _seenTokens = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly HttpClient _http = new();
    private IReadOnlyList<SecurityKey> _keys = [];
    private long _sequence;
    private long _received = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();

    private GraphMailServer(WebApplication app, string issuer, string jwksUri, string audience)
    {
        _app = app;
        Issuer = issuer;
        JwksUri = jwksUri;
        Audience = audience;
    }

    public string Issuer { get; }
    public string JwksUri { get; }
    public string Audience { get; }

    /// <summary>The service root an admin enters as custom endpoint, e.g. http://127.0.0.1:12345 (requests go to /v1.0/...).</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>"METHOD path?query" of every request, in order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>The Prefer header of every request that sent one.</summary>
    public ConcurrentQueue<string> PreferHeaders { get; } = new();

    /// <summary>MIME messages accepted by sendMail, decoded.</summary>
    public ConcurrentQueue<(string Mailbox, byte[] Mime)> Sent { get; } = new();

    /// <summary>Starts the server; tokens are checked against the issuer's keys (read from <paramref name="jwksUri"/>).</summary>
    public static async Task<GraphMailServer> StartAsync(string issuer, string jwksUri, string audience = GraphResource)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new GraphMailServer(app, issuer.TrimEnd('/'), jwksUri, audience);
        await server.LoadKeysAsync();
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return server;
    }

    // ---- arranging the mailboxes -------------------------------------------------------------------------------

    /// <summary>Adds a mailbox with the well-known folders. <paramref name="delegates"/>: users with full access to it.</summary>
    public GraphMailbox AddMailbox(string address, params string[] delegates)
    {
        lock (_gate)
        {
            var mailbox = new Mailbox(Guid.NewGuid().ToString(), address, [.. delegates]);
            var root = new Folder(NewFolderId(), "Top of Information Store", null) { WellKnownName = "msgfolderroot" };
            mailbox.Folders.Add(root);
            foreach (var (name, display) in new[] { ("inbox", "Inbox"), ("archive", "Archive"), ("deleteditems", "Deleted Items"), ("drafts", "Drafts"), ("sentitems", "Sent Items"), ("junkemail", "Junk Email"), ("outbox", "Outbox") })
            {
                mailbox.Folders.Add(new Folder(NewFolderId(), display, root.Id) { WellKnownName = name });
            }

            _mailboxes.Add(mailbox);
            return new GraphMailbox(this, mailbox);
        }
    }

    /// <summary>App-only callers reach only these mailboxes (an RBAC for Applications management scope); null: all.</summary>
    public ISet<string>? ApplicationScope { get; set; }

    /// <summary>The next <paramref name="count"/> requests whose path contains <paramref name="pathContains"/> answer <paramref name="status"/>.</summary>
    public void FailNext(int count, int status, string? retryAfter = null, string pathContains = "", string? method = null)
    {
        for (var i = 0; i < count; i++)
        {
            _faults.Enqueue(new Fault(status, retryAfter, pathContains, method, Stall: false));
        }
    }

    /// <summary>The next request whose path contains <paramref name="pathContains"/> gets no answer until the client gives up.</summary>
    public void StallNext(string pathContains = "") => _faults.Enqueue(new Fault(0, null, pathContains, null, Stall: true));

    /// <summary>
    /// The next request whose path contains <paramref name="pathContains"/> gets a 200 that announces 4,096 bytes, sends
    /// a few, and closes the connection (a proxy or server that dies mid-answer).
    /// </summary>
    public void CutShortNext(string pathContains = "") => _faults.Enqueue(new Fault(200, null, pathContains, null, Stall: false, CutShort: true));

    /// <summary>
    /// Runs <paramref name="action"/> once, before the next request whose path contains <paramref name="pathContains"/> is
    /// answered: something that happens elsewhere meanwhile (another process indexing a message).
    /// </summary>
    public void BeforeNext(string pathContains, Func<Task> action)
    {
        lock (_before)
        {
            _before.Add((pathContains, action));
        }
    }

    /// <summary>This token is refused from now on (as after a revocation at Entra ID).</summary>
    public void RevokeToken(string token) => _revoked[token] = true;

    /// <summary>Every token presented so far is refused from now on (as after a revocation at Entra ID).</summary>
    public void RevokeTokensSeenSoFar()
    {
        foreach (var token in _seenTokens.Keys)
        {
            _revoked[token] = true;
        }
    }

    private async Task LoadKeysAsync()
    {
        var json = await _http.GetStringAsync(new Uri(JwksUri));
        _keys = [.. new JsonWebKeySet(json).GetSigningKeys()];
    }

    // ---- the HTTP surface ---------------------------------------------------------------------------------------

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        Requests.Enqueue($"{request.Method} {request.Path}{request.QueryString}");
        if (request.Headers.TryGetValue("Prefer", out var prefer))
        {
            PreferHeaders.Enqueue(prefer.ToString());
        }

        context.Response.Headers["request-id"] = Guid.NewGuid().ToString();
        Func<Task>? before = null;
        lock (_before)
        {
            var index = _before.FindIndex(b => request.Path.Value!.Contains(b.PathContains, StringComparison.Ordinal));
            if (index >= 0)
            {
                before = _before[index].Action;
                _before.RemoveAt(index);
            }
        }

        if (before is not null)
        {
            await before();
        }

        using var both = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        if (TakeFault(request) is { } fault)
        {
            if (fault.Stall)
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, both.Token);
                }
                catch (OperationCanceledException)
                {
                    context.Abort();
                }

                return;
            }

            if (fault.CutShort)
            {
                context.Response.StatusCode = 200;
                context.Response.ContentType = "message/rfc822";
                context.Response.ContentLength = 4096;
                await context.Response.Body.WriteAsync("From: cut@example.test\r\n"u8.ToArray(), both.Token);
                await context.Response.Body.FlushAsync(both.Token);
                // The client reads the headers first: a reset that arrives before it did would drop them unread.
                await Task.Delay(TimeSpan.FromMilliseconds(300), both.Token);
                context.Abort();
                return;
            }

            if (fault.RetryAfter is not null)
            {
                context.Response.Headers.RetryAfter = fault.RetryAfter;
            }

            if (fault.Status == 401)
            {
                context.Response.Headers.WWWAuthenticate =
                    "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"";
            }

            var (code, message) = fault.Status switch
            {
                401 => ("InvalidAuthenticationToken", "Access token has expired or is not yet valid."),
                500 => ("ErrorInternalServerError", "An internal server error occurred. The operation failed."),
                429 => ("TooManyRequests", "Application is over its MailboxConcurrency limit."),
                503 => ("ServiceNotAvailable", "Service is temporarily unavailable. Please try again later."),
                _ => ("UnknownError", ""),
            };
            await ErrorAsync(context, fault.Status, code, message);
            return;
        }

        var caller = await AuthenticateAsync(context);
        if (caller is null)
        {
            return;
        }

        var path = request.Path.Value ?? "";
        if (!path.StartsWith("/v1.0/", StringComparison.Ordinal))
        {
            await ErrorAsync(context, 400, "BadRequest", "Invalid version.");
            return;
        }

        // Note: segments are percent-decoded one by one, so an address or id with '/' encoded stays one segment.
        var segments = path["/v1.0/".Length..].Split('/').Select(Uri.UnescapeDataString).ToArray();
        try
        {
            await RouteAsync(context, caller, segments);
        }
        catch (GraphError error)
        {
            await ErrorAsync(context, error.Status, error.Code, error.Message);
        }
    }

    private Fault? TakeFault(HttpRequest request)
    {
        lock (_faults)
        {
            if (_faults.TryPeek(out var next) && (request.Path.Value ?? "").Contains(next.PathContains, StringComparison.Ordinal)
                && (next.Method is null || next.Method == request.Method))
            {
                _faults.TryDequeue(out _);
                return next;
            }
        }

        return null;
    }

    private async Task<Caller?> AuthenticateAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        string? failure;
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal) || header.Length == "Bearer ".Length)
        {
            failure = "Access token is empty.";
        }
        else
        {
            var token = header["Bearer ".Length..];
            _seenTokens[token] = true;
            if (_revoked.ContainsKey(token))
            {
                failure = "Lifetime validation failed, the token is expired.";
            }
            else
            {
                var result = await ValidateAsync(token);
                if (result.IsValid)
                {
                    return Caller.From(result.ClaimsIdentity);
                }

                failure = result.Exception is SecurityTokenInvalidAudienceException ? "Access token validation failure. Invalid audience." : "Access token validation failure.";
            }
        }

        // The challenge Microsoft Graph sends with a 401.
        context.Response.Headers.WWWAuthenticate =
            "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"";
        await ErrorAsync(context, 401, "InvalidAuthenticationToken", failure);
        return null;
    }

    private async Task<TokenValidationResult> ValidateAsync(string token)
    {
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = Issuer,
            ValidIssuers = [Issuer, Issuer + "/"],
            ValidAudience = Audience,
            IssuerSigningKeys = _keys,
            ClockSkew = TimeSpan.FromMinutes(5),
        };
        var handler = new JsonWebTokenHandler { MapInboundClaims = false };
        var result = await handler.ValidateTokenAsync(token, parameters);
        if (result.Exception is SecurityTokenSignatureKeyNotFoundException)
        {
            // The issuer rotated its keys: read them again once.
            await LoadKeysAsync();
            parameters.IssuerSigningKeys = _keys;
            result = await handler.ValidateTokenAsync(token, parameters);
        }

        return result;
    }

    private async Task RouteAsync(HttpContext context, Caller caller, string[] s)
    {
        var method = context.Request.Method;
        Mailbox mailbox;
        int rest;
        if (s.Length >= 1 && s[0] == "me")
        {
            if (caller.AppOnly)
            {
                throw new GraphError(400, "BadRequest", "/me request is only valid with delegated authentication flow.");
            }

            mailbox = FindMailbox(caller.UserName ?? "") ?? throw new GraphError(404, "ResourceNotFound", "Resource could not be discovered.");
            rest = 1;
        }
        else if (s.Length >= 2 && s[0] == "users")
        {
            // Note: an unknown user is answered as Graph does for a mailbox that does not exist (ErrorInvalidUser).
            mailbox = FindMailbox(s[1]) ?? throw new GraphError(404, "ErrorInvalidUser", $"The requested user '{s[1]}' is invalid.");
            rest = 2;
        }
        else
        {
            throw new GraphError(400, "BadRequest", "Resource not found for the segment '" + (s.Length > 0 ? s[0] : "") + "'.");
        }

        if (!mailbox.RestEnabled)
        {
            throw new GraphError(404, "MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, or is hosted on-premise.");
        }

        var tail = s[rest..];
        var immutable = context.Request.Headers["Prefer"].Any(p => p is not null && p.Contains("IdType=\"ImmutableId\"", StringComparison.OrdinalIgnoreCase));
        if (immutable)
        {
            context.Response.Headers["Preference-Applied"] = "IdType=\"ImmutableId\"";
        }

        switch (tail)
        {
            case ["sendMail"] when method == "POST":
                Authorize(caller, mailbox, Need.Send);
                await SendMailAsync(context, mailbox);
                return;
            case ["mailFolders"] when method == "GET":
                Authorize(caller, mailbox, Need.Read);
                await FolderListAsync(context, mailbox, Root(mailbox));
                return;
            case ["mailFolders", var folder] when method == "GET":
                Authorize(caller, mailbox, Need.Read);
                await WriteJsonAsync(context, 200, FolderJson(mailbox, FindFolder(mailbox, folder)));
                return;
            case ["mailFolders", var folder, "childFolders"] when method == "GET":
                Authorize(caller, mailbox, Need.Read);
                await FolderListAsync(context, mailbox, FindFolder(mailbox, folder));
                return;
            case ["mailFolders", var folder, "messages"] when method == "GET":
                Authorize(caller, mailbox, Need.Read);
                await MessageListAsync(context, mailbox, FindFolder(mailbox, folder), immutable);
                return;
            case ["mailFolders", var folder, "messages", "delta"] when method == "GET":
                Authorize(caller, mailbox, Need.Read);
                await DeltaAsync(context, mailbox, FindFolder(mailbox, folder), immutable);
                return;
            case ["messages", var id, "$value"] when method == "GET":
                Authorize(caller, mailbox, Need.Read);
                var mime = FindMessage(mailbox, id).Mime;
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/octet-stream";
                context.Response.ContentLength = mime.Length;
                await context.Response.Body.WriteAsync(mime);
                return;
            case ["messages", var id] when method == "GET":
                Authorize(caller, mailbox, Need.Read);
                await WriteJsonAsync(context, 200, MessageJson(FindMessage(mailbox, id), context.Request.Query["$select"], expandSize: false, immutable));
                return;
            case ["messages", var id] when method == "PATCH":
                Authorize(caller, mailbox, Need.Write);
                await PatchAsync(context, mailbox, id, immutable);
                return;
            case ["messages", var id, "move"] when method == "POST":
                Authorize(caller, mailbox, Need.Write);
                await MoveAsync(context, mailbox, id, immutable);
                return;
            case ["messages", var id] when method == "DELETE":
                Authorize(caller, mailbox, Need.Write);
                lock (_gate)
                {
                    var message = FindMessage(mailbox, id);
                    var deleted = mailbox.Folders.Single(f => f.WellKnownName == "deleteditems");
                    if (message.FolderId == deleted.Id)
                    {
                        Remove(mailbox, message);
                    }
                    else
                    {
                        MoveMessage(mailbox, message, deleted);
                    }
                }

                context.Response.StatusCode = 204;
                return;
            default:
                throw new GraphError(400, "BadRequest", $"Resource not found for the segment '{string.Join('/', tail)}'.");
        }
    }

    private enum Need { Read, Write, Send }

    private void Authorize(Caller caller, Mailbox mailbox, Need need)
    {
        string[] enough = need switch
        {
            Need.Read => ["Mail.Read", "Mail.ReadWrite"],
            Need.Write => ["Mail.ReadWrite"],
            _ => ["Mail.Send"],
        };
        if (caller.AppOnly)
        {
            if (!enough.Any(caller.Permissions.Contains))
            {
                throw new GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.");
            }

            if (ApplicationScope is { } scope && !scope.Contains(mailbox.Address, StringComparer.OrdinalIgnoreCase))
            {
                // Note: what Exchange Online answers when RBAC for Applications scopes the app away from the mailbox.
                throw new GraphError(403, "ErrorAccessDenied", "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.");
            }

            return;
        }

        var own = string.Equals(caller.UserName, mailbox.Address, StringComparison.OrdinalIgnoreCase)
            || string.Equals(caller.UserName + "@" + mailbox.Address.Split('@').Last(), mailbox.Address, StringComparison.OrdinalIgnoreCase);
        var delegated = !own && mailbox.Delegates.Contains(caller.UserName ?? "", StringComparer.OrdinalIgnoreCase);
        var permissions = own ? enough : delegated ? enough.Select(p => p + ".Shared").ToArray() : [];
        if (!permissions.Any(caller.Permissions.Contains))
        {
            throw new GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.");
        }
    }

    // ---- folders -------------------------------------------------------------------------------------------------

    private static Folder Root(Mailbox mailbox) => mailbox.Folders.Single(f => f.WellKnownName == "msgfolderroot");

    private Folder FindFolder(Mailbox mailbox, string idOrName)
    {
        lock (_gate)
        {
            return mailbox.Folders.FirstOrDefault(f => f.Id == idOrName)
                ?? mailbox.Folders.FirstOrDefault(f => WellKnown.Contains(idOrName, StringComparer.OrdinalIgnoreCase) && string.Equals(f.WellKnownName, idOrName, StringComparison.OrdinalIgnoreCase))
                ?? throw new GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.");
        }
    }

    private async Task FolderListAsync(HttpContext context, Mailbox mailbox, Folder parent)
    {
        var query = context.Request.Query;
        List<Folder> children;
        lock (_gate)
        {
            children = [.. mailbox.Folders.Where(f => f.ParentId == parent.Id && f.WellKnownName != "msgfolderroot")];
        }

        if (query["$filter"].ToString() is { Length: > 0 } filter)
        {
            // The one filter this server understands: displayName eq 'Name' ('' is a quote inside the literal).
            const string prefix = "displayName eq '";
            if (!filter.StartsWith(prefix, StringComparison.Ordinal) || !filter.EndsWith('\''))
            {
                throw new GraphError(400, "ErrorInvalidUrlQueryFilter", "The query filter contains one or more invalid nodes.");
            }

            var name = filter[prefix.Length..^1].Replace("''", "'", StringComparison.Ordinal);
            children = [.. children.Where(f => string.Equals(f.DisplayName, name, StringComparison.OrdinalIgnoreCase))];
        }

        var top = Top(query, 10, 1000);
        var skip = Skip(query);
        var page = children.Skip(skip).Take(top).ToList();
        var body = new JsonObject
        {
            ["@odata.context"] = $"{BaseUrl}/v1.0/$metadata#users('{mailbox.Id}')/mailFolders",
            ["value"] = new JsonArray([.. page.Select(f => (JsonNode)FolderJson(mailbox, f))]),
        };
        if (skip + top < children.Count)
        {
            body["@odata.nextLink"] = NextLink(context, skip + top);
        }

        await WriteJsonAsync(context, 200, body);
    }

    private JsonObject FolderJson(Mailbox mailbox, Folder folder)
    {
        lock (_gate)
        {
            var messages = mailbox.Messages.Where(m => m.FolderId == folder.Id).ToList();
            return new JsonObject
            {
                ["id"] = folder.Id,
                ["displayName"] = folder.DisplayName,
                ["parentFolderId"] = folder.ParentId,
                ["childFolderCount"] = mailbox.Folders.Count(f => f.ParentId == folder.Id),
                ["unreadItemCount"] = messages.Count(m => !m.IsRead),
                ["totalItemCount"] = messages.Count,
                ["sizeInBytes"] = messages.Sum(m => (long)m.Mime.Length),
                ["isHidden"] = false,
            };
        }
    }

    // ---- messages ------------------------------------------------------------------------------------------------

    private Message FindMessage(Mailbox mailbox, string id)
    {
        lock (_gate)
        {
            return mailbox.Messages.FirstOrDefault(m => m.ImmutableId == id || m.RestId == id)
                ?? throw new GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.");
        }
    }

    private async Task MessageListAsync(HttpContext context, Mailbox mailbox, Folder folder, bool immutable)
    {
        var query = context.Request.Query;
        var expand = query["$expand"].ToString();
        var expandSize = expand.Length > 0;
        if (expandSize && expand != $"singleValueExtendedProperties($filter=id eq '{SizeProperty}')")
        {
            throw new GraphError(400, "BadRequest", "Parsing OData Select and Expand failed: this server knows only the message size property.");
        }

        var orderBy = query["$orderby"].ToString();
        List<Message> messages;
        lock (_gate)
        {
            messages = [.. mailbox.Messages.Where(m => m.FolderId == folder.Id)];
        }

        messages = orderBy switch
        {
            "receivedDateTime asc" or "receivedDateTime" => [.. messages.OrderBy(m => m.Received).ThenBy(m => m.Sequence)],
            "" or "receivedDateTime desc" => [.. messages.OrderByDescending(m => m.Received).ThenByDescending(m => m.Sequence)],
            _ => throw new GraphError(400, "BadRequest", "The $orderby expression is not supported."),
        };
        var top = Top(query, 10, 1000);
        var skip = Skip(query);
        var page = messages.Skip(skip).Take(top);
        var body = new JsonObject
        {
            ["@odata.context"] = $"{BaseUrl}/v1.0/$metadata#users('{mailbox.Id}')/mailFolders('{folder.Id}')/messages",
            ["value"] = new JsonArray([.. page.Select(m => (JsonNode)MessageJson(m, query["$select"], expandSize, immutable))]),
        };
        if (skip + top < messages.Count)
        {
            body["@odata.nextLink"] = NextLink(context, skip + top);
        }

        await WriteJsonAsync(context, 200, body);
    }

    private static JsonObject MessageJson(Message message, string? select, bool expandSize, bool immutable)
    {
        var fields = string.IsNullOrEmpty(select) ? null : select.Split(',').Select(f => f.Trim()).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var json = new JsonObject
        {
            ["@odata.etag"] = $"W/\"CQAAABYAAA{message.Version.ToString(CultureInfo.InvariantCulture)}\"",
            ["id"] = immutable ? message.ImmutableId : message.RestId,
        };
        void Add(string name, JsonNode? value)
        {
            if (fields is null || fields.Contains(name))
            {
                json[name] = value;
            }
        }

        Add("receivedDateTime", message.Received.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        Add("subject", message.Subject);
        Add("internetMessageId", message.InternetMessageId);
        Add("isRead", message.IsRead);
        Add("parentFolderId", message.FolderId);
        if (expandSize)
        {
            json["singleValueExtendedProperties"] = new JsonArray(new JsonObject
            {
                ["id"] = SizeProperty,
                ["value"] = message.Mime.Length.ToString(CultureInfo.InvariantCulture),
            });
        }

        return json;
    }

    private async Task PatchAsync(HttpContext context, Mailbox mailbox, string id, bool immutable)
    {
        var body = await ReadJsonAsync(context);
        Message message;
        lock (_gate)
        {
            message = FindMessage(mailbox, id);
            if (body["isRead"] is JsonValue value && value.TryGetValue<bool>(out var isRead))
            {
                message.IsRead = isRead;
                Touch(message);
            }
        }

        await WriteJsonAsync(context, 200, MessageJson(message, null, expandSize: false, immutable));
    }

    private async Task MoveAsync(HttpContext context, Mailbox mailbox, string id, bool immutable)
    {
        var body = await ReadJsonAsync(context);
        var destination = body["destinationId"]?.GetValue<string>()
            ?? throw new GraphError(400, "ErrorInvalidRequest", "The destinationId parameter is required.");
        var folder = FindFolder(mailbox, destination);
        Message message;
        lock (_gate)
        {
            message = FindMessage(mailbox, id);
            MoveMessage(mailbox, message, folder);
        }

        await WriteJsonAsync(context, 201, MessageJson(message, null, expandSize: false, immutable));
    }

    private void MoveMessage(Mailbox mailbox, Message message, Folder folder)
    {
        // Leaving a folder is a removal in that folder's delta; the REST id changes, the immutable id does not.
        mailbox.Tombstones.Add((message.FolderId, message.ImmutableId, message.RestId, Interlocked.Increment(ref _sequence)));
        message.FolderId = folder.Id;
        message.RestId = NewMessageId();
        Touch(message);
    }

    private void Remove(Mailbox mailbox, Message message)
    {
        mailbox.Messages.Remove(message);
        mailbox.Tombstones.Add((message.FolderId, message.ImmutableId, message.RestId, Interlocked.Increment(ref _sequence)));
    }

    private void Touch(Message message)
    {
        message.Sequence = Interlocked.Increment(ref _sequence);
        message.Version++;
    }

    private async Task SendMailAsync(HttpContext context, Mailbox mailbox)
    {
        if (!(context.Request.ContentType ?? "").StartsWith("text/plain", StringComparison.OrdinalIgnoreCase))
        {
            // Only the MIME form is modelled here; the JSON form is a message resource.
            throw new GraphError(400, "ErrorInvalidRequest", "This server takes sendMail in MIME format only (Content-Type: text/plain).");
        }

        using var reader = new StreamReader(context.Request.Body, Encoding.ASCII);
        var text = (await reader.ReadToEndAsync()).Trim();
        byte[] mime;
        try
        {
            mime = Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw new GraphError(400, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content.");
        }

        if (mime.Length == 0)
        {
            throw new GraphError(400, "ErrorMimeContentInvalid", "The MIME content is invalid.");
        }

        Sent.Enqueue((mailbox.Address, mime));
        lock (_gate)
        {
            var sent = mailbox.Folders.Single(f => f.WellKnownName == "sentitems");
            AddMessage(mailbox, sent, mime, isRead: true);
        }

        context.Response.StatusCode = 202;
    }

    // ---- delta ---------------------------------------------------------------------------------------------------

    private async Task DeltaAsync(HttpContext context, Mailbox mailbox, Folder folder, bool immutable)
    {
        var query = context.Request.Query;
        // A round covers the changes with a sequence number in (since, until]; a page goes on after the last change
        // the previous page delivered, so changes made meanwhile (a message marked read) fall into the next round.
        long since;
        long until;
        long after;
        if (query["$deltatoken"].ToString() is { Length: > 0 } deltaToken)
        {
            since = ParseToken(deltaToken, 1)[0];
            (until, after) = (Interlocked.Read(ref _sequence), since);
        }
        else if (query["$skiptoken"].ToString() is { Length: > 0 } skipToken)
        {
            var parts = ParseToken(skipToken, 3);
            (since, until, after) = (parts[0], parts[1], parts[2]);
        }
        else
        {
            (since, until, after) = (0, Interlocked.Read(ref _sequence), 0);
        }

        var pageSize = 10;
        foreach (var preference in context.Request.Headers["Prefer"].SelectMany(p => (p ?? "").Split(',')))
        {
            var trimmed = preference.Trim();
            if (trimmed.StartsWith("odata.maxpagesize=", StringComparison.OrdinalIgnoreCase)
                && int.TryParse(trimmed["odata.maxpagesize=".Length..], CultureInfo.InvariantCulture, out var size) && size > 0)
            {
                pageSize = Math.Min(size, 1000);
                context.Response.Headers.Append("Preference-Applied", "odata.maxpagesize=" + pageSize.ToString(CultureInfo.InvariantCulture));
            }
        }

        List<(long Sequence, JsonObject Json)> changes;
        bool more;
        lock (_gate)
        {
            // Note: the page is chosen before any JSON is built, so a page costs the same at the end of a round as at its start.
            var changed = mailbox.Messages.Where(m => m.FolderId == folder.Id && m.Sequence > after && m.Sequence <= until)
                .Select(m => (m.Sequence, Message: (Message?)m, Tombstone: default((string FolderId, string ImmutableId, string RestId, long Sequence))));
            // A message that left the folder and is not back in it shows as removed.
            var inFolder = mailbox.Messages.Where(m => m.FolderId == folder.Id).Select(m => m.ImmutableId).ToHashSet(StringComparer.Ordinal);
            var removed = mailbox.Tombstones.Where(t => t.FolderId == folder.Id && t.Sequence > after && t.Sequence <= until && !inFolder.Contains(t.ImmutableId))
                .GroupBy(t => t.ImmutableId).Select(g => g.MaxBy(t => t.Sequence))
                .Select(t => (t.Sequence, Message: (Message?)null, Tombstone: t));
            var chosen = changed.Concat(removed).OrderBy(c => c.Sequence).Take(pageSize + 1).ToList();
            more = chosen.Count > pageSize;
            changes = [.. chosen.Take(pageSize).Select(c => (c.Sequence, c.Message is { } m
                ? MessageJson(m, query["$select"], expandSize: false, immutable)
                : new JsonObject
                {
                    ["@odata.type"] = "#microsoft.graph.message",
                    ["id"] = immutable ? c.Tombstone.ImmutableId : c.Tombstone.RestId,
                    ["@removed"] = new JsonObject { ["reason"] = "deleted" },
                }))];
        }

        var page = changes;
        var body = new JsonObject
        {
            ["@odata.context"] = $"{BaseUrl}/v1.0/$metadata#Collection(message)",
            ["value"] = new JsonArray([.. page.Select(c => (JsonNode)c.Json)]),
        };
        var link = $"{BaseUrl}/v1.0/users/{Uri.EscapeDataString(mailbox.Id)}/mailFolders/{Uri.EscapeDataString(folder.Id)}/messages/delta";
        if (more)
        {
            body["@odata.nextLink"] = link + "?$skiptoken=" + Token(since, until, page[^1].Sequence);
        }
        else
        {
            body["@odata.deltaLink"] = link + "?$deltatoken=" + Token(until);
        }

        await WriteJsonAsync(context, 200, body);
    }

    private static string Token(params long[] parts) =>
        Base64UrlEncoder.Encode(string.Join('.', parts.Select(p => p.ToString(CultureInfo.InvariantCulture))));

    private static long[] ParseToken(string token, int count)
    {
        try
        {
            var parts = Base64UrlEncoder.Decode(token).Split('.').Select(p => long.Parse(p, CultureInfo.InvariantCulture)).ToArray();
            if (parts.Length == count)
            {
                return parts;
            }
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException)
        {
        }

        // What Graph answers for a sync state it no longer knows: start a new round.
        throw new GraphError(410, "SyncStateNotFound", "The sync state generation is not found.");
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    private static int Top(IQueryCollection query, int fallback, int max)
    {
        if (query["$top"].ToString() is not { Length: > 0 } text)
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var top) && top is > 0 && top <= max
            ? top
            : throw new GraphError(400, "ErrorInvalidUrlQuery", $"The value of $top must be 1 to {max}.");
    }

    private static int Skip(IQueryCollection query) =>
        query["$skip"].ToString() is { Length: > 0 } text
            ? int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var skip) ? skip : throw new GraphError(400, "ErrorInvalidUrlQuery", "Invalid $skip.")
            : 0;

    private string NextLink(HttpContext context, int skip)
    {
        var pairs = context.Request.Query.Where(q => q.Key != "$skip").Select(q => $"{Uri.EscapeDataString(q.Key).Replace("%24", "$", StringComparison.Ordinal)}={Uri.EscapeDataString(q.Value.ToString())}")
            .Append("$skip=" + skip.ToString(CultureInfo.InvariantCulture));
        return BaseUrl + context.Request.Path + "?" + string.Join('&', pairs);
    }

    private static async Task<JsonObject> ReadJsonAsync(HttpContext context)
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<JsonObject>(context.Request.Body) ?? throw new GraphError(400, "BadRequest", "Empty Payload, JSON content expected.");
        }
        catch (JsonException)
        {
            throw new GraphError(400, "BadRequest", "Unable to read JSON request payload.");
        }
    }

    private static async Task WriteJsonAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8";
        await context.Response.WriteAsync(body.ToJsonString(Json));
    }

    private static async Task ErrorAsync(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var body = new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["code"] = code,
                ["message"] = message,
                ["innerError"] = new JsonObject
                {
                    ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture),
                    ["request-id"] = context.Response.Headers["request-id"].ToString(),
                    ["client-request-id"] = context.Response.Headers["request-id"].ToString(),
                },
            },
        };
        await context.Response.WriteAsync(body.ToJsonString(Json));
    }

    private Mailbox? FindMailbox(string idOrAddress)
    {
        lock (_gate)
        {
            return _mailboxes.FirstOrDefault(m => m.Id.Equals(idOrAddress, StringComparison.OrdinalIgnoreCase) || m.Address.Equals(idOrAddress, StringComparison.OrdinalIgnoreCase));
        }
    }

    private static string NewFolderId() => "AAMkAD" + Base64UrlEncoder.Encode(Guid.NewGuid().ToByteArray()) + "AAA=";

    private static string NewMessageId() => "AAMkAG" + Base64UrlEncoder.Encode(Guid.NewGuid().ToByteArray()) + Base64UrlEncoder.Encode(Guid.NewGuid().ToByteArray()) + "AAA=";

    private Message AddMessage(Mailbox mailbox, Folder folder, byte[] mime, bool isRead)
    {
        var headers = ParseHeaders(mime);
        var message = new Message
        {
            ImmutableId = "AAkALg" + Base64UrlEncoder.Encode(Guid.NewGuid().ToByteArray()) + Base64UrlEncoder.Encode(Guid.NewGuid().ToByteArray()) + "AAA=",
            RestId = NewMessageId(),
            FolderId = folder.Id,
            Mime = mime,
            Received = DateTimeOffset.FromUnixTimeSeconds(Interlocked.Increment(ref _received)).UtcDateTime,
            Subject = headers.GetValueOrDefault("subject", ""),
            InternetMessageId = headers.GetValueOrDefault("message-id", ""),
            IsRead = isRead,
        };
        Touch(message);
        mailbox.Messages.Add(message);
        return message;
    }

    private static Dictionary<string, string> ParseHeaders(byte[] mime)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var text = Encoding.UTF8.GetString(mime, 0, Math.Min(mime.Length, 8192));
        foreach (var line in text.Split('\n'))
        {
            var trimmed = line.TrimEnd('\r');
            if (trimmed.Length == 0)
            {
                break;
            }

            var colon = trimmed.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && !char.IsWhiteSpace(trimmed[0]))
            {
                headers.TryAdd(trimmed[..colon].Trim(), trimmed[(colon + 1)..].Trim());
            }
        }

        return headers;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
        _stopping.Dispose();
        _http.Dispose();
    }

    /// <summary>A test's handle on one mailbox.</summary>
    public sealed class GraphMailbox
    {
        private readonly GraphMailServer _server;
        private readonly Mailbox _mailbox;

        internal GraphMailbox(GraphMailServer server, Mailbox mailbox)
        {
            _server = server;
            _mailbox = mailbox;
        }

        public string Id => _mailbox.Id;
        public string Address => _mailbox.Address;

        /// <summary>False: requests answer 404 MailboxNotEnabledForRESTAPI (an on-premises or inactive mailbox).</summary>
        public bool RestEnabled { get => _mailbox.RestEnabled; set => _mailbox.RestEnabled = value; }

        /// <summary>Adds a folder under <paramref name="parentPath"/> ("" = the top of the store, else a path of display names).</summary>
        public string AddFolder(string parentPath, string displayName)
        {
            lock (_server._gate)
            {
                var parent = FolderAt(parentPath);
                var folder = new Folder(NewFolderId(), displayName, parent.Id);
                _mailbox.Folders.Add(folder);
                return folder.Id;
            }
        }

        /// <summary>Delivers messages to a folder (well-known name or path of display names), each received one second after the last.</summary>
        public void Deliver(string folder, IEnumerable<byte[]> messages)
        {
            lock (_server._gate)
            {
                var target = FolderAt(folder);
                foreach (var mime in messages)
                {
                    _server.AddMessage(_mailbox, target, mime, isRead: false);
                }
            }
        }

        /// <summary>Internet Message-IDs of the messages in a folder, oldest first.</summary>
        public IReadOnlyList<string> MessageIds(string folder)
        {
            lock (_server._gate)
            {
                var target = FolderAt(folder);
                return [.. _mailbox.Messages.Where(m => m.FolderId == target.Id).OrderBy(m => m.Received).Select(m => m.InternetMessageId)];
            }
        }

        /// <summary>Message-IDs of the read messages in a folder.</summary>
        public IReadOnlyList<string> ReadMessageIds(string folder)
        {
            lock (_server._gate)
            {
                var target = FolderAt(folder);
                return [.. _mailbox.Messages.Where(m => m.FolderId == target.Id && m.IsRead).Select(m => m.InternetMessageId)];
            }
        }

        /// <summary>Marks every message of a folder unread again (a benchmark's reset between rounds).</summary>
        public void MarkAllUnread(string folder)
        {
            lock (_server._gate)
            {
                var target = FolderAt(folder);
                foreach (var message in _mailbox.Messages.Where(m => m.FolderId == target.Id && m.IsRead))
                {
                    message.IsRead = false;
                    _server.Touch(message);
                }
            }
        }

        /// <summary>Immutable id of the message with this Message-ID.</summary>
        public string ImmutableIdOf(string internetMessageId)
        {
            lock (_server._gate)
            {
                return _mailbox.Messages.Single(m => m.InternetMessageId == internetMessageId).ImmutableId;
            }
        }

        private Folder FolderAt(string path)
        {
            var folder = Root(_mailbox);
            foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                folder = _mailbox.Folders.FirstOrDefault(f => f.ParentId == folder.Id && (string.Equals(f.DisplayName, part, StringComparison.OrdinalIgnoreCase) || string.Equals(f.WellKnownName, part, StringComparison.OrdinalIgnoreCase)))
                    ?? throw new InvalidOperationException($"No folder '{part}' in '{path}'.");
            }

            return folder;
        }
    }

    internal sealed class Mailbox(string id, string address, List<string> delegates)
    {
        public string Id { get; } = id;
        public string Address { get; } = address;
        public List<string> Delegates { get; } = delegates;
        public bool RestEnabled { get; set; } = true;
        public List<Folder> Folders { get; } = [];
        public List<Message> Messages { get; } = [];
        public List<(string FolderId, string ImmutableId, string RestId, long Sequence)> Tombstones { get; } = [];
    }

    internal sealed class Folder(string id, string displayName, string? parentId)
    {
        public string Id { get; } = id;
        public string DisplayName { get; } = displayName;
        public string? ParentId { get; } = parentId;
        public string? WellKnownName { get; init; }
    }

    internal sealed class Message
    {
        public required string ImmutableId { get; init; }
        public required string RestId { get; set; }
        public required string FolderId { get; set; }
        public required byte[] Mime { get; init; }
        public DateTime Received { get; init; }
        public string Subject { get; init; } = "";
        public string InternetMessageId { get; init; } = "";
        public bool IsRead { get; set; }
        public long Sequence { get; set; }
        public int Version { get; set; }
    }

    private sealed record Fault(int Status, string? RetryAfter, string PathContains, string? Method, bool Stall, bool CutShort = false);

    private sealed class GraphError(int status, string code, string message) : Exception(message)
    {
        public int Status { get; } = status;
        public string Code { get; } = code;
    }

    private sealed record Caller(bool AppOnly, string? UserName, HashSet<string> Permissions)
    {
        public static Caller From(ClaimsIdentity identity)
        {
            var roles = identity.FindAll("roles").Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
            // Entra ID names delegated permissions "scp"; a test identity provider without DelegatedScpClaim names them
            // only in OpenIddict's "scope", which then counts instead.
            var scp = identity.FindAll("scp").ToList();
            var scopes = (scp.Count > 0 ? scp : identity.FindAll("scope")).SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .ToHashSet(StringComparer.Ordinal);
            // Application tokens carry roles and no scp (the test IdP still names the requested .default in "scope").
            var appOnly = roles.Count > 0 && identity.FindFirst("scp") is null;
            var user = identity.FindFirst("preferred_username")?.Value ?? identity.FindFirst("upn")?.Value ?? identity.FindFirst("sub")?.Value;
            return new Caller(appOnly, appOnly ? null : user, appOnly ? roles : scopes);
        }
    }
}
