using System.Text.Json;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace TokenAdmin.Oidc;

/// <summary>A RoleMap or UserMap that cannot be used: the message names the line and the cause.</summary>
public sealed class ClaimMapException(string message) : Exception(message);

/// <summary>One RoleMap rule: when the claim at <see cref="ClaimPath"/> has (or, for an array, contains) <see cref="Value"/>, the user gets <see cref="Role"/>.</summary>
public sealed record RoleRule(IReadOnlyList<string> ClaimPath, string Value, string Role);

/// <summary>
/// RoleMap and UserMap as OTOBO writes them, in YAML. RoleMap is nested by claim path down to "claim value: role":
/// <code>
/// groups:                 # claim "groups" (a string or an array of strings)
///   helpdesk-admins: tokens.refresh
/// realm_access:           # nested claim realm_access.roles (Keycloak)
///   roles:
///     mail-reader: tokens.read
/// </code>
/// UserMap is flat, "claim: attribute" (email, first_name, last_name, display_name; OTOBO's UserEmail, UserFirstname,
/// UserLastname are understood too).
/// </summary>
public static class ClaimMaps
{
    private const int MaxDepth = 8;
    private const int MaxRules = 1000;

    public static readonly IReadOnlyDictionary<string, string> UserAttributes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["email"] = "email", ["UserEmail"] = "email",
        ["first_name"] = "first_name", ["UserFirstname"] = "first_name",
        ["last_name"] = "last_name", ["UserLastname"] = "last_name",
        ["display_name"] = "display_name",
    };

    /// <exception cref="ClaimMapException">the YAML does not parse, is not nested maps of strings, or names an unknown role</exception>
    public static IReadOnlyList<RoleRule> ParseRoleMap(string? yaml)
    {
        var rules = new List<RoleRule>();
        if (Load(yaml, "RoleMap") is not { } root)
        {
            return rules;
        }

        Walk(root, [], rules, 0);
        return rules;
    }

    private static void Walk(YamlMappingNode node, List<string> path, List<RoleRule> rules, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new ClaimMapException($"RoleMap: line {node.Start.Line}: nested deeper than {MaxDepth} levels.");
        }

        foreach (var (keyNode, valueNode) in node.Children)
        {
            var key = Scalar(keyNode, "RoleMap");
            switch (valueNode)
            {
                case YamlScalarNode roleNode when path.Count > 0:
                    var role = roleNode.Value?.Trim() ?? "";
                    if (!ApiRoles.All.Contains(role, StringComparer.Ordinal))
                    {
                        throw new ClaimMapException($"RoleMap: line {roleNode.Start.Line}: '{role}' is not a TokenAdmin role. Roles: {string.Join(", ", ApiRoles.All)}.");
                    }

                    rules.Add(new RoleRule([.. path], key, role));
                    if (rules.Count > MaxRules)
                    {
                        throw new ClaimMapException($"RoleMap: more than {MaxRules} rules (YAML aliases?); the map is refused.");
                    }

                    break;
                case YamlScalarNode scalar:
                    throw new ClaimMapException($"RoleMap: line {scalar.Start.Line}: '{key}' maps straight to a role; name the claim first, then its value (claim: {{ value: role }}).");
                case YamlMappingNode child:
                    Walk(child, [.. path, key], rules, depth + 1);
                    break;
                default:
                    throw new ClaimMapException($"RoleMap: line {valueNode.Start.Line}: under '{key}' expected a mapping (claim value: role), not a list.");
            }
        }
    }

    /// <summary>Claim name → user attribute (email, first_name, last_name, display_name).</summary>
    /// <exception cref="ClaimMapException">the YAML does not parse, is not flat, or names an unknown attribute</exception>
    public static IReadOnlyDictionary<string, string> ParseUserMap(string? yaml)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Load(yaml, "UserMap") is not { } root)
        {
            return map;
        }

        foreach (var (keyNode, valueNode) in root.Children)
        {
            var claim = Scalar(keyNode, "UserMap");
            if (valueNode is not YamlScalarNode { Value: { } attribute })
            {
                throw new ClaimMapException($"UserMap: line {valueNode.Start.Line}: '{claim}' must map to one attribute name (UserMap is flat).");
            }

            map[claim] = UserAttributes.TryGetValue(attribute.Trim(), out var known)
                ? known
                : throw new ClaimMapException($"UserMap: line {valueNode.Start.Line}: '{attribute}' is not a user attribute. Attributes: email, first_name, last_name, display_name.");
        }

        return map;
    }

    /// <summary>The roles the rules give for a token's claims (a JWT payload), in order, without repeats.</summary>
    public static IReadOnlyList<string> Roles(IReadOnlyList<RoleRule> rules, JsonElement claims)
    {
        var roles = new List<string>();
        foreach (var rule in rules)
        {
            if (Resolve(claims, rule.ClaimPath) is { } value && Matches(value, rule.Value) && !roles.Contains(rule.Role))
            {
                roles.Add(rule.Role);
            }
        }

        return roles;
    }

    /// <summary>The user attributes a token's claims fill through the map.</summary>
    public static IReadOnlyDictionary<string, string> Attributes(IReadOnlyDictionary<string, string> map, JsonElement claims)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (claim, attribute) in map)
        {
            if (Resolve(claims, claim.Split('.')) is { ValueKind: JsonValueKind.String } value && value.GetString() is { Length: > 0 } text)
            {
                result[attribute] = text;
            }
        }

        return result;
    }

    /// <summary>A claim by path (nested objects); a string claim value, or the first string of an array, as text.</summary>
    public static string? Text(JsonElement claims, string claim) => Resolve(claims, claim.Split('.')) switch
    {
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        { ValueKind: JsonValueKind.Number } n => n.GetRawText(),
        { ValueKind: JsonValueKind.Array } a => a.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()).FirstOrDefault(),
        _ => null,
    };

    private static JsonElement? Resolve(JsonElement claims, IReadOnlyList<string> path)
    {
        var current = claims;
        foreach (var part in path)
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(part, out current))
            {
                return null;
            }
        }

        return current;
    }

    private static bool Matches(JsonElement value, string expected) => value.ValueKind switch
    {
        // A string matches whole, or as one of its space-separated words (scope, scp).
        JsonValueKind.String => value.GetString() is { } text
            && (string.Equals(text, expected, StringComparison.Ordinal) || text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(expected, StringComparer.Ordinal)),
        // Array claims (groups, roles): any element.
        JsonValueKind.Array => value.EnumerateArray().Any(e => e.ValueKind == JsonValueKind.String && string.Equals(e.GetString(), expected, StringComparison.Ordinal)),
        JsonValueKind.True or JsonValueKind.False or JsonValueKind.Number => string.Equals(value.GetRawText(), expected, StringComparison.OrdinalIgnoreCase),
        // A claim that is an object (OTOBO's "abc123: { TokenRole1: ... }") matches by its keys.
        JsonValueKind.Object => value.TryGetProperty(expected, out _),
        _ => false,
    };

    private static YamlMappingNode? Load(string? yaml, string what)
    {
        if (string.IsNullOrWhiteSpace(yaml))
        {
            return null;
        }

        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            throw new ClaimMapException($"{what}: line {ex.Start.Line}, column {ex.Start.Column}: {ex.Message}");
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            return null;
        }

        return stream.Documents[0].RootNode as YamlMappingNode
            ?? throw new ClaimMapException($"{what}: must be a YAML mapping (claim: ...), not a list or a single value.");
    }

    private static string Scalar(YamlNode node, string what) =>
        node is YamlScalarNode { Value: { Length: > 0 } value }
            ? value
            : throw new ClaimMapException($"{what}: line {node.Start.Line}: keys must be plain names.");
}
