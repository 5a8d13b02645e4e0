using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;
using TokenAdmin.Hosting;
using TokenAdmin.Secrets;

namespace TokenAdmin.Cli;

/// <summary>
/// Console verbs, run by the same executable as the web host: `TokenAdmin config list`, `TokenAdmin admin create ...`.
/// Exit codes: 0 done, 1 refused (bad value, unknown name), 2 usage error.
/// </summary>
public static class CliApp
{
    public const int Ok = 0;
    public const int Refused = 1;
    public const int Usage = 2;

    private static readonly IReadOnlyList<CliVerb> Verbs = [.. AdminVerbs.All, .. ConfigVerbs.All, .. TokenStateVerbs.All, .. TokenVerbs.All, .. JobVerbs.All, .. ImportUserVerbs.All, .. MailVerbs.All, .. WebServiceVerbs.All];

    /// <summary>A first argument that is not an option (the web host's options all start with -) names a verb.</summary>
    public static bool IsVerb(string[] args) => args.Length > 0 && !args[0].StartsWith('-');

    public static async Task<int> RunAsync(
        string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr,
        Action<IConfigurationBuilder>? configure = null, CancellationToken cancellationToken = default)
    {
        if (args.Length == 0 || args[0] is "help")
        {
            WriteOverview(stdout);
            return Ok;
        }

        var verb = Verbs.FirstOrDefault(v => args.Length >= v.Words.Length && args.AsSpan(0, v.Words.Length).SequenceEqual(v.Words));
        if (verb is null)
        {
            var group = Verbs.Where(v => v.Words[0] == args[0]).ToList();
            if (group.Count > 0 && (args.Length == 1 || args[1] is "--help" or "-h"))
            {
                WriteOverview(stdout, args[0]);
                return args.Length == 1 ? Usage : Ok;
            }

            stderr.WriteLine($"Unknown command '{string.Join(' ', args.TakeWhile(a => !a.StartsWith('-')))}'. Run 'help' for the list of commands.");
            return Usage;
        }

        var rest = args[verb.Words.Length..];
        if (rest.Contains("--help") || rest.Contains("-h"))
        {
            verb.WriteHelp(stdout);
            return Ok;
        }

        if (!CliArguments.TryParse(verb, rest, out var parsed, out var error))
        {
            stderr.WriteLine(error);
            stderr.WriteLine($"Usage: {verb.Usage}   (see '{string.Join(' ', verb.Words)} --help')");
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
            return await verb.Run(new CliContext(scope.ServiceProvider, parsed, stdin, stdout, stderr), cancellationToken);
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

    private static void WriteOverview(TextWriter stdout, string? group = null)
    {
        stdout.WriteLine("TokenAdmin console commands (run with --help for details):");
        foreach (var verb in Verbs.Where(v => group is null || v.Words[0] == group))
        {
            stdout.WriteLine($"  {string.Join(' ', verb.Words),-30} {verb.Summary}");
        }

        stdout.WriteLine();
        stdout.WriteLine("Without a command, TokenAdmin starts the web application.");
    }
}

/// <summary>What a verb gets: services, its parsed options and the console.</summary>
public sealed record CliContext(IServiceProvider Services, CliArguments Arguments, TextReader Stdin, TextWriter Stdout, TextWriter Stderr);

/// <param name="Words">The verb as typed, e.g. ["config", "update"].</param>
/// <param name="Positionals">Names of required positional arguments, in order.</param>
/// <param name="Options">Option names with a value (true) or flags (false).</param>
/// <param name="Repeatable">Options that may be given more than once, such as --name A --name B; see <see cref="CliArguments.GetAll"/>.</param>
public sealed record CliVerb(
    string[] Words,
    string Summary,
    string Usage,
    string Help,
    string[] Positionals,
    IReadOnlyDictionary<string, bool> Options,
    Func<CliContext, CancellationToken, Task<int>> Run,
    IReadOnlyCollection<string>? Repeatable = null)
{
    public void WriteHelp(TextWriter output)
    {
        output.WriteLine($"Usage: {Usage}");
        output.WriteLine();
        output.WriteLine(Summary);
        if (Help.Length > 0)
        {
            output.WriteLine();
            output.WriteLine(Help);
        }
    }
}

public sealed class CliArguments
{
    private readonly Dictionary<string, List<string?>> _options = new(StringComparer.Ordinal);
    private readonly List<string> _positionals = [];

    public IReadOnlyList<string> Positionals => _positionals;

    public bool Has(string option) => _options.ContainsKey(option);

    public string? Get(string option) => _options.TryGetValue(option, out var values) ? values[^1] : null;

    /// <summary>Every value of a repeatable option, in the order given.</summary>
    public IReadOnlyList<string> GetAll(string option) => _options.TryGetValue(option, out var values) ? values.OfType<string>().ToList() : [];

    public static bool TryParse(CliVerb verb, string[] args, out CliArguments parsed, out string error)
    {
        parsed = new CliArguments();
        error = "";
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                parsed._positionals.Add(arg);
                continue;
            }

            var name = arg;
            string? inlineValue = null;
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                name = arg[..eq];
                inlineValue = arg[(eq + 1)..];
            }

            if (!verb.Options.TryGetValue(name, out var takesValue))
            {
                error = $"Unknown option '{name}' for '{string.Join(' ', verb.Words)}'.";
                return false;
            }

            if (!parsed._options.TryGetValue(name, out var values))
            {
                parsed._options[name] = values = [];
            }
            else if (verb.Repeatable?.Contains(name) != true)
            {
                error = $"Option '{name}' is given twice.";
                return false;
            }

            if (!takesValue)
            {
                values.Add(null);
                continue;
            }

            if (inlineValue is null && (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal)))
            {
                error = $"Option '{name}' needs a value.";
                return false;
            }

            values.Add(inlineValue ?? args[++i]);
        }

        if (parsed._positionals.Count != verb.Positionals.Length)
        {
            error = verb.Positionals.Length == 0
                ? $"Unexpected argument '{parsed._positionals[0]}'."
                : $"Expected {string.Join(" ", verb.Positionals)}.";
            return false;
        }

        return true;
    }
}
