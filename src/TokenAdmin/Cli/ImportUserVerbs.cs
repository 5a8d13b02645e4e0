using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using TokenAdmin.Data;
using TokenAdmin.FunctionalAccounts;
using TokenAdmin.Oidc;
using TokenAdmin.Secrets;
using TokenAdmin.Tokens;

namespace TokenAdmin.Cli;

/// <summary>`import-user` (OTOBO's Admin::OAuth2::ImportUser) and the small API user verbs around it.</summary>
internal static class ImportUserVerbs
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static IReadOnlyList<CliVerb> All { get; } =
    [
        new(["import-user"], "Gets a token from an OIDC profile's provider and creates or updates the API user it names.",
            "import-user --grant-type password|client_credentials [--profile NAME] [--username NAME] [--password-stdin] [--scope S] [--resource R] [--resource-param-name N] [--resource-join] [--token-type id_token|access_token] [--user-map FILE] [--role-map FILE] [--uid CLAIM] [--dry-run]",
            "Performs the real token request at the provider, validates the token (signature, issuer, lifetime; the audience of an ID token, " +
            "and of an access token when the profile lists audiences), prints its claims " +
            "and the API user and roles that would be created or changed. --dry-run stops there and changes nothing.\n\n" +
            "  --profile NAME            the OIDC profile (OTOBO: --openid-config); may be left out when there is only one\n" +
            "  --grant-type              password or client_credentials\n" +
            "  --username, --password-stdin   for the password grant; the password is read from the first line of standard input\n" +
            "                            (--password VALUE works too, but shows in the process list and shell history)\n" +
            "  --scope                   space-separated scopes (default: openid)\n" +
            "  --resource                space-separated resource indicators; sent one parameter per resource, or space-joined with --resource-join\n" +
            "  --resource-param-name     the resource parameter's name (default: resource)\n" +
            "  --token-type              id_token (default) or access_token: the token whose claims name the user\n" +
            "  --user-map, --role-map    a YAML file to use instead of the profile's UserMap / RoleMap\n" +
            "  --uid                     the claim that names the user (default: the profile's UID claim)\n\n" +
            "Role rules: with a RoleMap, a token that matches no rule is refused and nothing changes; the roles from the RoleMap " +
            "replace those it gave before; roles an admin gave by hand (api-users roles) are never removed.",
            [], new Dictionary<string, bool>
            {
                ["--profile"] = true, ["--openid-config"] = true, ["--grant-type"] = true, ["--username"] = true, ["--password"] = true,
                ["--password-stdin"] = false, ["--scope"] = true, ["--resource"] = true, ["--resource-param-name"] = true,
                ["--resource-join"] = false, ["--token-type"] = true, ["--user-map"] = true, ["--role-map"] = true, ["--uid"] = true,
                ["--dry-run"] = false,
            }, ImportAsync),
        new(["api-users", "list"], "Lists the API users with their roles.", "api-users list", "", [], new Dictionary<string, bool>(), ListAsync),
        new(["api-users", "roles"], "Gives or takes roles of an API user by hand (an import never removes these).",
            "api-users roles LOGIN [--add ROLE]... [--remove ROLE]...", $"Roles: {string.Join(", ", ApiRoles.All)}.",
            ["LOGIN"], new Dictionary<string, bool> { ["--add"] = true, ["--remove"] = true }, RolesAsync, ["--add", "--remove"]),
    ];

    private static async Task<int> ImportAsync(CliContext context, CancellationToken cancellationToken)
    {
        var args = context.Arguments;
        var services = context.Services;
        var db = services.GetRequiredService<TokenAdminDb>();
        var profileName = args.Get("--profile") ?? args.Get("--openid-config");
        OidcProfile? profile;
        if (profileName is null)
        {
            var all = await db.OidcProfiles.AsNoTracking().Take(2).ToListAsync(cancellationToken);
            if (all.Count != 1)
            {
                context.Stderr.WriteLine(all.Count == 0 ? "There is no OIDC profile: add one first (OIDC Profiles page)." : "Several OIDC profiles exist: name one with --profile NAME.");
                return CliApp.Usage;
            }

            profile = all[0];
        }
        else if ((profile = await db.OidcProfiles.AsNoTracking().SingleOrDefaultAsync(p => p.NormalizedName == OidcProfile.Normalize(profileName), cancellationToken)) is null)
        {
            context.Stderr.WriteLine($"There is no OIDC profile named '{profileName}'.");
            return CliApp.Refused;
        }

        var grantType = args.Get("--grant-type");
        if (grantType is not (AccountGrantTypes.Password or AccountGrantTypes.ClientCredentials))
        {
            context.Stderr.WriteLine("--grant-type must be password or client_credentials.");
            return CliApp.Usage;
        }

        var tokenType = args.Get("--token-type") ?? AccountTokenTypes.IdToken;
        if (!AccountTokenTypes.All.Contains(tokenType))
        {
            context.Stderr.WriteLine("--token-type must be id_token or access_token.");
            return CliApp.Usage;
        }

        string? password = null;
        if (grantType == AccountGrantTypes.Password)
        {
            password = args.Has("--password-stdin") ? await context.Stdin.ReadLineAsync(cancellationToken) : args.Get("--password");
            if (args.Get("--username") is null || string.IsNullOrEmpty(password))
            {
                context.Stderr.WriteLine("The password grant needs --username NAME and the password (--password-stdin).");
                return CliApp.Usage;
            }
        }

        IReadOnlyList<RoleRule> roleMap;
        IReadOnlyDictionary<string, string> userMap;
        try
        {
            roleMap = ClaimMaps.ParseRoleMap(args.Get("--role-map") is { } roleFile ? await ReadFileAsync(roleFile, "--role-map", cancellationToken) : profile.RoleMapYaml);
            userMap = ClaimMaps.ParseUserMap(args.Get("--user-map") is { } userFile ? await ReadFileAsync(userFile, "--user-map", cancellationToken) : profile.UserMapYaml);
        }
        catch (ClaimMapException ex)
        {
            context.Stderr.WriteLine(ex.Message);
            return CliApp.Refused;
        }

        var account = new FunctionalAccount
        {
            Name = "import-user",
            GrantType = grantType,
            Scope = args.Get("--scope") ?? "openid",
            Username = args.Get("--username"),
            Resources = args.Get("--resource"),
            ResourceParameterName = args.Get("--resource-param-name") ?? FunctionalAccountDefaults.ResourceParameterName,
            ResourcePerParameter = !args.Has("--resource-join"),
            TokenType = tokenType,
            Profile = profile,
            // Note: protected only for the engine, which reads secrets that way; it is never stored.
            PasswordProtected = password is null ? null : services.GetRequiredService<ISecretProtector>().Protect(password),
        };
        context.Stdout.WriteLine($"Requesting a token from profile '{profile.Name}' ({grantType} grant, scope '{account.Scope}')...");
        var result = await services.GetRequiredService<TokenEngine>().SendAsync(services.GetRequiredService<FunctionalAccountSources>().Define(account),
            grantType == AccountGrantTypes.Password ? "password" : "client_credentials", code: null, cancellationToken);
        if (!result.Succeeded)
        {
            context.Stderr.WriteLine($"The token request failed: {result.Failure!.Code}: {result.Failure.Description}");
            return CliApp.Refused;
        }

        var response = result.Response!;

        TokenCheck check;
        if (tokenType == AccountTokenTypes.IdToken)
        {
            check = result.IdToken!;
        }
        else
        {
            var configuration = services.GetRequiredService<OidcProfileRuntime>().MetadataFor(profile);
            // Note: an access token's audience is the API it is for, not this client: it is checked against the
            // profile's audience list when there is one, and the admin is told when there is none.
            var audiences = OidcProfileService.Lines(profile.RestrictAudience);
            if (audiences.Count == 0)
            {
                context.Stdout.WriteLine("The access token's audience is not checked: the profile lists no audience (Restrict: Audience).");
            }

            check = await ProfileTokenValidator.ValidateAsync(response.AccessToken, new TokenValidationParameters
            {
                ValidateIssuer = true,
                ValidateAudience = audiences.Count > 0,
                ValidAudiences = audiences,
                ValidateLifetime = true,
                RequireSignedTokens = true,
                ValidAlgorithms = ProfileTokenValidator.Algorithms,
                ClockSkew = TimeSpan.FromSeconds(profile.LeewaySeconds),
            }, configuration, "access token");
            if (!check.Valid && check.Error!.Contains("not a JWT", StringComparison.Ordinal))
            {
                context.Stderr.WriteLine("The provider issued an opaque access token: it carries no claims to read a user from. Use --token-type id_token.");
                return CliApp.Refused;
            }
        }

        if (!check.Valid)
        {
            context.Stderr.WriteLine($"The token was refused: {check.Error}");
            return CliApp.Refused;
        }

        context.Stdout.WriteLine($"Token validated ({tokenType}). Its claims:");
        context.Stdout.WriteLine(JsonSerializer.Serialize(check.Claims, Indented));
        var importer = services.GetRequiredService<ApiUserImporter>();
        var plan = await importer.PlanAsync(check.Claims, args.Get("--uid") ?? profile.UidClaim, roleMap, userMap, profile.Id, linkUnlinked: true, cancellationToken);
        if (plan.Refusal is not null)
        {
            context.Stderr.WriteLine(plan.Refusal + (plan.MappedRoles.Count == 0 && roleMap.Count > 0 ? " Check the claims printed above against the RoleMap." : ""));
            return CliApp.Refused;
        }

        context.Stdout.WriteLine($"API user: {plan.Login} ({(plan.Exists ? "exists" : "new")})");
        foreach (var (attribute, value) in plan.Attributes)
        {
            context.Stdout.WriteLine($"  {attribute}: {value}");
        }

        context.Stdout.WriteLine($"  roles from the RoleMap: {(plan.MappedRoles.Count == 0 ? "none" : string.Join(", ", plan.MappedRoles))}");
        context.Stdout.WriteLine($"  roles given by hand (kept): {(plan.ManualRoles.Count == 0 ? "none" : string.Join(", ", plan.ManualRoles))}");
        context.Stdout.WriteLine(plan.Changes.Count == 0 ? "Changes: none." : "Changes:\n  " + string.Join("\n  ", plan.Changes));
        if (args.Has("--dry-run"))
        {
            context.Stdout.WriteLine("Dry run: nothing was changed.");
            return CliApp.Ok;
        }

        await importer.ApplyAsync(plan, profile.Id, "console", cancellationToken);
        context.Stdout.WriteLine($"{(plan.Exists ? "Updated" : "Created")} API user '{plan.Login}'.");
        return CliApp.Ok;
    }

    private static async Task<string> ReadFileAsync(string path, string option, CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllTextAsync(path, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ClaimMapException($"{option}: '{path}' cannot be read: {ex.Message}");
        }
    }

    private static async Task<int> ListAsync(CliContext context, CancellationToken cancellationToken)
    {
        var users = await context.Services.GetRequiredService<TokenAdminDb>().ApiUsers.AsNoTracking().OrderBy(u => u.NormalizedLogin).ToListAsync(cancellationToken);
        if (users.Count == 0)
        {
            context.Stdout.WriteLine("No API users.");
        }

        foreach (var user in users)
        {
            context.Stdout.WriteLine($"{user.Login}  roles: {(user.Roles.Count == 0 ? "none" : string.Join(", ", user.Roles))}  (from RoleMap: {(user.MappedRoles.Length == 0 ? "none" : user.MappedRoles)}; by hand: {(user.ManualRoles.Length == 0 ? "none" : user.ManualRoles)}){(user.Email is null ? "" : "  " + user.Email)}");
        }

        return CliApp.Ok;
    }

    private static async Task<int> RolesAsync(CliContext context, CancellationToken cancellationToken)
    {
        var db = context.Services.GetRequiredService<TokenAdminDb>();
        var login = context.Arguments.Positionals[0];
        var user = await db.ApiUsers.SingleOrDefaultAsync(u => u.NormalizedLogin == ApiUser.Normalize(login), cancellationToken);
        if (user is null)
        {
            context.Stderr.WriteLine($"There is no API user '{login}'.");
            return CliApp.Refused;
        }

        var add = context.Arguments.GetAll("--add");
        var remove = context.Arguments.GetAll("--remove");
        if (add.Concat(remove).FirstOrDefault(r => !ApiRoles.All.Contains(r)) is { } unknown)
        {
            context.Stderr.WriteLine($"'{unknown}' is not a role. Roles: {string.Join(", ", ApiRoles.All)}.");
            return CliApp.Refused;
        }

        var roles = user.ManualRoles.Split(' ', StringSplitOptions.RemoveEmptyEntries).Concat(add).Except(remove).Distinct().Order(StringComparer.Ordinal);
        user.ManualRoles = string.Join(' ', roles);
        var time = context.Services.GetRequiredService<TimeProvider>();
        user.ChangedAt = time.GetUtcNow().UtcDateTime;
        user.ChangedBy = "console";
        Admin.AuditLog.Add(db, time, "console", "api-user.roles", user.Login, $"by hand: {(user.ManualRoles.Length == 0 ? "none" : user.ManualRoles)}");
        await db.SaveChangesAsync(cancellationToken);
        context.Stdout.WriteLine($"{user.Login}: roles {string.Join(", ", user.Roles)}.");
        return CliApp.Ok;
    }
}
