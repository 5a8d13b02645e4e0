using System.Text.Json;
using TokenAdmin.Oidc;

namespace TokenAdmin.Tests.Oidc;

public sealed class ClaimMapsTests
{
    private static JsonElement Claims(string json) => JsonDocument.Parse(json).RootElement.Clone();

    [Fact]
    public void Role_map_matches_string_claims_array_claims_nested_claims_and_object_keys()
    {
        var rules = ClaimMaps.ParseRoleMap("""
            groups:
              helpdesk-admins: tokens.refresh
              mail-readers: tokens.read
            realm_access:
              roles:
                broker: tokens.broker
            department: { it: webservices.invoke }
            TokenAttribute2:
              abc123: tokens.read
            """);
        var claims = Claims("""
            {"sub":"u1","groups":["staff","helpdesk-admins"],"realm_access":{"roles":["broker"]},"department":"it","TokenAttribute2":{"abc123":{"x":1}}}
            """);

        Assert.Equal(["tokens.refresh", "tokens.broker", "webservices.invoke", "tokens.read"], ClaimMaps.Roles(rules, claims));
    }

    [Fact]
    public void Role_map_gives_nothing_for_claims_that_are_absent_or_do_not_match()
    {
        var rules = ClaimMaps.ParseRoleMap("groups: { admins: tokens.refresh }");
        Assert.Empty(ClaimMaps.Roles(rules, Claims("""{"groups":["users"]}""")));
        Assert.Empty(ClaimMaps.Roles(rules, Claims("""{"sub":"x"}""")));
        Assert.Empty(ClaimMaps.Roles(rules, Claims("""{"groups":"Admins"}""")));
    }

    [Theory]
    [InlineData("groups: { admins: superuser }", "'superuser' is not a TokenAdmin role")]
    [InlineData("groups: [admins]", "expected a mapping")]
    [InlineData("admins: tokens.read", "name the claim first")]
    [InlineData("groups: { admins: tokens.read\n", "line")]
    [InlineData("- a\n- b", "must be a YAML mapping")]
    public void Broken_role_maps_are_refused_with_the_cause(string yaml, string expected)
    {
        var error = Assert.Throws<ClaimMapException>(() => ClaimMaps.ParseRoleMap(yaml));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.StartsWith("RoleMap", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Role_map_alias_bombs_are_refused()
    {
        var yaml = "a: &a { x1: tokens.read, x2: tokens.read, x3: tokens.read, x4: tokens.read, x5: tokens.read, x6: tokens.read, x7: tokens.read, x8: tokens.read, x9: tokens.read, x10: tokens.read }\n"
            + "b: &b { " + string.Join(", ", Enumerable.Range(0, 10).Select(i => $"b{i}: *a")) + " }\n"
            + "c: &c { " + string.Join(", ", Enumerable.Range(0, 10).Select(i => $"c{i}: *b")) + " }\n"
            + "d: { " + string.Join(", ", Enumerable.Range(0, 10).Select(i => $"d{i}: *c")) + " }\n";
        var error = Assert.Throws<ClaimMapException>(() => ClaimMaps.ParseRoleMap(yaml));
        Assert.Contains("more than 1000 rules", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void User_map_fills_attributes_also_under_otobo_names_and_refuses_unknown_attributes()
    {
        var map = ClaimMaps.ParseUserMap("email: UserEmail\ngiven_name: first_name\nfamily_name: UserLastname\nname: display_name");
        var attributes = ClaimMaps.Attributes(map, Claims("""{"email":"a@example.test","given_name":"Alice","family_name":"Liddell"}"""));

        Assert.Equal("a@example.test", attributes["email"]);
        Assert.Equal("Alice", attributes["first_name"]);
        Assert.Equal("Liddell", attributes["last_name"]);
        Assert.False(attributes.ContainsKey("display_name"));
        Assert.Contains("'Shoe' is not a user attribute", Assert.Throws<ClaimMapException>(() => ClaimMaps.ParseUserMap("size: Shoe")).Message, StringComparison.Ordinal);
        Assert.Contains("flat", Assert.Throws<ClaimMapException>(() => ClaimMaps.ParseUserMap("email: { a: b }")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_maps_are_no_maps()
    {
        Assert.Empty(ClaimMaps.ParseRoleMap(null));
        Assert.Empty(ClaimMaps.ParseRoleMap("  \n"));
        Assert.Empty(ClaimMaps.ParseUserMap(""));
    }
}
