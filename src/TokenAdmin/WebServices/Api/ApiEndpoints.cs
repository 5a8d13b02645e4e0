using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Admin;
using TokenAdmin.Data;
using TokenAdmin.FunctionalAccounts;
using TokenAdmin.Oidc;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.WebServices.Api;

public sealed record TokenSourceStatus(
    string Kind, string Name, bool Valid, bool SharedThroughApi, string Status, string StatusText,
    DateTime? AccessTokenExpiresAt, DateTime? RefreshTokenExpiresAt, string? LastError);

public sealed record TokenList(IReadOnlyList<TokenSourceStatus> Tokens);

public sealed record RefreshResult(string Kind, string Name, DateTimeOffset? AccessTokenExpiresAt);

/// <summary>What the token broker hands out (RFC 6749 section 5.1 names), never cached by the client.</summary>
public sealed record BrokeredToken(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_at")] DateTimeOffset? ExpiresAt,
    [property: JsonPropertyName("expires_in")] long? ExpiresIn);

/// <summary>An invoke request: values for the invoker's path placeholders and query, and the JSON body to send.</summary>
public sealed record InvokeInput(Dictionary<string, string>? Path, Dictionary<string, string>? Query, JsonElement? Body);

public sealed record InvokeOutput(int Status, IReadOnlyList<KeyValuePair<string, string>> Headers, string Body, long DurationMs);

/// <summary>Endpoint metadata: the response body holds a token, so the debugger records it as "(not recorded)".</summary>
public sealed record ResponseHoldsSecret;

/// <summary>
/// The incoming API, /api/v1: token status list, refresh of a token source, token broker, invoke of a web service.
/// Every endpoint needs an API role (<see cref="ApiRoles"/>); answers are JSON, errors problem details.
/// </summary>
public static class ApiEndpoints
{
    public const string Prefix = "/api/v1";
    public const string OpenApiPath = "/api/v1/openapi.json";
    public const string TokenConfigKind = "token-config";
    public const string FunctionalAccountKind = "functional-account";

