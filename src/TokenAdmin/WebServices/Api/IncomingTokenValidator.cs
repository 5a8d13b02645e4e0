using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TokenAdmin.Data;
using TokenAdmin.FunctionalAccounts;
using TokenAdmin.Oidc;
using TokenAdmin.Providers;

namespace TokenAdmin.WebServices.Api;

/// <summary>Who called the API: the API user the token's UID claim names, with its roles, through which profile.</summary>
public sealed record ApiCaller(string Login, IReadOnlyList<string> Roles, string Profile, DateTimeOffset ExpiresAt, int ProfileId = 0);

/// <summary>
/// Why a bearer token was refused. <see cref="Status"/> is 401 (a bad token), 403 (a good token without the rights)
/// or 503 (the provider could not be asked); <see cref="Description"/> helps the caller without naming internals.
/// </summary>
public sealed record IncomingTokenFailure(int Status, string Error, string Description)
{
    public static IncomingTokenFailure InvalidToken(string description) => new(StatusCodes.Status401Unauthorized, "invalid_token", description);

    public static IncomingTokenFailure InsufficientScope(string description) => new(StatusCodes.Status403Forbidden, "insufficient_scope", description);

    public static IncomingTokenFailure Unavailable(string description) => new(StatusCodes.Status503ServiceUnavailable, "temporarily_unavailable", description);
}

public sealed record IncomingTokenResult(ApiCaller? Caller, IncomingTokenFailure? Failure);

