using System.Collections.Immutable;
using System.Security.Claims;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace TokenAdmin.TestIdentityProvider.Internal;

/// <summary>
/// Builds the principals handed to OpenIddict's sign-in.
/// </summary>
internal static class PrincipalFactory
{
    public const string RolesClaimType = "roles";

    // Claims OpenIddict manages itself (or that would confuse a resource server) are never copied from test data.
    private static readonly HashSet<string> ReservedClaimTypes = new(StringComparer.Ordinal)
    {
        Claims.Subject, Claims.Issuer, Claims.Audience, Claims.ExpiresAt, Claims.IssuedAt, Claims.NotBefore,
        Claims.JwtId, Claims.AuthorizedParty, Claims.ClientId, Claims.Scope, Claims.Nonce,
        Claims.AccessTokenHash, Claims.CodeHash, Claims.AuthenticationTime,
    };

    private static readonly string[] BothTokens = [Destinations.AccessToken, Destinations.IdentityToken];

    private static readonly string[] AccessTokenOnly = [Destinations.AccessToken];

    public const string ScpClaimType = "scp";

    private static readonly HashSet<string> OpenIdScopes = new(StringComparer.Ordinal)
    {
        Scopes.OpenId, Scopes.Profile, Scopes.Email, Scopes.OfflineAccess, Scopes.Roles, Scopes.Address, Scopes.Phone,
    };

    public static ClaimsPrincipal CreateUserPrincipal(TestUser user, IEnumerable<string> scopes, IReadOnlyList<string> audiences, bool scpClaim = false)
    {
        var identity = CreateIdentity();
        identity.SetClaim(Claims.Subject, user.UserName);

        if (!user.Claims.ContainsKey(Claims.PreferredUsername))
        {
            identity.SetClaim(Claims.PreferredUsername, user.UserName);
        }

        AddClaims(identity, user.Claims);
        var granted = scopes.ToList();
        if (scpClaim)
        {
            // Entra ID's delegated permissions: the granted API scopes without their resource prefix, space-separated
            // (https://graph.microsoft.com/Mail.ReadWrite -> Mail.ReadWrite); the OpenID Connect scopes are left out.
            var scp = granted.Where(s => !OpenIdScopes.Contains(s)).Select(s => s[(s.LastIndexOf('/') + 1)..]).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal);
            identity.SetClaim(ScpClaimType, string.Join(' ', scp));
        }

        return Finish(identity, granted, audiences);
    }

    public static ClaimsPrincipal CreateClientPrincipal(string clientId, TestClient? client, IEnumerable<string> scopes, IReadOnlyList<string> audiences)
    {
        var identity = CreateIdentity();
        identity.SetClaim(Claims.Subject, clientId);
        if (client is not null)
        {
            AddClaims(identity, client.ClientCredentialsClaims);
        }

        return Finish(identity, scopes, audiences);
    }

    /// <summary>Every claim goes to both the access token and the identity token (OpenIddict drops its private claims itself).</summary>
    public static void SetDestinations(ClaimsPrincipal principal) =>
        principal.SetDestinations(static claim => claim.Type == ScpClaimType ? AccessTokenOnly : BothTokens);

    private static ClaimsIdentity CreateIdentity() => new(
        authenticationType: TokenValidationParameters.DefaultAuthenticationType,
        nameType: Claims.Name,
        roleType: RolesClaimType);

    private static void AddClaims(ClaimsIdentity identity, IReadOnlyDictionary<string, string[]> claims)
    {
        foreach (var (type, values) in claims)
        {
            if (string.IsNullOrEmpty(type) || ReservedClaimTypes.Contains(type) ||
                type.StartsWith("oi_", StringComparison.Ordinal) || values is null)
            {
                continue;
            }

            // Several claims of one type are serialized as a JSON array; a single one as a string.
            // (OpenIddict refuses JSON-array claim values, so a single role cannot be forced into an array.)
            identity.AddClaims(type, [.. values.Where(static value => value is not null)]);
        }
    }

    private static ClaimsPrincipal Finish(ClaimsIdentity identity, IEnumerable<string> scopes, IReadOnlyList<string> audiences)
    {
        var principal = new ClaimsPrincipal(identity);
        principal.SetScopes(scopes.ToImmutableArray());
        if (audiences.Count > 0)
        {
            principal.SetResources(audiences.ToImmutableArray());
        }

        SetDestinations(principal);
        return principal;
    }
}