    public static void MapTokenAdminApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Prefix).WithTags("TokenAdmin API");
        MapTokenList(api).WithName("ListTokens").RequireApiRole(ApiRoles.TokensRead);

        api.MapPost("/token-configs/{name}/refresh", (string name, ClaimsPrincipal user, ITokenProvider provider, TokenAdminDb db, TimeProvider time, CancellationToken ct) =>
                RefreshAsync(TokenConfigKind, name, user, provider, db, time, ct))
            .WithName("RefreshTokenConfig").WithSummary("Refreshes a token config's token now (refresh_token grant, or a new grant when the flow allows it).")
            .RequireApiRole(ApiRoles.TokensRefresh);
        api.MapPost("/functional-accounts/{name}/refresh", (string name, ClaimsPrincipal user, ITokenProvider provider, TokenAdminDb db, TimeProvider time, CancellationToken ct) =>
                RefreshAsync(FunctionalAccountKind, name, user, provider, db, time, ct))
            .WithName("RefreshFunctionalAccount").WithSummary("Renews a functional account's token now.")
            .RequireApiRole(ApiRoles.TokensRefresh);

        api.MapPost("/token-configs/{name}/token", (string name, HttpContext context, ClaimsPrincipal user, ITokenProvider provider, TokenAdminDb db, TimeProvider time, CancellationToken ct) =>
                BrokerAsync(TokenConfigKind, name, context, user, provider, db, time, ct))
            .WithName("BrokerTokenConfig").WithSummary("Hands out a current access token of a token config an admin shared through the API.")
            .WithMetadata(new ResponseHoldsSecret())
            .RequireApiRole(ApiRoles.TokensBroker);
        api.MapPost("/functional-accounts/{name}/token", (string name, HttpContext context, ClaimsPrincipal user, ITokenProvider provider, TokenAdminDb db, TimeProvider time, CancellationToken ct) =>
                BrokerAsync(FunctionalAccountKind, name, context, user, provider, db, time, ct))
            .WithName("BrokerFunctionalAccount").WithSummary("Hands out a current token of a functional account an admin shared through the API.")
            .WithMetadata(new ResponseHoldsSecret())
            .RequireApiRole(ApiRoles.TokensBroker);

        api.MapPost("/webservices/{webservice}/invokers/{invoker}", InvokeAsync)
            .WithName("InvokeWebService").WithSummary("Calls one invoker of an outgoing web service, with its bearer token, and answers what the remote side answered.")
            .RequireApiRole(ApiRoles.WebServicesInvoke);
    }

    /// <summary>The token status list (separate so the benchmark can map the same handler without authorization).</summary>
    public static RouteHandlerBuilder MapTokenList(IEndpointRouteBuilder group) =>
        group.MapGet("/tokens", ListAsync)
            .WithSummary("Lists token configs and functional accounts with their token status (never a token).");

    public static RouteHandlerBuilder RequireApiRole(this RouteHandlerBuilder builder, string role) =>
        builder.RequireAuthorization(ApiAuthentication.Policy(role)).WithMetadata(new ApiRoleMetadata(role))
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);

    private static async Task<Ok<TokenList>> ListAsync(TokenAdminDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var configs = await db.TokenConfigs.AsNoTracking().OrderBy(c => c.NormalizedName)
            .Select(c => new { c.Name, c.Valid, c.SharedThroughApi, c.ExpiringSoonDays, c.State }).ToListAsync(cancellationToken);
        var accounts = await db.FunctionalAccounts.AsNoTracking().OrderBy(a => a.NormalizedName)
            .Select(a => new { a.Name, a.Valid, a.SharedThroughApi, a.State }).ToListAsync(cancellationToken);
        var rows = configs.Select(c => Row(TokenConfigKind, c.Name, c.Valid, c.SharedThroughApi, c.State, c.ExpiringSoonDays, now))
            .Concat(accounts.Select(a => Row(FunctionalAccountKind, a.Name, a.Valid, a.SharedThroughApi, a.State, 7, now)))
            .ToList();
        return TypedResults.Ok(new TokenList(rows));
    }

    private static TokenSourceStatus Row(string kind, string name, bool valid, bool shared, TokenState? state, int expiringSoonDays, DateTime now)
    {
        var status = TokenStatus.Of(TokenStatus.FactsOf(valid, state), expiringSoonDays, now);
        return new TokenSourceStatus(kind, name, valid, shared, status.Kind.ToString(), status.Text,
            state?.AccessTokenExpiresAt, state?.RefreshTokenExpiresAt, status.LastError);
    }

    private static async Task<IResult> RefreshAsync(
        string kind, string name, ClaimsPrincipal user, ITokenProvider provider, TokenAdminDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var (source, found, _) = await FindAsync(kind, name, db, cancellationToken);
        if (source is null)
        {
            return NotFound(kind, name);
        }

        try
        {
            var token = await provider.ForceRefreshAsync(source.Value, cancellationToken);
            AuditLog.Add(db, time, Actor(user), kind + ".refreshed-by-api", found!);
            await db.SaveChangesAsync(cancellationToken);
            return TypedResults.Ok(new RefreshResult(kind, found!, token.ExpiresAt));
        }
        catch (TokenUnavailableException ex)
        {
            return Unavailable(ex);
        }
    }

    private static async Task<IResult> BrokerAsync(
        string kind, string name, HttpContext context, ClaimsPrincipal user, ITokenProvider provider, TokenAdminDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var (source, found, shared) = await FindAsync(kind, name, db, cancellationToken);
        if (source is null)
        {
            return NotFound(kind, name);
        }

        if (kind == FunctionalAccountKind
            && await db.FunctionalAccounts.AnyAsync(a => a.Name == found && a.TokenType == AccountTokenTypes.IdToken, cancellationToken))
        {
            // Note: an ID token is a proof of sign-in for TokenAdmin, not a credential to hand to others.
            return TypedResults.Problem(
                $"The functional account '{found}' gets ID tokens; the broker hands out access tokens only. An admin can set its token type to access_token.",
                statusCode: StatusCodes.Status409Conflict, title: "Not an access token");
        }

        if (!shared)
        {
            return TypedResults.Problem(
                $"The {Words(kind)} '{found}' is not shared through the API. An admin can switch on \"Share through the API\" on its edit page.",
                statusCode: StatusCodes.Status403Forbidden, title: "Not shared through the API");
        }

        try
        {
            var token = await provider.GetTokenAsync(source.Value, cancellationToken);
            AuditLog.Add(db, time, Actor(user), kind + ".token-brokered", found!, $"expires {token.ExpiresAt:u}");
            await db.SaveChangesAsync(cancellationToken);
            context.Response.Headers.CacheControl = "no-store";
            context.Response.Headers.Pragma = "no-cache";
            long? expiresIn = token.ExpiresAt is { } at ? Math.Max(0, (long)(at - time.GetUtcNow()).TotalSeconds) : null;
            return TypedResults.Ok(new BrokeredToken(token.Value, token.Type, token.ExpiresAt, expiresIn));
        }
        catch (TokenUnavailableException ex)
        {
            return Unavailable(ex);
        }
    }

    /// <summary>HttpContext.Items key: the secrets an invoked web service was sent, for the debugger entry of the incoming call.</summary>
    public const string SentSecretsItem = "TokenAdmin.SentSecrets";

    private static async Task<IResult> InvokeAsync(
        string webservice, string invoker, InvokeInput? input, HttpContext context, ClaimsPrincipal user, IWebServiceInvoker invokers,
        WebServiceService services, ITokenProvider tokens, CancellationToken cancellationToken)
    {
        var request = new InvokeRequest(
            input?.Path ?? [],
            input?.Body is { ValueKind: not JsonValueKind.Undefined and not JsonValueKind.Null } body ? body.GetRawText() : null,
            input?.Query,
            "api:" + user.Identity?.Name);
        try
        {
            var result = await invokers.InvokeAsync(webservice, invoker, request, cancellationToken);
            // Note: the answer is redacted as on the Test page: what the web service was sent (its bearer token, basic
            // password, secret header values) and remote credentials (Set-Cookie, token headers) never leave TokenAdmin,
            // neither to the API caller nor to the debugger entry of this call.
            var found = await services.FindByNameAsync(webservice, cancellationToken);
            var sent = found is null ? [] : await services.SentSecretsAsync(found.Id, tokens, cancellationToken);
            var secretHeaders = found?.Headers.Where(h => h.Secret).Select(h => h.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
            context.Items[SentSecretsItem] = sent;
            return TypedResults.Ok(new InvokeOutput(result.StatusCode, CallRedaction.RedactHeaderList(result.Headers, secretHeaders, sent),
                CallRedaction.RedactBody(result.Body, sent), (long)result.Duration.TotalMilliseconds));
        }
        catch (InvokeException ex)
        {
            var (status, title) = ex.Failure switch
            {
                InvokeFailure.NotFound => (StatusCodes.Status404NotFound, "No such web service or invoker"),
                InvokeFailure.BadInput => (StatusCodes.Status400BadRequest, "Bad input"),
                InvokeFailure.TokenUnavailable => (StatusCodes.Status502BadGateway, "No token for the web service"),
                InvokeFailure.Unreachable => (StatusCodes.Status502BadGateway, "Web service unreachable"),
                InvokeFailure.Timeout => (StatusCodes.Status504GatewayTimeout, "Web service timed out"),
                _ => (StatusCodes.Status502BadGateway, "Invoke failed"),
            };
            return TypedResults.Problem(ex.Message, statusCode: status, title: title);
        }
    }

    private static async Task<(TokenSource? Source, string? Name, bool Shared)> FindAsync(string kind, string name, TokenAdminDb db, CancellationToken cancellationToken)
    {
        if (kind == TokenConfigKind)
        {
            var normalized = TokenConfig.Normalize(name);
            var config = await db.TokenConfigs.AsNoTracking().Where(c => c.NormalizedName == normalized)
                .Select(c => new { c.Id, c.Name, c.SharedThroughApi }).SingleOrDefaultAsync(cancellationToken);
            return config is null ? (null, null, false) : (TokenSource.Config(config.Id), config.Name, config.SharedThroughApi);
        }

        var accountName = FunctionalAccount.Normalize(name);
        var account = await db.FunctionalAccounts.AsNoTracking().Where(a => a.NormalizedName == accountName)
            .Select(a => new { a.Id, a.Name, a.SharedThroughApi }).SingleOrDefaultAsync(cancellationToken);
        return account is null ? (null, null, false) : (TokenSource.Account(account.Id), account.Name, account.SharedThroughApi);
    }

    private static ProblemHttpResult NotFound(string kind, string name) =>
        TypedResults.Problem($"There is no {Words(kind)} named '{(name.Length > 100 ? name[..100] + "…" : name)}'.", statusCode: StatusCodes.Status404NotFound, title: "Not found");

    private static IResult Unavailable(TokenUnavailableException ex)
    {
        var (status, title) = ex.Reason switch
        {
            TokenUnavailableReason.NotFound => (StatusCodes.Status404NotFound, "Not found"),
            TokenUnavailableReason.ProviderUnavailable => (StatusCodes.Status503ServiceUnavailable, "Provider unavailable"),
            TokenUnavailableReason.ProviderRefused => (StatusCodes.Status502BadGateway, "Provider refused"),
            _ => (StatusCodes.Status409Conflict, "No token available"),
        };
        var problem = TypedResults.Problem(ex.Message, statusCode: status, title: title,
            extensions: new Dictionary<string, object?> { ["reason"] = ex.Reason.ToString() });
        return ex.RetryAfter is { } retry
            ? new WithRetryAfter(problem, retry)
            : problem;
    }

    private static string Words(string kind) => kind == TokenConfigKind ? "token config" : "functional account";

    private static string Actor(ClaimsPrincipal user) => "api:" + user.Identity?.Name;

    /// <summary>A problem answer with a Retry-After header (seconds, at least 1).</summary>
    private sealed class WithRetryAfter(IResult inner, TimeSpan retryAfter) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return inner.ExecuteAsync(httpContext);
        }
    }
}