/// <summary>
/// Checks a bearer token of an incoming API call against the OIDC profiles that accept incoming tokens, in their
/// order: its issuer picks the profiles to try; each checks signature (JWKS, an unknown key id refetches the keys once,
/// rate-limited), issuer, audience, lifetime with the profile's leeway, nbf and the algorithm allow-list
/// (<see cref="ProviderTokenValidator"/>), then the profile's restrictions (AuthorizedParty, UserLogin, Scope).
/// The UID claim names the API user; when the profile allows it the user is created or updated through the RoleMap
/// and UserMap. Accepted tokens are remembered by their SHA-256 for a short while (never beyond their expiry).
/// </summary>
public sealed partial class IncomingTokenValidator(
    IServiceScopeFactory scopes, OidcProfileRuntime runtime, TimeProvider time, ILogger<IncomingTokenValidator> logger) : IDisposable
{
    /// <summary>Longer bearer tokens are refused before any parsing (Entra tokens with many groups stay far below).</summary>
    public const int MaxTokenLength = 16 * 1024;

    /// <summary>
    /// How long an accepted token's checked identity (signature, issuer, audience, restrictions) is remembered; the API
    /// user's Valid flag, profile and roles are read again on every call, so a change takes effect at once.
    /// </summary>
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(60);

    /// <summary>At most this many accepted tokens are remembered.</summary>
    public const int CacheCapacity = 10_000;

    private static readonly TimeSpan ProfileListLifetime = TimeSpan.FromSeconds(30);
    private static readonly JsonWebTokenHandler Reader = new() { MapInboundClaims = false };

    private readonly ConcurrentDictionary<string, CachedCaller> _accepted = new(StringComparer.Ordinal);
    private volatile ProfileList? _profiles;
    private readonly SemaphoreSlim _userWrites = new(1, 1);

    private sealed record CachedCaller(ApiCaller Caller, DateTimeOffset Until, long Generation);

    private sealed record ProfileList(IReadOnlyList<OidcProfile> Profiles, DateTimeOffset Until, long Generation);

    public async Task<IncomingTokenResult> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        if (token.Length > MaxTokenLength)
        {
            return Refused($"The bearer token is longer than {MaxTokenLength} characters.");
        }

        var now = time.GetUtcNow();
        var generation = runtime.Generation;
        var key = Hash(token);
        if (_accepted.TryGetValue(key, out var cached))
        {
            if (cached.Until > now && cached.Generation == generation)
            {
                // Note: the token is not checked again, but the user is: disabling it or taking a role works at once.
                return await CurrentUserAsync(cached.Caller, cancellationToken);
            }

            _accepted.TryRemove(key, out _);
        }

        IncomingTokenResult result;
        try
        {
            result = await CheckAsync(token, now, cancellationToken);
        }
        catch (Exception ex) when (IsDatabaseError(ex) && !cancellationToken.IsCancellationRequested)
        {
            LogDatabaseError(logger, ex);
            return new IncomingTokenResult(null, IncomingTokenFailure.Unavailable("The API user could not be read or saved (the database is busy or unreachable); try again later."));
        }

        if (result.Caller is { } caller)
        {
            Remember(key, new CachedCaller(caller, Min(caller.ExpiresAt, now + CacheLifetime), generation), now);
        }

        return result;
    }

    private async Task<IncomingTokenResult> CheckAsync(string token, DateTimeOffset now, CancellationToken cancellationToken)
    {
        JsonWebToken jwt;
        try
        {
            jwt = Reader.ReadJsonWebToken(token);
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenMalformedException or JsonException or FormatException)
        {
            return Refused("The bearer token is not a JWT (three base64url parts with a JSON header and payload); opaque tokens are not accepted here.");
        }

        if (jwt.TryGetHeaderValue<string>("nonce", out _))
        {
            // Note: Microsoft signs Graph access tokens over a hash of this nonce, so no one but Graph can verify them.
            return Refused("This is a Microsoft Graph access token (its header carries a nonce): it is meant for Microsoft Graph only and cannot be validated by any other API. Request a token for this API instead (scope api://<client id>/.default or one of its own scopes).");
        }

        if (jwt.TryGetPayloadValue<object>("nonce", out _) || jwt.TryGetPayloadValue<object>("at_hash", out _)
            || (jwt.TryGetPayloadValue<string>("typ", out var payloadType) && payloadType.Equals("ID", StringComparison.OrdinalIgnoreCase))
            || (jwt.Typ is { } headerType && headerType.Contains("id_token", StringComparison.OrdinalIgnoreCase)))
        {
            // Note: an ID token proves a sign-in to its client; whoever holds one must not be able to call APIs with it.
            return Refused("The bearer token is an ID token (it carries a nonce or at_hash claim, or its typ says so); this API accepts access tokens only.");
        }

        if (!DeclaresAccessToken(jwt) && HasIdTokenShape(jwt))
        {
            return Refused("The bearer token has the shape of an ID token (issued to the very client it is meant for, or a sign-in time without any scope); this API accepts access tokens only. A token that says typ at+jwt is taken as an access token.");
        }

        var algorithm = jwt.Alg;
        if (string.IsNullOrEmpty(algorithm) || algorithm.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return Refused("The bearer token is not signed (alg none).");
        }

        if (!ProviderTokenValidator.Algorithms.Contains(algorithm, StringComparer.Ordinal))
        {
            return Refused(algorithm.StartsWith("HS", StringComparison.OrdinalIgnoreCase)
                ? $"The bearer token is signed with '{algorithm}', a shared-secret algorithm; only asymmetric algorithms (RS*, PS*, ES*) are accepted."
                : $"The bearer token is signed with '{algorithm}'; accepted: {string.Join(", ", ProviderTokenValidator.Algorithms)}.");
        }

        var issuer = jwt.Issuer;
        if (string.IsNullOrEmpty(issuer))
        {
            return Refused("The bearer token has no iss (issuer) claim.");
        }

        var profiles = await ProfilesAsync(now, cancellationToken);
        if (profiles.Count == 0)
        {
            return Refused("This TokenAdmin accepts no API tokens: no OIDC profile accepts incoming tokens.");
        }

        var tenant = jwt.TryGetPayloadValue<string>("tid", out var tid) ? tid : null;
        IncomingTokenFailure? first = null;
        var unreachable = false;
        foreach (var profile in profiles)
        {
            Microsoft.IdentityModel.Protocols.OpenIdConnect.OpenIdConnectConfiguration configuration;
            ProviderMetadata metadata;
            try
            {
                metadata = runtime.MetadataFor(profile);
                configuration = await metadata.GetAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is InvalidOperationException or ProfileTlsException or Secrets.SecretUnreadableException)
            {
                LogProviderUnreachable(logger, profile.Name, ex.Message);
                unreachable = true;
                continue;
            }

            if (!AzureIssuers.Matches(configuration.Issuer, issuer, tenant))
            {
                continue;
            }

            if (OidcProfileService.IsTenantTemplate(configuration.Issuer) && profile.RestrictAuthorizedParty is null && profile.RestrictUserLogin is null)
            {
                // Note: the profile was saved before its provider turned multi-tenant; saving it now asks for a restriction.
                first ??= IncomingTokenFailure.InvalidToken("This API does not accept tokens of every tenant: an admin must set Restrict: AuthorizedParty or Restrict: UserLogin on the OIDC profile.");
                continue;
            }

            var outcome = await CheckWithProfileAsync(token, profile, metadata, issuer, cancellationToken);
            if (outcome.Caller is not null)
            {
                return outcome;
            }

            first ??= outcome.Failure;
        }

        if (first is not null)
        {
            return new IncomingTokenResult(null, first);
        }

        return unreachable
            ? new IncomingTokenResult(null, IncomingTokenFailure.Unavailable("The token's provider could not be reached to check it; try again later."))
            : Refused($"The bearer token's issuer '{Cut(issuer)}' is not accepted here: no OIDC profile that accepts incoming tokens has this issuer.");
    }

    private async Task<IncomingTokenResult> CheckWithProfileAsync(string token, OidcProfile profile, ProviderMetadata metadata, string issuer, CancellationToken cancellationToken)
    {
        var audiences = Audiences(profile);
        if (audiences.Count == 0)
        {
            // Note: the client id was the default once, and it is exactly an ID token's audience.
            return Refused($"OIDC profile '{Cut(profile.Name)}' has no Restrict: Audience, which is required to accept incoming tokens; an admin must set the audience of this API on it.");
        }

        var parameters = ProviderTokenValidator.Parameters(audiences, TimeSpan.FromSeconds(profile.LeewaySeconds));
        // Note: the issuer was matched against the profile's (templates and Entra's v1 form included) before.
        parameters.ValidIssuers = [issuer];
        var check = await ProviderTokenValidator.ValidateAsync(token, parameters, metadata, "bearer token");
        if (!check.Valid)
        {
            return check.ProviderUnreachable
                ? new IncomingTokenResult(null, IncomingTokenFailure.Unavailable("The token's provider could not be reached to check its keys; try again later."))
                : Refused(check.Error!);
        }

        var claims = check.Claims;
        if (profile.RestrictAuthorizedParty is { } party)
        {
            // Entra v1 access tokens name the client in appid, v2 ones in azp.
            var azp = ClaimMaps.Text(claims, "azp") ?? ClaimMaps.Text(claims, "appid");
            if (azp is null)
            {
                return Refused("The bearer token has no azp (authorized party) claim, which this API requires.");
            }

            if (!string.Equals(azp, party, StringComparison.Ordinal))
            {
                return Refused($"The bearer token's authorized party (azp) '{Cut(azp)}' is not accepted.");
            }
        }

        var login = ClaimMaps.Text(claims, profile.UidClaim)?.Trim();
        if (string.IsNullOrEmpty(login))
        {
            return Refused($"The bearer token has no '{profile.UidClaim}' claim to name the API user.");
        }

        if (login.Any(char.IsControl))
        {
            // Note: the login becomes a stored API user name, shown in pages, logs and console output.
            return Refused($"The bearer token's '{profile.UidClaim}' claim holds control characters; it cannot name an API user.");
        }

        if (profile.RestrictUserLogin is { } allowed
            && !allowed.Split([' ', ',', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Any(a => ApiUser.Normalize(a) == ApiUser.Normalize(login)))
        {
            return Refused($"The bearer token's user '{Cut(login)}' may not use this API.");
        }

        if (profile.RestrictScope is { } required)
        {
            var granted = Scopes(claims);
            var missing = required.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(s => !granted.Contains(s)).ToList();
            if (missing.Count > 0)
            {
                return new IncomingTokenResult(null, IncomingTokenFailure.InsufficientScope(
                    $"The bearer token lacks the scope {string.Join(" ", missing)} (looked for in scope, scp and roles)."));
            }
        }

        var expires = check.ExpiresAt is { } exp ? new DateTimeOffset(DateTime.SpecifyKind(exp, DateTimeKind.Utc)) : time.GetUtcNow() + CacheLifetime;
        var refusal = await ImportAsync(profile, claims, login, cancellationToken);
        return refusal is not null
            ? new IncomingTokenResult(null, refusal)
            : await CurrentUserAsync(new ApiCaller(login, [], profile.Name, expires, profile.Id), cancellationToken);
    }

    /// <summary>
    /// The caller with the API user's current roles, read on every call (one indexed query): a missing or disabled
    /// user, or one that belongs to another OIDC profile (or to none: made by hand and never linked), is refused.
    /// </summary>
    private async Task<IncomingTokenResult> CurrentUserAsync(ApiCaller caller, CancellationToken cancellationToken)
    {
        try
        {
            using var scope = scopes.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<TokenAdminDb>();
            var normalized = ApiUser.Normalize(caller.Login);
            var user = await db.ApiUsers.AsNoTracking().Where(u => u.NormalizedLogin == normalized)
                .Select(u => new { u.Valid, u.OidcProfileId, u.MappedRoles, u.ManualRoles }).SingleOrDefaultAsync(cancellationToken);
            if (user is null)
            {
                return new IncomingTokenResult(caller with { Roles = [] }, null);
            }

            if (user.OidcProfileId != caller.ProfileId)
            {
                return new IncomingTokenResult(null, IncomingTokenFailure.InsufficientScope(
                    $"The API user '{Cut(caller.Login)}' is not linked to the OIDC profile that accepted this token; an admin links a user to a profile with `import-user --profile NAME`."));
            }

            if (!user.Valid)
            {
                return new IncomingTokenResult(null, IncomingTokenFailure.InsufficientScope($"The API user '{Cut(caller.Login)}' is disabled."));
            }

            var roles = new ApiUser { MappedRoles = user.MappedRoles, ManualRoles = user.ManualRoles }.Roles;
            return new IncomingTokenResult(caller with { Roles = roles }, null);
        }
        catch (Exception ex) when (IsDatabaseError(ex) && !cancellationToken.IsCancellationRequested)
        {
            LogDatabaseError(logger, ex);
            return new IncomingTokenResult(null, IncomingTokenFailure.Unavailable("The API user could not be read (the database is busy or unreachable); try again later."));
        }
    }

    private static bool IsDatabaseError(Exception ex) =>
        ex is Microsoft.Data.Sqlite.SqliteException or DbUpdateException or System.Data.Common.DbException or TimeoutException
        || (ex is InvalidOperationException && ex.InnerException is System.Data.Common.DbException);

    /// <summary>Creates or updates the API user from the token when the profile allows it; a refusal, or null.</summary>
    private async Task<IncomingTokenFailure?> ImportAsync(
        OidcProfile profile, JsonElement claims, string login, CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenAdminDb>();
        if (profile.CreateApiUsers)
        {
            IReadOnlyList<RoleRule> roleMap;
            IReadOnlyDictionary<string, string> userMap;
            try
            {
                roleMap = ClaimMaps.ParseRoleMap(profile.RoleMapYaml);
                userMap = ClaimMaps.ParseUserMap(profile.UserMapYaml);
            }
            catch (ClaimMapException ex)
            {
                LogBadClaimMap(logger, profile.Name, ex.Message);
                return IncomingTokenFailure.InsufficientScope("The API user cannot be mapped: the OIDC profile's claim maps are broken; ask an admin.");
            }

            var importer = scope.ServiceProvider.GetRequiredService<ApiUserImporter>();
            // Note: one import at a time in this process, so the first calls of a new user (often several at once)
            // create it once; only tokens not remembered yet come here.
            await _userWrites.WaitAsync(cancellationToken);
            try
            {
                // Note: a profile never takes over a user of another profile, nor one made by hand (linkUnlinked false).
                var plan = await importer.PlanAsync(claims, profile.UidClaim, roleMap, userMap, profile.Id, linkUnlinked: false, cancellationToken);
                if (plan.Refusal is not null)
                {
                    return IncomingTokenFailure.InsufficientScope(Cut(plan.Refusal, 300));
                }

                if (plan.Changes.Count > 0)
                {
                    try
                    {
                        await importer.ApplyAsync(plan, profile.Id, "api:" + profile.Name, cancellationToken);
                    }
                    catch (DbUpdateException)
                    {
                        // Note: another node created the user meanwhile; read it below.
                        db.ChangeTracker.Clear();
                    }
                }
            }
            finally
            {
                _userWrites.Release();
            }
        }

        return null;
    }

    /// <summary>Accepted audiences: the profile's list. Empty accepts nothing (there is no default: see <see cref="HasIdTokenShape"/>).</summary>
    public static IReadOnlyList<string> Audiences(OidcProfile profile) => OidcProfileService.Lines(profile.RestrictAudience);

    /// <summary>An RFC 9068 access token says so in its header (typ at+jwt); such a token is not judged by its shape.</summary>
    private static bool DeclaresAccessToken(JsonWebToken jwt) =>
        jwt.Typ is { } typ && (typ.Equals("at+jwt", StringComparison.OrdinalIgnoreCase) || typ.Equals("application/at+jwt", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// An ID token without nonce or at_hash still looks like one: its only audience is the client it was issued to
    /// (azp), it carries c_hash or s_hash, or it records a sign-in (auth_time) without granting any scope.
    /// </summary>
    public static bool HasIdTokenShape(JsonWebToken jwt)
    {
        if (jwt.TryGetPayloadValue<object>("c_hash", out _) || jwt.TryGetPayloadValue<object>("s_hash", out _))
        {
            return true;
        }

        var audiences = jwt.Audiences.ToList();
        if (jwt.TryGetPayloadValue<string>("azp", out var azp) && audiences.Count == 1 && string.Equals(audiences[0], azp, StringComparison.Ordinal))
        {
            return true;
        }

        return jwt.TryGetPayloadValue<object>("auth_time", out _)
            && !jwt.TryGetPayloadValue<object>("scope", out _) && !jwt.TryGetPayloadValue<object>("scp", out _)
            && !jwt.TryGetPayloadValue<object>("client_id", out _);
    }

    /// <summary>What a token grants: the words of scope (a string or an array) and scp, and the roles claim (Entra application permissions).</summary>
    public static HashSet<string> Scopes(JsonElement claims)
    {
        var granted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in new[] { "scope", "scp", "roles" })
        {
            if (claims.ValueKind != JsonValueKind.Object || !claims.TryGetProperty(name, out var value))
            {
                continue;
            }

            if (value.ValueKind == JsonValueKind.String)
            {
                granted.UnionWith(value.GetString()!.Split(' ', StringSplitOptions.RemoveEmptyEntries));
            }
            else if (value.ValueKind == JsonValueKind.Array)
            {
                granted.UnionWith(value.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).SelectMany(e => e.GetString()!.Split(' ', StringSplitOptions.RemoveEmptyEntries)));
            }
        }

        return granted;
    }

    private async Task<IReadOnlyList<OidcProfile>> ProfilesAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var generation = runtime.Generation;
        if (_profiles is { } list && list.Until > now && list.Generation == generation)
        {
            return list.Profiles;
        }

        using var scope = scopes.CreateScope();
        var profiles = await scope.ServiceProvider.GetRequiredService<TokenAdminDb>().OidcProfiles.AsNoTracking()
            .Where(p => p.AcceptIncomingTokens)
            .OrderBy(p => p.IncomingOrder).ThenBy(p => p.Id)
            .ToListAsync(cancellationToken);
        _profiles = new ProfileList(profiles, now + ProfileListLifetime, generation);
        return profiles;
    }

    private void Remember(string key, CachedCaller entry, DateTimeOffset now)
    {
        if (_accepted.Count >= CacheCapacity)
        {
            foreach (var (k, v) in _accepted)
            {
                if (v.Until <= now)
                {
                    _accepted.TryRemove(k, out _);
                }
            }

            if (_accepted.Count >= CacheCapacity)
            {
                // Note: a flood of distinct valid tokens; starting over keeps the memory bounded.
                _accepted.Clear();
            }
        }

        _accepted[key] = entry;
    }

    public void Dispose() => _userWrites.Dispose();

    private static string Hash(string token)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(token), hash);
        return Convert.ToBase64String(hash);
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static IncomingTokenResult Refused(string description) => new(null, IncomingTokenFailure.InvalidToken(description));

    /// <summary>Values from the token echoed in an answer are cut, so a crafted token cannot blow up headers.</summary>
    private static string Cut(string value, int max = 100) => value.Length <= max ? value : value[..max] + "…";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Incoming API tokens: the API user could not be read or saved; the call is answered 503.")]
    private static partial void LogDatabaseError(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Incoming API tokens: the provider of OIDC profile '{Profile}' could not be reached: {Reason}")]
    private static partial void LogProviderUnreachable(ILogger logger, string profile, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Incoming API tokens: the claim maps of OIDC profile '{Profile}' cannot be used: {Reason}")]
    private static partial void LogBadClaimMap(ILogger logger, string profile, string reason);
}
