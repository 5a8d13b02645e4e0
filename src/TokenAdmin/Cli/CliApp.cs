using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;
using TokenAdmin.Hosting;
using TokenAdmin.Secrets;
using TokenAdmin.Settings;

namespace TokenAdmin.Cli;

/// <summary>
/// Console verbs, run by the same executable as the web host: `TokenAdmin config list`, `TokenAdmin admin create ...`.
/// Parsed by System.CommandLine from the verbs' declared options and arguments, which also gives every verb its help.
/// Exit codes: 0 done (help included), 1 refused (bad value, unknown name), 2 usage error.
/// </summary>
public static class CliApp
{
    public const int Ok = 0;
    public const int Refused = 1;
    public const int Usage = 2;
    public const string Name = "TokenAdmin";

    private static readonly IReadOnlyList<CliVerb> Verbs = [.. AdminVerbs.All, .. ConfigVerbs.All, .. TokenStateVerbs.All, .. TokenVerbs.All, .. JobVerbs.All, .. ImportUserVerbs.All, .. MailVerbs.All, .. WebServiceVerbs.All];

    private static readonly Dictionary<string, string> Groups = new(StringComparer.Ordinal)
    {
        ["admin"] = "Local admins: create, list, unlock; the first-run setup link.",
        ["config"] = "System settings: list, get, update.",
        ["tokens"] = "Token configs: list, request and refresh tokens, export and import.",
        ["jobs"] = "Background jobs, run once in this process.",
        ["jobs run"] = "Runs a job once.",
        ["api-users"] = "API users of the incoming API.",
        ["mail"] = "Mail accounts: list, fetch now.",
        ["webservices"] = "Web services: list, invoke.",
    };

    private static readonly string[] HelpAndVersion = ["--help", "-h", "-?", "--version"];

    private static readonly Lazy<(Command Root, Dictionary<Command, CliVerb> Leaves)> Tree = new(Build);

    /// <summary>
    /// A first argument that is not an option (the web host's options all start with -) names a verb; help and
    /// version are answered here too, wherever they stand, so they never start the web server.
    /// </summary>
    public static bool IsVerb(string[] args) =>
        (args.Length > 0 && !args[0].StartsWith('-')) || args.Any(a => HelpAndVersion.Contains(a, StringComparer.Ordinal));

    public static async Task<int> RunAsync(
        string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr,
        Action<IConfigurationBuilder>? configure = null, CancellationToken cancellationToken = default)
    {
        if (args.Length == 0 || args is ["help"])
        {
            WriteOverview(stdout);
            return Ok;
        }

        var (root, leaves) = Tree.Value;
        var parse = root.Parse(args);
        var invocation = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };
        if (parse.Action is not null and not ParseErrorAction)
        {
            // Only --help and --version have actions of their own: they print and end.
            parse.Invoke(invocation);
            return Ok;
        }

        var command = parse.CommandResult.Command;
        if (parse.Errors.Count > 0 || !leaves.TryGetValue(command, out var verb))
        {
            if (!leaves.ContainsKey(command) && command != root && args.Length == Path(command).Count)
            {
                // A group alone ("admin"): its verbs, as a usage error.
                root.Parse([.. Path(command), "--help"]).Invoke(invocation);
                return Usage;
            }

            // Note: next to "Unrecognized command or argument 'x'", the parser's "Required command was not provided"
            // only repeats that no verb was recognized.
            var errors = parse.Errors.Where(e => parse.Errors.Count == 1 || e.Message != "Required command was not provided.");
            foreach (var error in errors)
            {
                stderr.WriteLine(error.Message);
            }

            stderr.WriteLine(command == root
                ? $"Run '{Name} --help' for the list of commands."
                : $"See '{Name} {string.Join(' ', Path(command))} --help'.");
            return Usage;
        }

