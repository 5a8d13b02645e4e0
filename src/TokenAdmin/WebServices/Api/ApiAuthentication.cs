using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using TokenAdmin.FunctionalAccounts;
using TokenAdmin.Oidc;

namespace TokenAdmin.WebServices.Api;

/// <summary>The bearer scheme of /api/v1 and the policies that gate its endpoints by API role.</summary>
public static class ApiAuthentication
{
    public const string Scheme = "ApiBearer";
    public const string ProfileClaim = "tokenadmin:profile";
    private const string FailureKey = "tokenadmin:api-token-failure";

    /// <summary>The policy name for an API role (one policy per role in <see cref="ApiRoles.All"/>).</summary>
    public static string Policy(string role) => "api:" + role;

    public static void AddPolicies(AuthorizationBuilder authorization)
    {
        foreach (var role in ApiRoles.All)
        {
            authorization.AddPolicy(Policy(role), p => p.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser().RequireRole(role));
        }
    }

    public static ClaimsPrincipal Principal(ApiCaller caller)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, caller.Login), new(ProfileClaim, caller.Profile) };
        claims.AddRange(caller.Roles.Select(r => new Claim(ClaimTypes.Role, r)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme, ClaimTypes.Name, ClaimTypes.Role));
    }

    internal static void SetFailure(HttpContext context, IncomingTokenFailure failure) => context.Items[FailureKey] = failure;

    internal static IncomingTokenFailure? Failure(HttpContext context) => context.Items.TryGetValue(FailureKey, out var f) ? f as IncomingTokenFailure : null;

    /// <summary>
    /// A WWW-Authenticate value (RFC 6750 section 3). The description is quoted: quotes, backslashes and characters
    /// outside printable ASCII are replaced, so a crafted token cannot break the header.
    /// </summary>
    /// <summary>The error_description is cut at this many characters (a header must stay small).</summary>
    public const int ChallengeDescriptionLimit = 300;

    public static string Challenge(string? error, string? description)
    {
        if (description is { Length: > ChallengeDescriptionLimit })
        {
            description = description[..(ChallengeDescriptionLimit - 3)] + "...";
        }

        var value = new StringBuilder("Bearer realm=\"TokenAdmin API\"");
        if (error is not null)
        {
            value.Append(", error=\"").Append(error).Append('"');
        }

        if (description is not null)
        {
            value.Append(", error_description=\"");
            foreach (var c in description)
            {
                value.Append(c is >= ' ' and <= '~' and not '"' and not '\\' ? c : c == '"' ? '\'' : '?');
            }

            value.Append('"');
        }

        return value.ToString();
    }
}

/// <summary>
/// Authenticates /api/v1 calls by their bearer token (<see cref="IncomingTokenValidator"/>). A call without a
/// bearer token is anonymous (the endpoint's policy then answers 401); a bad token fails with the reason, answered as
/// 401 invalid_token (403 insufficient_scope for a missing scope, 503 when the provider cannot be asked) with a
/// WWW-Authenticate header and a problem details body. Never a 500 for a token.
/// </summary>
public sealed class ApiBearerHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory loggerFactory, UrlEncoder encoder, IncomingTokenValidator validator)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            return AuthenticateResult.NoResult();
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var failure = IncomingTokenFailure.InvalidToken("The Authorization header must be 'Bearer <access token>'.");
            ApiAuthentication.SetFailure(Context, failure);
            return AuthenticateResult.Fail(failure.Description);
        }

        var token = header["Bearer ".Length..].Trim();
        if (token.Length == 0)
        {
            var failure = IncomingTokenFailure.InvalidToken("The Authorization header holds no token after 'Bearer'.");
            ApiAuthentication.SetFailure(Context, failure);
            return AuthenticateResult.Fail(failure.Description);
        }

        IncomingTokenResult result;
        try
        {
            result = await validator.ValidateAsync(token, Context.RequestAborted);
        }
        catch (OperationCanceledException) when (Context.RequestAborted.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TimeoutException or OperationCanceledException or Polly.ExecutionRejectedException)
        {
            // Note: a provider that hangs or drops the connection is the caller's 503, never a 500.
            Logger.LogWarning("Incoming API token: the provider could not be asked: {Reason}", ex.Message);
            result = new IncomingTokenResult(null, IncomingTokenFailure.Unavailable("The token's provider could not be reached to check it; try again later."));
        }

        if (result.Caller is { } caller)
        {
            return AuthenticateResult.Success(new AuthenticationTicket(ApiAuthentication.Principal(caller), Scheme.Name));
        }

        ApiAuthentication.SetFailure(Context, result.Failure!);
        return AuthenticateResult.Fail(result.Failure!.Description);
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = ApiAuthentication.Failure(Context);
        if (failure is null)
        {
            Response.Headers.WWWAuthenticate = ApiAuthentication.Challenge(null, null);
            await ApiProblems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Authentication required",
                "Send an access token of an accepted provider: Authorization: Bearer <token>.");
            return;
        }

        if (failure.Status != StatusCodes.Status503ServiceUnavailable)
        {
            Response.Headers.WWWAuthenticate = ApiAuthentication.Challenge(failure.Error, failure.Description);
        }
        else
        {
            Response.Headers.RetryAfter = "30";
        }

        await ApiProblems.WriteAsync(Context, failure.Status, failure.Status switch
        {
            StatusCodes.Status403Forbidden => "Insufficient scope",
            StatusCodes.Status503ServiceUnavailable => "Token provider unavailable",
            _ => "Invalid token",
        }, failure.Description);
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var role = Context.GetEndpoint()?.Metadata.GetMetadata<ApiRoleMetadata>()?.Role;
        var login = Context.User.Identity?.Name ?? "anonymous";
        var description = role is null
            ? $"The API user '{login}' may not make this call."
            : $"The API user '{login}' lacks the role {role} that this call needs.";
        Response.Headers.WWWAuthenticate = ApiAuthentication.Challenge("insufficient_scope", description);
        await ApiProblems.WriteAsync(Context, StatusCodes.Status403Forbidden, "Insufficient rights", description);
    }
}

/// <summary>Endpoint metadata: the API role a call needs (for the 403 text).</summary>
public sealed record ApiRoleMetadata(string Role);
