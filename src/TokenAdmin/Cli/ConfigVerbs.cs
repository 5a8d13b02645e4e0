using TokenAdmin.Settings;

namespace TokenAdmin.Cli;

internal static class ConfigVerbs
{
    public static IReadOnlyList<CliVerb> All { get; } =
    [
        new(["config", "list"], "Lists every setting with its value (secrets show only whether they are set).", "config list", "",
            [], new Dictionary<string, bool>(), ListAsync),
        new(["config", "get"], "Prints one setting's value.", "config get NAME", "", ["NAME"], new Dictionary<string, bool>(), GetAsync),
        new(["config", "update"], "Changes one setting, after checking the value.",
            "config update --setting-name NAME (--value VALUE | --value-stdin)",
            "Secrets are best given with --value-stdin, which reads the first line of standard input.\n" +
            "Example: config update --setting-name HttpType --value https",
            [], new Dictionary<string, bool> { ["--setting-name"] = true, ["--value"] = true, ["--value-stdin"] = false }, UpdateAsync),
    ];

    private static async Task<int> ListAsync(CliContext context, CancellationToken cancellationToken)
    {
        var snapshot = await context.Services.GetRequiredService<SettingsStore>().GetAsync(cancellationToken);
        foreach (var definition in SettingNames.All)
        {
            context.Stdout.WriteLine($"{definition.Name} = {Show(snapshot, definition)}");
        }

        context.Stdout.WriteLine($"(redirect URI: {snapshot.RedirectUri})");
        return CliApp.Ok;
    }

    private static async Task<int> GetAsync(CliContext context, CancellationToken cancellationToken)
    {
        var name = context.Arguments.Positionals[0];
        if (SettingNames.Find(name) is not { } definition)
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
        var name = context.Arguments.Get("--setting-name");
        var fromStdin = context.Arguments.Has("--value-stdin");
        if (name is null || context.Arguments.Has("--value") == fromStdin)
        {
            context.Stderr.WriteLine("config update needs --setting-name NAME and either --value VALUE or --value-stdin.");
            return CliApp.Usage;
        }

        var value = fromStdin ? await context.Stdin.ReadLineAsync(cancellationToken) ?? "" : context.Arguments.Get("--value")!;
        var definition = SettingNames.Find(name);
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