        try
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
            {
                Args = [],
                ContentRootPath = ContentRoot.Find(),
                EnvironmentName = ContentRoot.Environment(),
            });
            configure?.Invoke(builder.Configuration);
            // Note: no log output: a verb reports its outcome itself, and appsettings.json's log levels are for the web app.
            builder.Logging.ClearProviders();
            builder.Services.AddTokenAdminCore(builder.Configuration, builder.Environment.ContentRootPath);
            using var host = builder.Build();
            using var scope = host.Services.CreateScope();
            await DatabaseStartup.MigrateAsync(scope.ServiceProvider.GetRequiredService<TokenAdminDb>(), cancellationToken);
            KeyRingCheck.EnsureReadable(scope.ServiceProvider);
            return await verb.Run(new CliContext(scope.ServiceProvider, parse, stdin, stdout, stderr), cancellationToken);
        }
        catch (DbUpdateException ex)
        {
            stderr.WriteLine($"The database refused the change: {ex.InnerException?.Message ?? ex.Message}");
            return Refused;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // An admin at a console wants the reason, not a stack trace; the exit code says it failed.
            stderr.WriteLine($"{string.Join(' ', verb.Words)} failed: {ex.Message}");
            return Refused;
        }
    }

    private static List<string> Path(Command command)
    {
        var words = new List<string>();
        for (Symbol? s = command; s is Command c && s.Parents.Any(); s = s.Parents.FirstOrDefault())
        {
            words.Insert(0, c.Name);
        }

        return words;
    }

    private static (Command Root, Dictionary<Command, CliVerb> Leaves) Build()
    {
        var root = new Command(Name,
            "Without a command, TokenAdmin starts the web application; options such as --urls http://127.0.0.1:5080 go to ASP.NET Core. " +
            "With a command, it runs that console verb and exits.");
        var help = new HelpOption { Recursive = true };
        help.Action = new HelpWithExamples((HelpAction)help.Action!);
        root.Options.Add(help);
        root.Options.Add(new VersionOption());
        var leaves = new Dictionary<Command, CliVerb>();
        foreach (var verb in Verbs)
        {
            var parent = root;
            for (var i = 0; i < verb.Words.Length - 1; i++)
            {
                var group = parent.Subcommands.FirstOrDefault(c => c.Name == verb.Words[i]);
                if (group is null)
                {
                    group = new Command(verb.Words[i], Groups.GetValueOrDefault(string.Join(' ', verb.Words[..(i + 1)])));
                    parent.Subcommands.Add(group);
                }

                parent = group;
            }

            var command = new Command(verb.Words[^1], verb.Help.Length == 0 ? verb.Summary : verb.Summary + "\n" + verb.Help);
            foreach (var symbol in verb.Symbols)
            {
                switch (symbol)
                {
                    case Option option:
                        command.Options.Add(option);
                        break;
                    case Argument argument:
                        command.Arguments.Add(argument);
                        break;
                }
            }

            if (verb.Validate is { } validate)
            {
                command.Validators.Add(validate);
            }

            parent.Subcommands.Add(command);
            leaves[command] = verb;
        }

        return (root, leaves);
    }

    private static void WriteOverview(TextWriter stdout, string? group = null)
    {
        stdout.WriteLine($"{Name} console commands (run with --help for details):");
        foreach (var verb in Verbs.Where(v => group is null || v.Words[0] == group))
        {
            stdout.WriteLine($"  {string.Join(' ', verb.Words),-30} {verb.Summary}");
        }

        stdout.WriteLine();
        stdout.WriteLine($"Without a command, {Name} starts the web application.");
    }

    /// <summary>System.CommandLine's help, then the verb's examples (or, for the whole program, every verb).</summary>
    private sealed class HelpWithExamples(HelpAction inner) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            inner.Invoke(parseResult);
            var output = parseResult.InvocationConfiguration.Output;
            var command = parseResult.CommandResult.Command;
            if (command == Tree.Value.Root)
            {
                WriteOverview(output);
            }
            else if (Tree.Value.Leaves.TryGetValue(command, out var verb) && verb.Examples.Count > 0)
            {
                output.WriteLine("Examples:");
                foreach (var example in verb.Examples)
                {
                    output.WriteLine($"  {example}");
                }

                output.WriteLine();
            }

            return Ok;
        }
    }
}

/// <summary>What a verb gets: services, the parsed command line and the console.</summary>
public sealed record CliContext(IServiceProvider Services, ParseResult Parse, TextReader Stdin, TextWriter Stdout, TextWriter Stderr)
{
    public T? Get<T>(Option<T> option) => Parse.GetValue(option);

    public T Get<T>(Argument<T> argument) => Parse.GetValue(argument)!;
}

/// <param name="Words">The verb as typed, e.g. ["config", "update"].</param>
/// <param name="Summary">One line, for the list of verbs.</param>
/// <param name="Help">More text for the verb's --help, under the summary; the options describe themselves.</param>
public sealed record CliVerb(string[] Words, string Summary, string Help, Func<CliContext, CancellationToken, Task<int>> Run)
{
    /// <summary>The verb's declared options and arguments (System.CommandLine checks presence, count and type).</summary>
    public IReadOnlyList<Symbol> Symbols { get; init; } = [];

    /// <summary>Command lines shown under "Examples:" in the verb's help.</summary>
    public IReadOnlyList<string> Examples { get; init; } = [];

    /// <summary>Rules between options (one of two must be given), reported like any other usage error.</summary>
    public Action<System.CommandLine.Parsing.CommandResult>? Validate { get; init; }
}
