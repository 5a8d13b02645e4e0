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
/// The authorization-code flow: a random one-time state bound to the admin and to this browser, PKCE S256, a nonce
/// when openid is asked for, the RFC 9207 iss check, and the code exchange.
/// </summary>
public sealed class AuthorizationFlow(
    TokenAdminDb db,
    SettingsStore settings,
    ISecretProtector protector,
    TokenOperations operations,
    TokenStateEvents events,
    Oidc.OidcProfileRuntime profiles,
    FunctionalAccounts.AccountTokenOperations accountOperations,
    TimeProvider time)
{
    public const string BindingCookie = "tokenadmin.oauth2";
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    public async Task<AuthorizationStart> StartAsync(int configId, HttpContext http, CancellationToken cancellationToken)
    {
        var config = await db.TokenConfigs.AsNoTracking().SingleOrDefaultAsync(c => c.Id == configId, cancellationToken);
        if (config is null)
        {
            return new AuthorizationStart(null, "This token config no longer exists.");
        }

        var document = TokenConfigYaml.Parse(config.Yaml);
        if (document.Flow != TokenFlows.AuthorizationCode)
        {
            return new AuthorizationStart(null, $"'{config.Name}' uses the {document.Flow} flow; its token is requested directly, without the browser.");
        }

        if (!config.Valid)
        {
            return new AuthorizationStart(null, $"'{config.Name}' is set to invalid; make it valid before requesting a token.");
        }

        var snapshot = await settings.GetAsync(cancellationToken);
        if (snapshot.IsInsecurePublicUrl)
        {
            return new AuthorizationStart(null,
                $"The redirect URI {snapshot.RedirectUri} uses plain http on a host other than this machine: the provider would send the authorization code unencrypted. " +
                $"Set the setting {SettingNames.HttpType} to https (Settings page, or `config update --setting-name {SettingNames.HttpType} --value https`) and serve TokenAdmin over https.");
        }

        var url = await CreateRequestAsync(config, document, snapshot.RedirectUri, AdminId(http.User), Hash(BindBrowser(http, Lifetime)), cancellationToken);
        return new AuthorizationStart(url, null);
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
    /// The authorization-code flow for a functional account: the profile's authorization endpoint (discovery), state and
    /// nonce of the profile's RandLength, valid for its RandTTL, a nonce when UseNonce is on and openid is asked for.
    /// </summary>
    public async Task<AuthorizationStart> StartForAccountAsync(int accountId, HttpContext http, CancellationToken cancellationToken)
    {
        var account = await db.FunctionalAccounts.AsNoTracking().Include(a => a.Profile).SingleOrDefaultAsync(a => a.Id == accountId, cancellationToken);
        if (account is null)
        {
            return new AuthorizationStart(null, "This functional account no longer exists.");
        }

        if (account.GrantType != FunctionalAccounts.AccountGrantTypes.AuthorizationCode)
        {
            return new AuthorizationStart(null, $"'{account.Name}' uses the {account.GrantType} grant; Renew gets its token without the browser.");
        }

        if (!account.Valid)
        {
            return new AuthorizationStart(null, $"'{account.Name}' is set to invalid; make it valid before requesting a token.");
        }

        var snapshot = await settings.GetAsync(cancellationToken);
        if (snapshot.IsInsecurePublicUrl)
        {
            return new AuthorizationStart(null,
                $"The redirect URI {snapshot.RedirectUri} uses plain http on a host other than this machine. Set {SettingNames.HttpType} to https and serve TokenAdmin over https.");
        }

        var profile = account.Profile!;
        string authorizationEndpoint;
        try
        {
            authorizationEndpoint = (await profiles.MetadataFor(profile).GetAsync(cancellationToken)).AuthorizationEndpoint;
        }
        catch (Exception ex) when (ex is InvalidOperationException or Oidc.ProfileTlsException)
        {
            return new AuthorizationStart(null, $"Profile '{profile.Name}': {ex.Message}");
        }

        if (string.IsNullOrEmpty(authorizationEndpoint))
        {
            return new AuthorizationStart(null, $"The provider of profile '{profile.Name}' publishes no authorization_endpoint.");
        }

        if (Oidc.OidcProfileRuntime.RequiresHttps(authorizationEndpoint) && !authorizationEndpoint.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            return new AuthorizationStart(null, $"The provider of profile '{profile.Name}' names an authorization endpoint with plain http ({authorizationEndpoint}); the sign-in would travel unencrypted. Fix the provider's public URL.");
        }

        var lifetime = TimeSpan.FromSeconds(profile.RandTtlSeconds);
        // Note: the binding cookie is shared with token-config flows in other tabs: it never lives shorter than theirs.
        var bindingHash = Hash(BindBrowser(http, lifetime > Lifetime ? lifetime : Lifetime));
        var now = time.GetUtcNow().UtcDateTime;
        await db.AuthorizationRequests.Where(r => r.ExpiresAt < now.AddDays(-1)).ExecuteDeleteAsync(cancellationToken);
        var state = Random(profile.RandLength, exactLength: true);
        var verifier = Random(32);
        var openid = account.Scope.Split(' ').Contains("openid");
        var nonce = profile.UseNonce && openid ? Random(profile.RandLength, exactLength: true) : null;
        db.AuthorizationRequests.Add(new AuthorizationRequest
        {
            StateHash = Hash(state),
            FunctionalAccountId = account.Id,
            CodeVerifierProtected = protector.Protect(verifier),
            Nonce = nonce,
            RedirectUri = snapshot.RedirectUri,
            AdminId = AdminId(http.User),
            BrowserBindingHash = bindingHash,
            CreatedAt = now,
            ExpiresAt = now + lifetime,
        });
        await db.SaveChangesAsync(cancellationToken);

        var parameters = new List<KeyValuePair<string, string?>>
        {
            new("response_type", "code"),
            new("client_id", profile.ClientId),
            new("redirect_uri", snapshot.RedirectUri),
            new("state", state),
            new("code_challenge", WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)))),
            new("code_challenge_method", "S256"),
        };
        if (account.Scope.Length > 0)
        {
            parameters.Add(new("scope", account.Scope));
        }

        if (nonce is not null)
        {
            parameters.Add(new("nonce", nonce));
        }

        var resources = (account.Resources ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (resources.Length > 0)
        {
            // Sent the same way as in the token request: one parameter each, or one space-joined value.
            parameters.AddRange(account.ResourcePerParameter
                ? resources.Select(r => new KeyValuePair<string, string?>(account.ResourceParameterName, r))
                : [new(account.ResourceParameterName, string.Join(' ', resources))]);
        }

        return new AuthorizationStart(QueryHelpers.AddQueryString(authorizationEndpoint, parameters), null);
    }

    private async Task<AuthorizationOutcome> CompleteForAccountAsync(AuthorizationRequest request, IQueryCollection query, HttpContext http, CancellationToken cancellationToken)
    {
        var account = await db.FunctionalAccounts.AsNoTracking().Include(a => a.Profile).SingleOrDefaultAsync(a => a.Id == request.FunctionalAccountId, cancellationToken);
        if (account is null)
        {
            return Fail("The functional account of this request was deleted meanwhile.");
        }

        if (query["error"].ToString() is { Length: > 0 } error)
        {
            var description = query["error_description"].ToString();
            AuditLog.Add(db, time, "provider", "functional-account.authorization-refused", account.Name, $"{Cut(error, 100)}: {Cut(description, 1000)}");
            await db.SaveChangesAsync(cancellationToken);
            return new AuthorizationOutcome(false, "The provider refused the request",
                $"{Cut(error, 100)}{(description.Length > 0 ? ": " + Cut(description, 1000) : "")}", FunctionalAccountId: account.Id);
        }

        var iss = query["iss"].ToString();
        if (iss.Length > 0)
        {
            try
            {
                var issuer = (await profiles.MetadataFor(account.Profile!).GetAsync(cancellationToken)).Issuer;
                if (!string.Equals(iss.TrimEnd('/'), issuer.TrimEnd('/'), StringComparison.Ordinal))
                {
                    return new AuthorizationOutcome(false, "The token request could not be completed",
                        $"The answer names the issuer '{Cut(iss, 200)}', but profile '{account.Profile!.Name}' is '{issuer}' (RFC 9207). It may come from another provider and was discarded.", FunctionalAccountId: account.Id);
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or Oidc.ProfileTlsException)
            {
                return new AuthorizationOutcome(false, "The token request could not be completed", $"Profile '{account.Profile!.Name}': {ex.Message}", FunctionalAccountId: account.Id);
            }
        }

        var code = query["code"].ToString();
        if (code.Length == 0)
        {
            return new AuthorizationOutcome(false, "The token request could not be completed", "The provider's answer has neither a code nor an error.", FunctionalAccountId: account.Id);
        }

        var result = await accountOperations.ExchangeCodeAsync(account.Id,
            new FunctionalAccounts.AuthorizationCodeGrant(code, protector.Unprotect(request.CodeVerifierProtected), request.RedirectUri, request.Nonce),
            AdminAuthentication.Actor(http.User), cancellationToken);
        return result.Succeeded
            ? new AuthorizationOutcome(true, "Token received", result.Message, FunctionalAccountId: account.Id)
            : new AuthorizationOutcome(false, "The code could not be exchanged for a token", result.Message, FunctionalAccountId: account.Id);
    }

    /// <summary>
    /// For `tokens auth-url`: a link an admin opens in a browser where they are signed in to TokenAdmin. There is no
    /// browser cookie to bind it to, so any signed-in admin may complete it; it is still one-time and expires.
    /// </summary>
    public async Task<string> CreateConsoleLinkAsync(TokenConfig config, CancellationToken cancellationToken)
    {
        var snapshot = await settings.GetAsync(cancellationToken);
        return await CreateRequestAsync(config, TokenConfigYaml.Parse(config.Yaml), snapshot.RedirectUri, ConsoleAdmin, ConsoleAdmin, cancellationToken);
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
            return Fail("This answer was already used once. A code is good for one exchange only; start again with \"Request token\".", request.TokenConfigId);
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
            return Fail("This answer was already used once. Start again with \"Request token\".", request.TokenConfigId);
        }

        if (request.ExpiresAt <= now)
        {
            return Fail($"The token request expired: the provider must answer within {(request.ExpiresAt - request.CreatedAt).TotalMinutes:0.#} minutes. Start again with \"Request token\".", request.TokenConfigId);
        }

        if (request.FunctionalAccountId is not null)
        {
            return await CompleteForAccountAsync(request, query, http, cancellationToken);
        }

        var config = await db.TokenConfigs.Include(c => c.State).SingleOrDefaultAsync(c => c.Id == request.TokenConfigId, cancellationToken);
        if (config is null)
        {
            return Fail("The token config of this request was deleted meanwhile.");
        }

        var document = TokenConfigYaml.Parse(config.Yaml);
        if (query["error"].ToString() is { Length: > 0 } error)
        {
            var description = query["error_description"].ToString();
            await RecordProviderErrorAsync(config, error, description, cancellationToken);
            return new AuthorizationOutcome(false, "The provider refused the request",
                $"{Cut(error, 100)}{(description.Length > 0 ? ": " + Cut(description, 1000) : "")}", config.Id);
        }

        var iss = query["iss"].ToString();
        var expectedIssuer = document.Issuer?.Replace("{tenant}", document.Tenant ?? "", StringComparison.Ordinal);
        if (iss.Length > 0 && expectedIssuer is not null && !string.Equals(iss.TrimEnd('/'), expectedIssuer.TrimEnd('/'), StringComparison.Ordinal))
        {
            return Fail($"The answer names the issuer '{Cut(iss, 200)}', but '{config.Name}' expects '{expectedIssuer}' (RFC 9207). It may come from another provider and was discarded.", config.Id);
        }

        var code = query["code"].ToString();
        if (code.Length == 0)
        {
            return Fail("The provider's answer has neither a code nor an error.", config.Id);
        }

        var result = await operations.ExchangeCodeAsync(
            config, document, code, protector.Unprotect(request.CodeVerifierProtected), request.RedirectUri, request.Nonce,
            AdminAuthentication.Actor(http.User), cancellationToken);
        return result.Succeeded
            ? new AuthorizationOutcome(true, "Token received", result.Message, config.Id)
            : new AuthorizationOutcome(false, "The code could not be exchanged for a token", result.Message, config.Id);
    }

    private async Task<string> CreateRequestAsync(
        TokenConfig config, TokenConfigDocument document, string redirectUri, string adminId, string bindingHash, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        // Expired requests are useless; dropping them here keeps the table small without a job.
        await db.AuthorizationRequests.Where(r => r.ExpiresAt < now.AddDays(-1)).ExecuteDeleteAsync(cancellationToken);

        var state = Random(32);
        var verifier = Random(32);
        var challenge = WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var scopes = document.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var nonce = scopes.Contains("openid") ? Random(24) : null;
        db.AuthorizationRequests.Add(new AuthorizationRequest
        {
            StateHash = Hash(state),
            TokenConfigId = config.Id,
            CodeVerifierProtected = protector.Protect(verifier),
            Nonce = nonce,
            RedirectUri = redirectUri,
            AdminId = adminId,
            BrowserBindingHash = bindingHash,
            CreatedAt = now,
            ExpiresAt = now + Lifetime,
        });
        await db.SaveChangesAsync(cancellationToken);

        var parameters = new Dictionary<string, string?>(document.Parameters.Authorization.ToDictionary(p => p.Key, p => (string?)p.Value))
        {
            ["response_type"] = "code",
            ["client_id"] = document.ClientId,
            ["redirect_uri"] = redirectUri,
            ["state"] = state,
            ["code_challenge"] = challenge,
            ["code_challenge_method"] = "S256",
        };
        if (document.Scope.Length > 0)
        {
            parameters["scope"] = document.Scope;
        }

        if (nonce is not null)
        {
            parameters["nonce"] = nonce;
        }

        return QueryHelpers.AddQueryString(TokenOperations.EndpointUrl(document.Endpoints.Authorization!, document), parameters);
    }

    private async Task RecordProviderErrorAsync(TokenConfig config, string error, string description, CancellationToken cancellationToken)
    {
        var state = config.State ??= new TokenState { TokenConfigId = config.Id };
        state.LastErrorCode = Cut(error, 100);
        state.LastErrorDescription = Cut(description, 1000);
        state.LastErrorAt = time.GetUtcNow().UtcDateTime;
        state.Version = Guid.NewGuid().ToString("N");
        AuditLog.Add(db, time, "provider", "token.authorization-refused", config.Name, $"{state.LastErrorCode}: {state.LastErrorDescription}");
        await db.SaveChangesAsync(cancellationToken);
        events.Changed(config.Id);
    }

    private static AuthorizationOutcome Fail(string message, int? configId = null) => new(false, "The token request could not be completed", message, configId);

    private static string AdminId(ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.NameIdentifier) ?? "anonymous";

    private static string Random(int bytes) => WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(bytes));

    /// <summary>A random base64url string of exactly <paramref name="length"/> characters (6 random bits each).</summary>
    private static string Random(int length, bool exactLength) =>
        exactLength ? Random((length * 3 + 3) / 4)[..length] : Random(length);

    private static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    private static string Cut(string value, int max) => value.Length <= max ? value : value[..max];
}
