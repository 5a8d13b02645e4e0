using System.CommandLine;
using TokenAdmin.Settings;

namespace TokenAdmin.Cli;

internal static class ConfigVerbs
{
    private static readonly Argument<string> Name = new("NAME") { Description = "The setting's name, as 'config list' shows it." };

    private static readonly Option<string> SettingName = new("--setting-name")
    {
        Description = "The setting's name, as 'config list' shows it.", HelpName = "NAME", Required = true,
    };

    private static readonly Option<string> Value = new("--value") { Description = "The new value.", HelpName = "VALUE" };

    private static readonly Option<bool> ValueStdin = new("--value-stdin")
    {
        Description = "Read the new value from the first line of standard input (best for secrets).",
    };

    public static IReadOnlyList<CliVerb> All { get; } =
    [
        new(["config", "list"], "Lists every setting with its value (secrets show only whether they are set).", "", ListAsync),
        new(["config", "get"], "Prints one setting's value.", "", GetAsync)
        {
            Symbols = [Name],
            Examples = ["TokenAdmin config get FQDN"],
        },
        new(["config", "update"], "Changes one setting, after checking the value.",
            "Give the value with --value or --value-stdin (one of the two). Secrets are best given with --value-stdin.",
            UpdateAsync)
        {
            Symbols = [SettingName, Value, ValueStdin],
            Examples =
            [
                "TokenAdmin config update --setting-name HttpType --value https",
                "printf '%s\\n' \"$SECRET\" | TokenAdmin config update --setting-name AdminOidc.ClientSecret --value-stdin",
            ],
            Validate = command =>
            {
                if ((command.GetResult(Value) is null) == (command.GetResult(ValueStdin) is null))
                {
                    command.AddError("Give either --value VALUE or --value-stdin, not both and not neither.");
                }
            },
        },
    ];

    private static async Task<int> ListAsync(CliContext context, CancellationToken cancellationToken)
    {
        var snapshot = await context.Services.GetRequiredService<SettingsStore>().GetAsync(cancellationToken);
        foreach (var definition in context.Services.GetRequiredService<SettingCatalog>().All)
        {
            context.Stdout.WriteLine($"{definition.Name} = {Show(snapshot, definition)}");
        }

        context.Stdout.WriteLine($"(redirect URI: {snapshot.RedirectUri})");
        return CliApp.Ok;
    }

    private static async Task<int> GetAsync(CliContext context, CancellationToken cancellationToken)
    {
        var name = context.Get(Name);
        if (context.Services.GetRequiredService<SettingCatalog>().Find(name) is not { } definition)
        {
            context.Stderr.WriteLine($"There is no setting named '{name}'. Run 'config list' for the names.");
            return CliApp.Refused;
        }

        var snapshot = await context.Services.GetRequiredService<SettingsStore>().GetAsync(cancellationToken);
        context.Stdout.WriteLine(Show(snapshot, definition));
        return CliApp.Ok;
    }

    private static async Task<int> UpdateAsync(CliContext context, CancellationToken cancellationToken)
    {
        var name = context.Get(SettingName)!;
        var value = context.Get(ValueStdin) ? await context.Stdin.ReadLineAsync(cancellationToken) ?? "" : context.Get(Value)!;
        var definition = context.Services.GetRequiredService<SettingCatalog>().Find(name);
        if (definition is { Kind: SettingKind.Secret } && value.Trim().Length == 0)
        {
            context.Stderr.WriteLine($"{definition.Name} is a secret: give the new value (removing it is done on the settings page).");
            return CliApp.Refused;
        }

        var store = context.Services.GetRequiredService<SettingsStore>();
        var result = await store.UpdateAsync(new Dictionary<string, string?> { [name] = value }, "console", cancellationToken);
        if (!result.Succeeded)
        {
            foreach (var error in result.Errors.Values)
            {
                context.Stderr.WriteLine(error);
            }

            context.Stderr.WriteLine("Nothing was changed.");
            return CliApp.Refused;
        }

        var snapshot = await store.GetAsync(cancellationToken);
        context.Stdout.WriteLine(result.Changed.Count == 0
            ? $"{definition!.Name} already had that value."
            : $"{definition!.Name} = {Show(snapshot, definition)}");
        return CliApp.Ok;
    }

    private static string Show(SettingsSnapshot snapshot, SettingDefinition definition) =>
        definition.Kind == SettingKind.Secret
            ? snapshot.IsSet(definition.Name) ? "(secret is set)" : "(not set)"
            : snapshot.Get(definition.Name);
}
