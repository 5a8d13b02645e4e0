using System.Text.RegularExpressions;

namespace TokenAdmin.Tests.Hosting;

/// <summary>
/// The allowed dependencies between the host's folders (docs/architecture.md, "Which folder may use which"), read from
/// the source: a folder uses another when one of its files names that folder's namespace (a using directive or a
/// qualified name). Comments and string literals do not count.
/// </summary>
public sealed partial class FolderDependencyTests
{
    /// <summary>What each folder must never use: the layers above it, and the kinds of source for the engine.</summary>
    private static readonly Dictionary<string, string[]> Forbidden = new()
    {
        ["Secrets"] = ["Settings", "Admin", "Providers", "Tokens", "Oidc", "FunctionalAccounts", "TokenProvider", "Refresh", "Mail", "WebServices", "Notifications", "Hosting"],
        ["Settings"] = ["Admin", "Providers", "Tokens", "Oidc", "FunctionalAccounts", "TokenProvider", "Refresh", "Mail", "WebServices", "Alerts", "Dashboard", "Hosting"],
        ["Providers"] = ["Admin", "Tokens", "Oidc", "FunctionalAccounts", "TokenProvider", "Refresh", "Mail", "WebServices", "Hosting"],
        ["Tokens"] = ["Oidc", "FunctionalAccounts", "TokenProvider", "Refresh", "Mail", "WebServices", "Hosting"],
        ["Oidc"] = ["Tokens", "FunctionalAccounts", "TokenProvider", "Refresh", "Mail", "WebServices", "Hosting"],
        ["FunctionalAccounts"] = ["TokenProvider", "Refresh", "Mail", "WebServices", "Hosting"],
        ["TokenProvider"] = ["Oidc", "FunctionalAccounts", "Refresh", "Mail", "WebServices", "Hosting"],
        ["Refresh"] = ["Oidc", "FunctionalAccounts", "Mail", "WebServices", "Hosting"],
        ["Mail"] = ["Oidc", "FunctionalAccounts", "Refresh", "WebServices", "Hosting"],
        ["WebServices"] = ["Refresh", "Mail"],
        ["Admin"] = ["Tokens", "Oidc", "FunctionalAccounts", "TokenProvider", "Refresh", "Mail", "WebServices"],
    };

    /// <summary>
    /// Known exceptions, each with its reason: the pipeline's client address is read by the sign-in and API limits;
    /// the incoming API checks tokens with the functional accounts' OIDC profiles.
    /// </summary>
    private static readonly HashSet<(string From, string To, string File)> Allowed =
    [
        ("WebServices", "Hosting", "ApiServices.cs"),
        ("Admin", "Hosting", "AdminAccounts.cs"),
        ("Admin", "Hosting", "AdminOptions.cs"),
        ("WebServices", "FunctionalAccounts", "ApiAuthentication.cs"),
        ("WebServices", "FunctionalAccounts", "ApiEndpoints.cs"),
        ("WebServices", "FunctionalAccounts", "IncomingTokenValidator.cs"),
    ];

    [Fact]
    public void NoFolder_UsesOneItMustNot()
    {
        var edges = ReadEdges();
        var broken = edges
            .Where(e => Forbidden.TryGetValue(e.From, out var not) && not.Contains(e.To) && !Allowed.Contains(e))
            .Select(e => $"{e.From}/{e.File} uses {e.To}")
            .ToList();
        Assert.True(broken.Count == 0, "Folder dependencies against docs/architecture.md:\n" + string.Join('\n', broken));
    }

    [Fact]
    public void TheFolders_UseEachOtherWithoutCycles()
    {
        // Data names every capability's entities (one EF model) and Hosting registers every capability: both are roots.
        var graph = ReadEdges()
            .Where(e => e.From is not ("Data" or "Hosting") && !Allowed.Contains(e))
            .GroupBy(e => e.From)
            .ToDictionary(g => g.Key, g => g.Select(e => e.To).ToHashSet());
        var cycles = new List<string>();
        foreach (var start in graph.Keys)
        {
            var path = new Stack<string>();
            Visit(start, start, graph, path, new HashSet<string>(), cycles);
        }

        Assert.True(cycles.Count == 0, "Folders that use each other:\n" + string.Join('\n', cycles.Distinct()));
    }

    [Fact]
    public void TheReader_SeesADependency_ThatIsThere()
    {
        // The engine's definition names the engine's own folder and Data: the reader must find the latter, or the rules above check nothing.
        var edges = ReadEdges();
        Assert.Contains(edges, e => e is { From: "Tokens", To: "Data" });
        Assert.Contains(edges, e => e is { From: "TokenProvider", To: "Tokens" });
        Assert.Contains(edges, e => e is { From: "Oidc", To: "Providers" });
    }

    private static void Visit(string start, string node, Dictionary<string, HashSet<string>> graph, Stack<string> path, HashSet<string> seen, List<string> cycles)
    {
        path.Push(node);
        foreach (var next in graph.GetValueOrDefault(node) ?? [])
        {
            if (next == start)
            {
                cycles.Add(string.Join(" → ", path.Reverse().Append(start)));
            }
            else if (seen.Add(next))
            {
                Visit(start, next, graph, path, seen, cycles);
            }
        }

        path.Pop();
    }

    /// <summary>Sub-folders that are layers of their own: the alert channels deliver through Mail, which raises alerts.</summary>
    private static readonly string[] Layers = ["Alerts/Channels"];

    private static string Node(string dottedOrPath)
    {
        var path = dottedOrPath.Replace('.', '/');
        return Layers.FirstOrDefault(l => path == l || path.StartsWith(l + "/", StringComparison.Ordinal)) is { } layer
            ? layer.Replace('/', '.')
            : path.Split('/')[0];
    }

    private static List<(string From, string To, string File)> ReadEdges()
    {
        var root = Path.Combine(RepositoryRoot(), "src", "TokenAdmin");
        var folders = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>()
            .Where(f => f is not ("obj" or "bin" or "Pages" or "Cli" or "wwwroot" or "Templates" or "Properties"))
            .ToHashSet(StringComparer.Ordinal);
        var edges = new HashSet<(string, string, string)>();
        foreach (var folder in folders)
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories))
            {
                if (file.Contains($"{Path.DirectorySeparatorChar}Migrations{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                {
                    continue;
                }

                var code = StringLiteral().Replace(Comment().Replace(File.ReadAllText(file), ""), "\"\"");
                var from = Node(Path.GetRelativePath(root, Path.GetDirectoryName(file)!));
                foreach (Match m in Qualified().Matches(code))
                {
                    var used = Node(m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Success ? m.Groups[2].Value : m.Groups[3].Value);
                    if (used != from && folders.Contains(used.Split('.')[0]))
                    {
                        edges.Add((from, used, Path.GetFileName(file)));
                    }
                }
            }
        }

        return [.. edges];
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TokenAdmin.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"TokenAdmin.sln not found above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comment();

    [GeneratedRegex(@"@""(?:[^""]|"""")*""|""(?:[^""\\\n]|\\.)*""")]
    private static partial Regex StringLiteral();

    /// <summary>"using TokenAdmin.X(.Y)", "TokenAdmin.X(.Y).Z", or "X.Y" where X starts a name (not a member access).</summary>
    [GeneratedRegex(@"\busing\s+(?:static\s+)?TokenAdmin\.([A-Z][\w.]*)|TokenAdmin\.([A-Z]\w*(?:\.[A-Z]\w*)?)\.[A-Z]|(?<![\w.])([A-Z]\w*)\.[A-Z]")]
    private static partial Regex Qualified();
}
