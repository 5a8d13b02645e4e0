using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Admin;
using TokenAdmin.Data;
using TokenAdmin.Oidc;

namespace TokenAdmin.WebServices.Api;

/// <summary>What importing a token's user would do: the API user, its attributes and roles, or why it is refused.</summary>
public sealed record ApiUserPlan(
    string? Login, IReadOnlyDictionary<string, string> Attributes, IReadOnlyList<string> MappedRoles, IReadOnlyList<string> ManualRoles,
    bool Exists, IReadOnlyList<string> Changes, string? Refusal);

/// <summary>
/// Creates or updates API users from a token's claims through a profile's RoleMap and UserMap. The rules:
/// the UID claim names the user; with a RoleMap, a token that matches no rule is refused (the user is not created or
/// changed); the roles from the map replace the roles the map gave before; roles an admin gave by hand stay.
/// </summary>
public sealed class ApiUserImporter(TokenAdminDb db, TimeProvider time)
{
    public async Task<ApiUserPlan> PlanAsync(
        JsonElement claims, string uidClaim, IReadOnlyList<RoleRule> roleMap, IReadOnlyDictionary<string, string> userMap,
        int profileId, bool linkUnlinked, CancellationToken cancellationToken)
    {
        var login = ClaimMaps.Text(claims, uidClaim);
        if (string.IsNullOrWhiteSpace(login))
        {
            return new ApiUserPlan(null, new Dictionary<string, string>(), [], [], false, [], $"The token has no '{uidClaim}' claim (the UID claim) to name the user.");
        }

        login = login.Trim();
        if (login.Length > 300)
        {
            return new ApiUserPlan(null, new Dictionary<string, string>(), [], [], false, [], $"The '{uidClaim}' claim is longer than 300 characters.");
        }

        var attributes = ClaimMaps.Attributes(userMap, claims);
        var changes0 = new List<string>();
        var roles = ClaimMaps.Roles(roleMap, claims);
        var existing = await db.ApiUsers.AsNoTracking().SingleOrDefaultAsync(u => u.NormalizedLogin == ApiUser.Normalize(login), cancellationToken);
        var manual = Split(existing?.ManualRoles);
        if (existing is not null && existing.OidcProfileId != profileId && (existing.OidcProfileId is not null || !linkUnlinked))
        {
            // Note: a login is only unique per provider; a token of another profile naming the same login is someone else.
            return new ApiUserPlan(login, attributes, roles, manual, true, [], existing.OidcProfileId is null
                ? $"The API user '{login}' was not made through an OIDC profile; an admin links it with `import-user --profile NAME`."
                : $"The API user '{login}' belongs to another OIDC profile; a profile never takes over another profile's user.");
        }

        if (existing is not null && existing.OidcProfileId is null)
        {
            changes0.Add("link to this OIDC profile");
        }

        if (roleMap.Count > 0 && roles.Count == 0)
        {
            return new ApiUserPlan(login, attributes, roles, manual, existing is not null, [],
                $"No role is given to '{login}': no RoleMap rule matches the token's claims, so the user is not imported.");
        }

        var changes = changes0;
        if (existing is null)
        {
            changes.Add($"create API user '{login}'");
        }

        foreach (var (attribute, value) in attributes)
        {
            var before = existing is null ? null : Attribute(existing, attribute);
            if (before != value)
            {
                changes.Add($"{attribute}: {(before is null ? "" : $"'{before}' → ")}'{value}'");
            }
        }

        var mappedBefore = Split(existing?.MappedRoles);
        foreach (var role in roles.Except(mappedBefore))
        {
            changes.Add($"role {role}: added (RoleMap)");
        }

        foreach (var role in mappedBefore.Except(roles))
        {
            changes.Add(manual.Contains(role) ? $"role {role}: no longer from the RoleMap, kept (given by hand)" : $"role {role}: removed (the RoleMap no longer gives it)");
        }

        return new ApiUserPlan(login, attributes, roles, manual, existing is not null, changes, null);
    }

    public async Task<ApiUser> ApplyAsync(ApiUserPlan plan, int profileId, string actor, CancellationToken cancellationToken)
    {
        if (plan.Refusal is not null || plan.Login is null)
        {
            throw new InvalidOperationException("A refused plan cannot be applied.");
        }

        var now = time.GetUtcNow().UtcDateTime;
        var user = await db.ApiUsers.SingleOrDefaultAsync(u => u.NormalizedLogin == ApiUser.Normalize(plan.Login), cancellationToken);
        if (user?.OidcProfileId is { } owner && owner != profileId)
        {
            throw new InvalidOperationException("The API user belongs to another OIDC profile.");
        }

        if (user is null)
        {
            user = new ApiUser { Login = plan.Login, NormalizedLogin = ApiUser.Normalize(plan.Login), CreatedAt = now, CreatedBy = actor };
            db.ApiUsers.Add(user);
        }

        foreach (var (attribute, value) in plan.Attributes)
        {
            switch (attribute)
            {
                case "email": user.Email = value; break;
                case "first_name": user.FirstName = value; break;
                case "last_name": user.LastName = value; break;
                case "display_name": user.DisplayName = value; break;
            }
        }

        user.MappedRoles = string.Join(' ', plan.MappedRoles);
        user.OidcProfileId = profileId;
        user.ChangedAt = now;
        user.ChangedBy = actor;
        user.LastImportedAt = now;
        AuditLog.Add(db, time, actor, plan.Exists ? "api-user.updated" : "api-user.created", plan.Login,
            plan.Changes.Count == 0 ? "no change" : string.Join("; ", plan.Changes));
        await db.SaveChangesAsync(cancellationToken);
        return user;
    }

    private static string? Attribute(ApiUser user, string attribute) => attribute switch
    {
        "email" => user.Email,
        "first_name" => user.FirstName,
        "last_name" => user.LastName,
        "display_name" => user.DisplayName,
        _ => null,
    };

    private static List<string> Split(string? roles) => [.. (roles ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries)];
}
