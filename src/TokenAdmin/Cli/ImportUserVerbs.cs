using System.CommandLine;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using TokenAdmin.Data;
using TokenAdmin.FunctionalAccounts;
using TokenAdmin.Oidc;
using TokenAdmin.Providers;
using TokenAdmin.Secrets;
using TokenAdmin.Tokens;
using TokenAdmin.WebServices.Api;

namespace TokenAdmin.Cli;

/// <summary>`import-user` (OTOBO's Admin::OAuth2::ImportUser) and the small API user verbs around it.</summary>
internal static class ImportUserVerbs
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static readonly Option<string> Profile = new("--profile", "--openid-config")
    {
        Description = "The OIDC profile (OTOBO: --openid-config); may be left out when there is only one.", HelpName = "NAME",
    };

    private static readonly Option<string> GrantType = new Option<string>("--grant-type") { Description = "How the token is obtained.", Required = true }
        .AcceptOnlyFromAmong(AccountGrantTypes.Password, AccountGrantTypes.ClientCredentials);

    private static readonly Option<string> Username = new("--username") { Description = "For the password grant: the user's name.", HelpName = "NAME" };

    private static readonly Option<string> Password = new("--password")
    {
        Description = "For the password grant; shows in the process list and shell history, so prefer --password-stdin.", HelpName = "PASSWORD",
    };

    private static readonly Option<bool> PasswordStdin = new("--password-stdin") { Description = "Read the password from the first line of standard input." };
    private static readonly Option<string> Scope = new("--scope") { Description = "Space-separated scopes (default: openid).", HelpName = "S" };

    private static readonly Option<string> Resource = new("--resource")
    {
        Description = "Space-separated resource indicators; sent one parameter per resource, or space-joined with --resource-join.", HelpName = "R",
    };

    private static readonly Option<string> ResourceParamName = new("--resource-param-name")
    {
        Description = "The resource parameter's name (default: resource).", HelpName = "N",
    };

    private static readonly Option<bool> ResourceJoin = new("--resource-join") { Description = "Send the resources space-joined in one parameter." };

    private static readonly Option<string> TokenType = new Option<string>("--token-type")
    {
        Description = "The token whose claims name the user.", DefaultValueFactory = _ => AccountTokenTypes.IdToken,
    }.AcceptOnlyFromAmong(AccountTokenTypes.IdToken, AccountTokenTypes.AccessToken);

    private static readonly Option<string> UserMap = new("--user-map") { Description = "A YAML file to use instead of the profile's UserMap.", HelpName = "FILE" };
    private static readonly Option<string> RoleMap = new("--role-map") { Description = "A YAML file to use instead of the profile's RoleMap.", HelpName = "FILE" };
    private static readonly Option<string> Uid = new("--uid") { Description = "The claim that names the user (default: the profile's UID claim).", HelpName = "CLAIM" };
    private static readonly Option<bool> DryRun = new("--dry-run") { Description = "Print what would be created or changed, and change nothing." };

    private static readonly Argument<string> Login = new("LOGIN") { Description = "The API user's login." };

    private static readonly Option<string[]> AddRoles = new("--add")
    {
        Description = "A role to give; may be repeated.", HelpName = "ROLE",
    };

    private static readonly Option<string[]> RemoveRoles = new("--remove")
    {
        Description = "A role to take; may be repeated.", HelpName = "ROLE",
    };

    public static IReadOnlyList<CliVerb> All { get; } =
    [
        new(["import-user"], "Gets a token from an OIDC profile's provider and creates or updates the API user it names.",
            "Performs the real token request at the provider, validates the token (signature, issuer, lifetime; the audience of an ID token, " +
            "and of an access token when the profile lists audiences), prints its claims " +
            "and the API user and roles that would be created or changed. --dry-run stops there and changes nothing.\n" +
            "Role rules: with a RoleMap, a token that matches no rule is refused and nothing changes; the roles from the RoleMap " +
            "replace those it gave before; roles an admin gave by hand (api-users roles) are never removed.",
            ImportAsync)
        {
            Symbols = [Profile, GrantType, Username, Password, PasswordStdin, Scope, Resource, ResourceParamName, ResourceJoin, TokenType, UserMap, RoleMap, Uid, DryRun],
            Examples =
            [
                "TokenAdmin import-user --profile Keycloak --grant-type client_credentials --token-type access_token --dry-run",
                "printf '%s\\n' \"$PASSWORD\" | TokenAdmin import-user --grant-type password --username jdoe --password-stdin",
            ],
            Validate = command =>
            {
                // Note: the raw token, as GetValue throws for a value AcceptOnlyFromAmong refuses (reported already).
                if (command.GetResult(GrantType)?.Tokens is [{ Value: AccountGrantTypes.Password }, ..]
                    && (command.GetResult(Username) is null || (command.GetResult(Password) is null && command.GetResult(PasswordStdin) is null)))
                {
                    command.AddError("The password grant needs --username NAME and the password (--password-stdin).");
                }
            },
        },
        new(["api-users", "list"], "Lists the API users with their roles.", "", ListAsync),
        new(["api-users", "roles"], "Gives or takes roles of an API user by hand (an import never removes these).",
            $"Roles: {string.Join(", ", ApiRoles.All)}.", RolesAsync)
        {
            Symbols = [Login, AddRoles, RemoveRoles],
            Examples = ["TokenAdmin api-users roles jdoe --add tokens.read --remove tokens.refresh"],
        },
    ];

    private static async Task<int> ImportAsync(CliContext context, CancellationToken cancellationToken)
    {
        var services = context.Services;
        var db = services.GetRequiredService<TokenAdminDb>();
        var profileName = context.Get(Profile);
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

        var grantType = context.Get(GrantType)!;
        var tokenType = context.Get(TokenType)!;

        string? password = null;
        if (grantType == AccountGrantTypes.Password)
        {
            password = context.Get(PasswordStdin) ? await context.Stdin.ReadLineAsync(cancellationToken) : context.Get(Password);
            if (string.IsNullOrEmpty(password))
            {
                context.Stderr.WriteLine("The password grant needs --username NAME and the password (--password-stdin).");
                return CliApp.Usage;
            }
        }

        IReadOnlyList<RoleRule> roleMap;
        IReadOnlyDictionary<string, string> userMap;
        try
        {
            roleMap = ClaimMaps.ParseRoleMap(context.Get(RoleMap) is { } roleFile ? await ReadFileAsync(roleFile, "--role-map", cancellationToken) : profile.RoleMapYaml);
            userMap = ClaimMaps.ParseUserMap(context.Get(UserMap) is { } userFile ? await ReadFileAsync(userFile, "--user-map", cancellationToken) : profile.UserMapYaml);
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
            Scope = context.Get(Scope) ?? "openid",
            Username = context.Get(Username),
            Resources = context.Get(Resource),
            ResourceParameterName = context.Get(ResourceParamName) ?? FunctionalAccountDefaults.ResourceParameterName,
            ResourcePerParameter = !context.Get(ResourceJoin),
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

            check = await ProviderTokenValidator.ValidateAsync(response.AccessToken,
                ProviderTokenValidator.Parameters(audiences, TimeSpan.FromSeconds(profile.LeewaySeconds), requireExpiry: false), configuration, "access token");
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
        var plan = await importer.PlanAsync(check.Claims, context.Get(Uid) ?? profile.UidClaim, roleMap, userMap, profile.Id, linkUnlinked: true, cancellationToken);
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
        if (context.Get(DryRun))
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
        var login = context.Get(Login);
        var user = await db.ApiUsers.SingleOrDefaultAsync(u => u.NormalizedLogin == ApiUser.Normalize(login), cancellationToken);
        if (user is null)
        {
            context.Stderr.WriteLine($"There is no API user '{login}'.");
            return CliApp.Refused;
        }

        var add = context.Get(AddRoles) ?? [];
        var remove = context.Get(RemoveRoles) ?? [];
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
        Data.AuditLog.Add(db, time, "console", "api-user.roles", user.Login, $"by hand: {(user.ManualRoles.Length == 0 ? "none" : user.ManualRoles)}");
        await db.SaveChangesAsync(cancellationToken);
        context.Stdout.WriteLine($"{user.Login}: roles {string.Join(", ", user.Roles)}.");
        return CliApp.Ok;
    }
}
