using Microsoft.EntityFrameworkCore;
using TokenAdmin.FunctionalAccounts;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.WebServices.Api;

namespace TokenAdmin.Tests.Oidc;

public sealed class ImportUserTests : AccountTestBase
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Idp.AddUser(new TestUser("robot", "robot-password-1")
        {
            Claims = new Dictionary<string, string[]> { ["email"] = ["robot@example.test"], ["roles"] = ["helpdesk", "mail"] },
        });
    }

    private Task<(int Exit, string Out, string Err)> ImportAsync(params string[] extra) =>
        ConsoleVerbs.RunAsync(App.DataDirectory, "robot-password-1\n",
            ["import-user", "--profile", "test-idp", "--grant-type", "password", "--username", "robot", "--password-stdin", "--scope", "openid email roles", .. extra]);

    private Task<List<ApiUser>> UsersAsync() => App.WithDbAsync(db => db.ApiUsers.AsNoTracking().ToListAsync());

    [Fact]
    public async Task Dry_run_asks_the_provider_prints_claims_and_plan_and_changes_nothing_then_the_real_run_creates_the_user()
    {
        await CreateProfileAsync(change: p =>
        {
            p.RoleMapYaml = "roles:\n  helpdesk: tokens.refresh\n  mail: tokens.read\n";
            p.UserMapYaml = "email: email";
        });
        Idp.ResetCounters();

        var dry = await ImportAsync("--dry-run");

        Assert.True(dry.Exit == 0, dry.Err);
        Assert.Equal(1, Idp.TokenRequestsByGrantType["password"]);
        Assert.Contains("\"sub\": \"robot\"", dry.Out, StringComparison.Ordinal);
        Assert.Contains("API user: robot (new)", dry.Out, StringComparison.Ordinal);
        Assert.Contains("roles from the RoleMap: tokens.refresh, tokens.read", dry.Out, StringComparison.Ordinal);
        Assert.Contains("Dry run: nothing was changed.", dry.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("robot-password-1", dry.Out + dry.Err, StringComparison.Ordinal);
        Assert.Empty(await UsersAsync());

        var real = await ImportAsync();

        Assert.True(real.Exit == 0, real.Err);
        Assert.Contains("Created API user 'robot'.", real.Out, StringComparison.Ordinal);
        var user = Assert.Single(await UsersAsync());
        Assert.Equal("robot", user.Login);
        Assert.Equal("robot@example.test", user.Email);
        Assert.Equal(["tokens.read", "tokens.refresh"], user.Roles);
    }

    [Fact]
    public async Task Roles_given_by_hand_survive_an_import_and_roles_the_map_no_longer_gives_are_removed()
    {
        await CreateProfileAsync(change: p => p.RoleMapYaml = "roles: { helpdesk: tokens.refresh, mail: tokens.read }");
        Assert.Equal(0, (await ImportAsync()).Exit);
        var byHand = await ConsoleVerbs.RunAsync(App.DataDirectory, "", "api-users", "roles", "robot", "--add", "tokens.broker");
        Assert.True(byHand.Exit == 0, byHand.Err);

        var map = Path.Combine(App.DataDirectory, "rolemap.yaml");
        await File.WriteAllTextAsync(map, "roles: { helpdesk: tokens.refresh }");
        var again = await ImportAsync("--role-map", map);

        Assert.True(again.Exit == 0, again.Err);
        Assert.Contains("role tokens.read: removed (the RoleMap no longer gives it)", again.Out, StringComparison.Ordinal);
        var user = Assert.Single(await UsersAsync());
        Assert.Equal(["tokens.broker", "tokens.refresh"], user.Roles);
        Assert.Equal("tokens.broker", user.ManualRoles);
    }

    [Fact]
    public async Task A_token_no_role_map_rule_matches_is_refused_and_nothing_changes()
    {
        await CreateProfileAsync(change: p => p.RoleMapYaml = "roles: { admins: tokens.refresh }");

        var refused = await ImportAsync();

        Assert.Equal(1, refused.Exit);
        Assert.Contains("no RoleMap rule matches", refused.Err, StringComparison.Ordinal);
        Assert.Empty(await UsersAsync());
    }

    [Fact]
    public async Task Provider_refusals_and_bad_options_give_a_message_and_change_nothing()
    {
        await CreateProfileAsync();

        var wrongPassword = await ConsoleVerbs.RunAsync(App.DataDirectory, "not-the-password\n",
            "import-user", "--grant-type", "password", "--username", "robot", "--password-stdin");
        Assert.Equal(1, wrongPassword.Exit);
        Assert.Contains("The token request failed: invalid_grant", wrongPassword.Err, StringComparison.Ordinal);

        var badGrant = await ConsoleVerbs.RunAsync(App.DataDirectory, "", "import-user", "--grant-type", "implicit");
        Assert.Equal(2, badGrant.Exit);
        Assert.Contains("Argument 'implicit' not recognized. Must be one of:", badGrant.Err, StringComparison.Ordinal);

        var noProfile = await ConsoleVerbs.RunAsync(App.DataDirectory, "", "import-user", "--grant-type", "client_credentials", "--profile", "nope");
        Assert.Equal(1, noProfile.Exit);
        Assert.Contains("There is no OIDC profile named 'nope'", noProfile.Err, StringComparison.Ordinal);

        var badMap = Path.Combine(App.DataDirectory, "bad.yaml");
        await File.WriteAllTextAsync(badMap, "roles: { x: root }");
        var mapRefused = await ImportAsync("--role-map", badMap);
        Assert.Equal(1, mapRefused.Exit);
        Assert.Contains("'root' is not a TokenAdmin role", mapRefused.Err, StringComparison.Ordinal);
        Assert.Empty(await UsersAsync());
    }

    [Fact]
    public async Task Client_credentials_with_the_access_token_names_the_client_as_the_user()
    {
        await CreateProfileAsync();

        var result = await ConsoleVerbs.RunAsync(App.DataDirectory, "", "import-user", "--grant-type", "client_credentials", "--scope", "api", "--token-type", "access_token");

        Assert.True(result.Exit == 0, result.Err);
        Assert.Contains("Created API user 'tokenadmin'.", result.Out, StringComparison.Ordinal);
    }
}
