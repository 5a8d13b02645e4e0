using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace TokenAdmin.TestIdentityProvider.Internal;

/// <summary>
/// The passthrough endpoints: OpenIddict validates each request first, then these handlers decide.
/// </summary>
internal static class ProviderEndpoints
{
    /// <summary>An authorization request with this login_hint is answered with error=access_denied.</summary>
    public const string DenyLoginHint = "deny";

    public const string JwtBearerGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer";

    private const string Scheme = OpenIddictServerAspNetCoreDefaults.AuthenticationScheme;

    // Claims that describe the token rather than the user; left out of the userinfo response.
    private static readonly HashSet<string> TokenClaimTypes = new(StringComparer.Ordinal)
    {
        Claims.Issuer, Claims.Audience, Claims.ExpiresAt, Claims.IssuedAt, Claims.NotBefore, Claims.JwtId,
        Claims.AuthorizedParty, Claims.ClientId, Claims.Scope, Claims.Nonce, Claims.AccessTokenHash,
        Claims.CodeHash, Claims.TokenType, "typ",
    };

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapMethods("/connect/authorize", [HttpMethods.Get, HttpMethods.Post], AuthorizeAsync);
        endpoints.MapPost(FaultInjectionMiddleware.TokenPath, TokenAsync);
        endpoints.MapMethods("/connect/userinfo", [HttpMethods.Get, HttpMethods.Post], UserInfoAsync);
        endpoints.MapMethods("/connect/logout", [HttpMethods.Get, HttpMethods.Post], LogoutAsync);
        endpoints.MapMethods("/connect/verify", [HttpMethods.Get, HttpMethods.Post], VerifyAsync);
        endpoints.MapGet("/connect/verify/done", VerifyDoneAsync);
        endpoints.MapGet("/", HomeAsync);
    }

    private static async Task AuthorizeAsync(HttpContext context)
    {
        var request = context.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenID Connect request cannot be retrieved.");
        var state = context.RequestServices.GetRequiredService<ProviderState>();

        // Error simulation: login_hint=deny makes the provider answer the client with access_denied.
        if (string.Equals(request.LoginHint, DenyLoginHint, StringComparison.Ordinal))
        {
            await ForbidAsync(context, Errors.AccessDenied, "The user denied the request");
            return;
        }

        // There is no login session (no cookie), so a silent request can never succeed.
        if (request.HasPromptValue(PromptValues.None))
        {
            await ForbidAsync(context, Errors.LoginRequired, "The user is not logged in.");
            return;
        }

        if (!HttpMethods.IsPost(context.Request.Method))
        {
            await WriteLoginPageAsync(context, request, error: null);
            return;
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        if (!state.TryValidateUser(form["username"].ToString(), form["password"].ToString(), out var user))
        {
            await WriteLoginPageAsync(context, request, LoginPage.InvalidCredentialsMessage);
            return;
        }

        // Consent is implicit. OpenIddict already checked the requested scopes against the client's permissions.
        var principal = PrincipalFactory.CreateUserPrincipal(
            user, FilterScopes(state, request.ClientId, request.GetScopes()), state.AccessTokenAudiences, state.Options.DelegatedScpClaim);
        await context.SignInAsync(Scheme, principal);
    }

    private static async Task TokenAsync(HttpContext context)
    {
        var request = context.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenID Connect request cannot be retrieved.");
        var state = context.RequestServices.GetRequiredService<ProviderState>();

        if (request.IsAuthorizationCodeGrantType() || request.IsRefreshTokenGrantType() || request.IsDeviceCodeGrantType())
        {
            // Re-issue with the principal stored in the code / refresh token (OpenIddict validated it,
            // including refresh-token reuse detection, before this handler runs).
            var result = await context.AuthenticateAsync(Scheme);
            if (result.Principal is not { } principal)
            {
                await ForbidAsync(context, Errors.InvalidGrant, "The token is no longer valid.");
                return;
            }

            PrincipalFactory.SetDestinations(principal);
            await context.SignInAsync(Scheme, principal);
            return;
        }

        if (request.IsClientCredentialsGrantType())
        {
            var clientId = request.ClientId ?? throw new InvalidOperationException("The client_id is missing.");
            state.Clients.TryGetValue(clientId, out var client);
            var principal = PrincipalFactory.CreateClientPrincipal(
                clientId, client, FilterScopes(state, clientId, request.GetScopes()), state.AccessTokenAudiences);
            await context.SignInAsync(Scheme, principal);
            return;
        }

        if (request.IsPasswordGrantType())
        {
            if (!state.TryValidateUser(request.Username, request.Password, out var user))
            {
                await ForbidAsync(context, Errors.InvalidGrant, "The user name or password is invalid.");
                return;
            }

            var principal = PrincipalFactory.CreateUserPrincipal(
                user, FilterScopes(state, request.ClientId, request.GetScopes()), state.AccessTokenAudiences, state.Options.DelegatedScpClaim);
            await context.SignInAsync(Scheme, principal);
            return;
        }

        if (request.GrantType == JwtBearerGrantType)
        {
            await JwtBearerAsync(context, request, state);
            return;
        }

        await ForbidAsync(context, Errors.UnsupportedGrantType, "The grant type is not supported.");
    }

    /// <summary>
    /// The JWT bearer grant (RFC 7523 sections 2.1 and 3): the assertion's signature with a key registered for its iss
    /// and kid, aud = this token endpoint, exp present and in the future, at most one hour after iat; the token is
    /// issued for the assertion's sub.
    /// </summary>
    private static async Task JwtBearerAsync(HttpContext context, OpenIddictRequest request, ProviderState state)
    {
        var assertion = (string?)request["assertion"];
        if (string.IsNullOrEmpty(assertion))
        {
            await ForbidAsync(context, Errors.InvalidRequest, "The assertion parameter is missing.");
            return;
        }

        var handler = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler();
        Microsoft.IdentityModel.JsonWebTokens.JsonWebToken jwt;
        try
        {
            jwt = handler.ReadJsonWebToken(assertion);
        }
        catch (ArgumentException)
        {
            await ForbidAsync(context, Errors.InvalidGrant, "The assertion is not a JWT.");
            return;
        }

        if (!state.JwtBearerKeys.TryGetValue(jwt.Issuer ?? "", out var keys) || !keys.TryGetValue(jwt.Kid ?? "", out var key))
        {
            await ForbidAsync(context, Errors.InvalidGrant, $"No key is registered for the assertion's issuer '{jwt.Issuer}' and kid '{jwt.Kid}'.");
            return;
        }

        var tokenEndpoint = new Uri(context.Request.Scheme + "://" + context.Request.Host + context.Request.PathBase + context.Request.Path).AbsoluteUri;
        var result = await handler.ValidateTokenAsync(assertion, new Microsoft.IdentityModel.Tokens.TokenValidationParameters
        {
            IssuerSigningKey = key,
            ValidIssuer = jwt.Issuer,
            ValidAudience = tokenEndpoint,
            RequireExpirationTime = true,
            ClockSkew = TimeSpan.FromSeconds(30),
            ValidAlgorithms = ["RS256", "PS256", "ES256"],
        });
        if (!result.IsValid)
        {
            var why = result.Exception switch
            {
                Microsoft.IdentityModel.Tokens.SecurityTokenInvalidAudienceException => $"The assertion's audience is not this token endpoint ({tokenEndpoint}).",
                Microsoft.IdentityModel.Tokens.SecurityTokenExpiredException => "The assertion has expired.",
                Microsoft.IdentityModel.Tokens.SecurityTokenSignatureKeyNotFoundException or Microsoft.IdentityModel.Tokens.SecurityTokenInvalidSignatureException
                    => "The assertion's signature does not match the registered key.",
                _ => "The assertion is not valid: " + result.Exception?.Message,
            };
            await ForbidAsync(context, Errors.InvalidGrant, why);
            return;
        }

        if (jwt.TryGetPayloadValue<long>("iat", out var issuedAt) && jwt.ValidTo - DateTimeOffset.FromUnixTimeSeconds(issuedAt).UtcDateTime > TimeSpan.FromHours(1))
        {
            await ForbidAsync(context, Errors.InvalidGrant, "The assertion is valid for more than one hour.");
            return;
        }

        var subject = string.IsNullOrEmpty(jwt.Subject) ? jwt.Issuer! : jwt.Subject;
        IEnumerable<string> scopes = request.GetScopes();
        if (!scopes.Any() && jwt.TryGetPayloadValue<string>("scope", out var scope))
        {
            // Google reads the scope from the assertion.
            scopes = scope.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        }

        var principal = PrincipalFactory.CreateClientPrincipal(subject, null, FilterScopes(state, request.ClientId, scopes), state.AccessTokenAudiences);
        await context.SignInAsync(Scheme, principal);
    }

    /// <summary>
    /// The end-user verification endpoint of the device flow (RFC 8628 section 3.3). GET: a form for the user code and
    /// the user's credentials. POST with action=approve signs the user in for the code (the device's poll then gets the
    /// tokens), action=deny refuses it (the poll then gets access_denied). OpenIddict has checked the user code first.
    /// </summary>
    private static async Task VerifyAsync(HttpContext context)
    {
        var state = context.RequestServices.GetRequiredService<ProviderState>();
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            await WriteVerifyPageAsync(context, StatusCodes.Status200OK, context.Request.Query["user_code"].ToString(), error: null);
            return;
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var userCode = form["user_code"].ToString();
        var result = await context.AuthenticateAsync(Scheme);
        if (result.Principal is not { } codePrincipal)
        {
            await WriteVerifyPageAsync(context, StatusCodes.Status400BadRequest, userCode, "The code is unknown or has expired.");
            return;
        }

        if (!state.TryValidateUser(form["username"].ToString(), form["password"].ToString(), out var user))
        {
            await WriteVerifyPageAsync(context, StatusCodes.Status400BadRequest, userCode, LoginPage.InvalidCredentialsMessage);
            return;
        }

        if (form["action"].ToString() == "deny")
        {
            await context.ForbidAsync(Scheme, new AuthenticationProperties { RedirectUri = "/connect/verify/done?result=denied" });
            return;
        }

        var clientId = codePrincipal.GetClaim(Claims.ClientId) ?? codePrincipal.GetPresenters().FirstOrDefault();
        var principal = PrincipalFactory.CreateUserPrincipal(
            user, FilterScopes(state, clientId, codePrincipal.GetScopes()), state.AccessTokenAudiences, state.Options.DelegatedScpClaim);
        await context.SignInAsync(Scheme, principal, new AuthenticationProperties { RedirectUri = "/connect/verify/done?result=approved" });
    }

    private static async Task VerifyDoneAsync(HttpContext context)
    {
        var approved = context.Request.Query["result"] == "approved";
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Device sign-in</title></head><body><main><h1>" +
            (approved ? "Device signed in" : "Device sign-in declined") + "</h1><p>You can close this window.</p></main></body></html>",
            context.RequestAborted);
    }

    private static async Task WriteVerifyPageAsync(HttpContext context, int status, string userCode, string? error)
    {
        var html = HtmlEncoder.Default;
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsync(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Device sign-in - TokenAdmin test identity provider</title></head><body><main>" +
            "<h1>Device sign-in</h1>" + (error is null ? "" : $"<p class=\"error\" role=\"alert\">{html.Encode(error)}</p>") +
            "<form method=\"post\" action=\"/connect/verify\">" +
            $"<label for=\"user_code\">Code</label><input id=\"user_code\" name=\"user_code\" value=\"{html.Encode(userCode)}\" autocomplete=\"off\">" +
            "<label for=\"username\">User name</label><input id=\"username\" name=\"username\" autocomplete=\"username\">" +
            "<label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\">" +
            "<button type=\"submit\" name=\"action\" value=\"approve\">Allow</button> <button type=\"submit\" name=\"action\" value=\"deny\">Deny</button>" +
            "</form></main></body></html>",
            context.RequestAborted);
    }

    private static async Task UserInfoAsync(HttpContext context)
    {
        var result = await context.AuthenticateAsync(Scheme);
        if (result.Principal is not { } principal)
        {
            await context.ChallengeAsync(Scheme, new AuthenticationProperties(new Dictionary<string, string?>
            {
                [OpenIddictServerAspNetCoreConstants.Properties.Error] = Errors.InvalidToken,
                [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = "The access token is not valid.",
            }));
            return;
        }

        var claims = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var group in principal.Claims
                     .Where(static claim => !TokenClaimTypes.Contains(claim.Type) && !claim.Type.StartsWith("oi_", StringComparison.Ordinal))
                     .GroupBy(static claim => claim.Type, StringComparer.Ordinal))
        {
            var values = group.Select(static claim => claim.Value).ToArray();
            claims[group.Key] = values.Length == 1 && group.Key != PrincipalFactory.RolesClaimType ? values[0] : values;
        }

        context.Response.ContentType = "application/json;charset=UTF-8";
        context.Response.Headers.CacheControl = "no-store";
        await JsonSerializer.SerializeAsync(context.Response.Body, claims, cancellationToken: context.RequestAborted);
    }

    private static async Task LogoutAsync(HttpContext context)
    {
        var request = context.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenID Connect request cannot be retrieved.");

        if (!string.IsNullOrEmpty(request.PostLogoutRedirectUri))
        {
            // OpenIddict validated the URI against the registered clients and redirects to it (with state).
            await context.SignOutAsync(Scheme);
            return;
        }

        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signed out</title></head>" +
            "<body><h1>Signed out</h1><p>You are signed out of the TokenAdmin test identity provider.</p></body></html>",
            context.RequestAborted);
    }

    private static async Task HomeAsync(HttpContext context)
    {
        var state = context.RequestServices.GetRequiredService<ProviderState>();
        var html = HtmlEncoder.Default;
        var users = string.Join(", ", state.Users.Keys.Order(StringComparer.Ordinal).Select(html.Encode));
        var clients = string.Join(", ", state.Clients.Keys.Order(StringComparer.Ordinal).Select(html.Encode));
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>TokenAdmin test identity provider</title></head><body>" +
            "<h1>TokenAdmin test identity provider</h1>" +
            "<p>Discovery: <a href=\"/.well-known/openid-configuration\">/.well-known/openid-configuration</a></p>" +
            $"<p>Users: {users}</p><p>Clients: {clients}</p></body></html>",
            context.RequestAborted);
    }

    private static IEnumerable<string> FilterScopes(ProviderState state, string? clientId, IEnumerable<string> scopes)
    {
        if (clientId is null || !state.Clients.TryGetValue(clientId, out var client))
        {
            return scopes;
        }

        return scopes.Where(scope => client.AllowedScopes.Contains(scope, StringComparer.Ordinal));
    }

    private static Task ForbidAsync(HttpContext context, string error, string description) =>
        context.ForbidAsync(Scheme, new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }));

    private static async Task WriteLoginPageAsync(HttpContext context, OpenIddictRequest request, string? error)
    {
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsync(LoginPage.Render(request, error), context.RequestAborted);
    }
}
