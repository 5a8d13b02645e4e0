using System.Buffers.Text;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Admin;
using TokenAdmin.Data;
using TokenAdmin.Secrets;
using TokenAdmin.Settings;

namespace TokenAdmin.Tokens;

public sealed record AuthorizationStart(string? Url, string? Error);

public sealed record AuthorizationOutcome(bool Succeeded, string Title, string Message, int? TokenConfigId = null, int? FunctionalAccountId = null);

/// <summary>
/// The authorization-code flow for every kind of token source: a random one-time state bound to the admin and to this
/// browser, PKCE S256, a nonce when openid is asked for, the RFC 9207 iss check, and the code exchange through the
/// <see cref="TokenEngine"/>. A token config's state is 256 random bits valid for 10 minutes; a functional account's
/// follows its OIDC profile (RandLength, RandTTL, UseNonce).
/// </summary>
public sealed class AuthorizationFlow(
    TokenAdminDb db,
    SettingsStore settings,
    ISecretProtector protector,
    TokenEngine engine,
    TokenStateWriter writer,
    TokenSourceKinds kinds,
    TimeProvider time)
{
    public const string BindingCookie = "tokenadmin.oauth2";
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    public async Task<AuthorizationStart> StartAsync(TokenSource source, HttpContext http, CancellationToken cancellationToken)
    {
        var (definition, endpoints, error) = await PrepareAsync(source, cancellationToken);
        if (definition is null)
        {
            return new AuthorizationStart(null, error);
        }

        var snapshot = await settings.GetAsync(cancellationToken);
        if (snapshot.IsInsecurePublicUrl)
        {
            return new AuthorizationStart(null,
                $"The redirect URI {snapshot.RedirectUri} uses plain http on a host other than this machine: the provider would send the authorization code unencrypted. " +
                $"Set the setting {PublicUrlSettings.HttpType} to https (Settings page, or `config update --setting-name {PublicUrlSettings.HttpType} --value https`) and serve TokenAdmin over https.");
        }

        // Note: the binding cookie is shared with flows in other tabs: it never lives shorter than theirs.
        var lifetime = definition.AuthorizationLifetime;
        var binding = Hash(BindBrowser(http, lifetime > Lifetime ? lifetime : Lifetime));
        var url = await CreateRequestAsync(definition, endpoints!, snapshot.RedirectUri, AdminId(http.User), binding, cancellationToken);
        return new AuthorizationStart(url, null);
    }

    /// <summary>The source and its provider's endpoints, or why the flow cannot start for it.</summary>
    private async Task<(TokenSourceDefinition? Source, ProviderEndpoints? Endpoints, string? Error)> PrepareAsync(TokenSource source, CancellationToken cancellationToken)
    {
        TokenSourceDefinition? definition;
        try
        {
            definition = await engine.FindAsync(source, cancellationToken);
        }
        catch (TokenSourceUnreadableException ex)
        {
            return (null, null, ex.Message);
        }

        if (definition is null)
        {
            return (null, null, $"This {kinds[source.Kind].Noun} no longer exists.");
        }

        if (definition.Flow != TokenFlows.AuthorizationCode)
        {
            return (null, null, $"'{definition.Name}' uses the {definition.Flow} flow; its token is requested directly, without the browser.");
        }

        if (!definition.Valid)
        {
            return (null, null, $"'{definition.Name}' is set to invalid; make it valid before requesting a token.");
        }

        ProviderEndpoints endpoints;
        try
        {
            endpoints = await definition.ResolveAsync(cancellationToken);
        }
        catch (ProviderConfigurationException ex)
        {
            return (null, null, ex.Message);
        }

        if (endpoints.AuthorizationEndpoint is null)
        {
            return (null, null, $"{definition.Title} has no authorization endpoint (the provider publishes none, or none is configured).");
        }

        return (definition, endpoints, null);
    }

    /// <summary>The random value in this browser's binding cookie (made or renewed here): the callback must come back to it.</summary>
    private static string BindBrowser(HttpContext http, TimeSpan lifetime)
    {
        var binding = http.Request.Cookies[BindingCookie];
        if (binding is null || binding.Length is < 32 or > 100)
        {
            binding = Random(32);
        }

        http.Response.Cookies.Append(BindingCookie, binding, new CookieOptions
        {
            HttpOnly = true,
            Secure = http.Request.IsHttps,
            SameSite = SameSiteMode.Lax, // the provider's redirect back is a top-level GET
            // Note: the whole site, not just /oauth2: the next "Request token" (another tab) must see and reuse it,
            // or starting a second flow would orphan the first.
            Path = http.Request.PathBase.HasValue ? http.Request.PathBase.Value : "/",
            MaxAge = lifetime,
        });
        return binding;
    }

    /// <summary>
    /// For `tokens auth-url`: a link an admin opens in a browser where they are signed in to TokenAdmin. There is no
    /// browser cookie to bind it to, so any signed-in admin may complete it; it is still one-time and expires.
    /// </summary>
    /// <exception cref="InvalidOperationException">the flow cannot start for the source (the message says why)</exception>
    public async Task<string> CreateConsoleLinkAsync(TokenSource source, CancellationToken cancellationToken)
    {
        var (definition, endpoints, error) = await PrepareAsync(source, cancellationToken);
        if (definition is null)
        {
            throw new InvalidOperationException(error);
        }

        var snapshot = await settings.GetAsync(cancellationToken);
        return await CreateRequestAsync(definition, endpoints!, snapshot.RedirectUri, ConsoleAdmin, ConsoleAdmin, cancellationToken);
    }

    private const string ConsoleAdmin = "console";

    public async Task<AuthorizationOutcome> CompleteAsync(IQueryCollection query, HttpContext http, CancellationToken cancellationToken)
    {
        var state = query["state"].ToString();
        if (state.Length == 0)
        {
            return Fail("The provider's answer has no state parameter, so it cannot be matched to a request you started. Start again with \"Request token\".");
        }

        var stateHash = Hash(state);
        var request = await db.AuthorizationRequests.SingleOrDefaultAsync(r => r.StateHash == stateHash, cancellationToken);
        if (request is null)
        {
            return Fail("This answer does not belong to any token request of TokenAdmin (unknown state). Start again with \"Request token\".");
        }

        var now = time.GetUtcNow().UtcDateTime;
        if (request.UsedAt is not null)
        {
            return Fail("This answer was already used once. A code is good for one exchange only; start again with \"Request token\".", SourceOf(request));
        }

        var binding = http.Request.Cookies[BindingCookie];
        var sameBrowser = request.BrowserBindingHash == ConsoleAdmin
            || (binding is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(request.BrowserBindingHash), Encoding.ASCII.GetBytes(Hash(binding))));
        if (!sameBrowser || (request.AdminId != ConsoleAdmin && request.AdminId != AdminId(http.User)))
        {
            return Fail("This answer belongs to a token request started in another browser session. Start again with \"Request token\" in this browser.");
        }

        // Spend the state before anything else, so a replay finds it used even if the exchange fails.
        request.UsedAt = now;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return Fail("This answer was already used once. Start again with \"Request token\".", SourceOf(request));
        }

        if (request.ExpiresAt <= now)
        {
            return Fail($"The token request expired: the provider must answer within {(request.ExpiresAt - request.CreatedAt).TotalMinutes:0.#} minutes. Start again with \"Request token\".", SourceOf(request));
        }

        var source = SourceOf(request);
        var kind = kinds[source.Kind];
        TokenSourceDefinition? definition;
        try
        {
            definition = await kind.LoadAsync(db, source.Id, tracking: true, cancellationToken);
        }
        catch (TokenSourceUnreadableException ex)
        {
            return Fail(ex.Message, source);
        }

        if (definition is null)
        {
            return Fail($"The {kind.Noun} of this request was deleted meanwhile.");
        }

        if (query["error"].ToString() is { Length: > 0 } error)
        {
            var description = query["error_description"].ToString();
            await writer.RecordAuthorizationRefusalAsync(definition, error, description, cancellationToken);
            return Outcome(false, "The provider refused the request",
                $"{Cut(error, 100)}{(description.Length > 0 ? ": " + Cut(description, 1000) : "")}", source);
        }

        ProviderEndpoints endpoints;
        try
        {
            endpoints = await definition.ResolveAsync(cancellationToken);
        }
        catch (ProviderConfigurationException ex)
        {
            return Fail(ex.Message, source);
        }

        var iss = query["iss"].ToString();
        if (iss.Length == 0 && await AnnouncesIssParameterAsync(endpoints, cancellationToken))
        {
            return Fail($"The provider of '{definition.Name}' names itself (iss) in every answer (RFC 9207), but this answer has none. It may come from another provider and was discarded.", source);
        }

        if (iss.Length > 0 && endpoints.Issuer is { } expectedIssuer && !string.Equals(iss.TrimEnd('/'), expectedIssuer.TrimEnd('/'), StringComparison.Ordinal))
        {
            return Fail($"The answer names the issuer '{Cut(iss, 200)}', but '{definition.Name}' expects '{expectedIssuer}' (RFC 9207). It may come from another provider and was discarded.", source);
        }

        var code = query["code"].ToString();
        if (code.Length == 0)
        {
            return Fail("The provider's answer has neither a code nor an error.", source);
        }

        var result = await engine.ExchangeCodeAsync(source,
            new AuthorizationCodeGrant(code, protector.Unprotect(request.CodeVerifierProtected), request.RedirectUri, request.Nonce),
            AdminAuthentication.Actor(http.User), cancellationToken);
        return result.Succeeded
            ? Outcome(true, "Token received", result.Message, source)
            : Outcome(false, "The code could not be exchanged for a token", result.Message, source);
    }

    /// <summary>
    /// Whether the provider's metadata says it sends iss with every authorization response (RFC 9207 section 3): then
    /// an answer without it is refused. A provider whose metadata cannot be read now is taken at its configured issuer.
    /// </summary>
    private static async Task<bool> AnnouncesIssParameterAsync(ProviderEndpoints endpoints, CancellationToken cancellationToken)
    {
        if (endpoints.IdTokenChecker is not { } checker)
        {
            return false;
        }

        try
        {
            return (await checker.Metadata.GetAsync(cancellationToken)).AuthorizationResponseIssParameterSupported;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private async Task<string> CreateRequestAsync(
        TokenSourceDefinition source, ProviderEndpoints endpoints, string redirectUri, string adminId, string bindingHash, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        // Expired requests are useless; dropping them here keeps the table small without a job.
        await db.AuthorizationRequests.Where(r => r.ExpiresAt < now.AddDays(-1)).ExecuteDeleteAsync(cancellationToken);

        string NewRandom() => source.StateLength is { } length ? Random(length, exactLength: true) : Random(32);
        var state = NewRandom();
        var verifier = Random(32);
        var challenge = Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var nonce = source.WantsNonce ? NewRandom() : null;
        db.AuthorizationRequests.Add(new AuthorizationRequest
        {
            StateHash = Hash(state),
            TokenConfigId = source.Source.Kind == TokenSourceKind.TokenConfig ? source.Source.Id : null,
            FunctionalAccountId = source.Source.Kind == TokenSourceKind.FunctionalAccount ? source.Source.Id : null,
            CodeVerifierProtected = protector.Protect(verifier),
            Nonce = nonce,
            RedirectUri = redirectUri,
            AdminId = adminId,
            BrowserBindingHash = bindingHash,
            CreatedAt = now,
            ExpiresAt = now + source.AuthorizationLifetime,
        });
        await db.SaveChangesAsync(cancellationToken);

        // The source's own parameters first; the protocol's own cannot be overridden by them.
        var parameters = new Dictionary<string, string?>(source.AuthorizationParameters.ToDictionary(p => p.Key, p => (string?)p.Value))
        {
            ["response_type"] = "code",
            ["client_id"] = source.ClientId,
            ["redirect_uri"] = redirectUri,
            ["state"] = state,
            ["code_challenge"] = challenge,
            ["code_challenge_method"] = "S256",
        };
        if (source.Scope.Length > 0)
        {
            parameters["scope"] = source.Scope;
        }

        // prompt, login_hint, domain_hint set on the source win over the same keys typed as extra parameters.
        source.SignIn.ApplyTo(parameters);

        if (nonce is not null)
        {
            parameters["nonce"] = nonce;
        }

        // Resource indicators are sent the same way as in the token request: one parameter each, or one space-joined value.
        return QueryHelpers.AddQueryString(endpoints.AuthorizationEndpoint!, [.. parameters, .. source.Resources.Select(r => new KeyValuePair<string, string?>(r.Key, r.Value))]);
    }

    private static TokenSource SourceOf(AuthorizationRequest request) =>
        request.FunctionalAccountId is { } accountId ? TokenSource.Account(accountId) : TokenSource.Config(request.TokenConfigId!.Value);

    private static AuthorizationOutcome Fail(string message, TokenSource? source = null) => Outcome(false, "The token request could not be completed", message, source);

    private static AuthorizationOutcome Outcome(bool succeeded, string title, string message, TokenSource? source) => new(succeeded, title, message,
        source is { Kind: TokenSourceKind.TokenConfig } config ? config.Id : null,
        source is { Kind: TokenSourceKind.FunctionalAccount } account ? account.Id : null);

    private static string AdminId(ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.NameIdentifier) ?? "anonymous";

    private static string Random(int bytes) => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(bytes));

    /// <summary>A random base64url string of exactly <paramref name="length"/> characters (6 random bits each).</summary>
    private static string Random(int length, bool exactLength) =>
        exactLength ? Random((length * 3 + 3) / 4)[..length] : Random(length);

    private static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    private static string Cut(string value, int max) => value.Length <= max ? value : value[..max];
}
