using System.Text;
using TokenAdmin.Tokens;

namespace TokenAdmin.Cli;

internal static class TokenVerbs
{
    /// <summary>The `tokens ...` verbs; each is one entry here.</summary>
    public static IReadOnlyList<CliVerb> All { get; } =
    [
        new(["tokens", "export"], "Writes token configs to a YAML file (all, or those named).",
            "tokens export [--name NAME]... [--include-secrets] --file FILE",
            "--name may be given several times; without it every token config is exported.\n" +
            "--include-secrets writes the client secrets and passwords in plain text into the file (created readable by\n" +
            "its owner only); without it they are left out and must be entered again after an import.\n" +
            "Example: tokens export --name 'Support mailbox' --file support.yaml",
            [], new Dictionary<string, bool> { ["--name"] = true, ["--include-secrets"] = false, ["--file"] = true }, ExportAsync,
            Repeatable: ["--name"]),
        new(["tokens", "import"], "Reads token configs from a TokenAdmin or Znuny export file, all or nothing.",
            "tokens import --file FILE [--overwrite]",
            "Without --overwrite, token configs whose name exists already are skipped (and listed); with it, those are\n" +
            "updated, keeping the stored client secret when the file has none. New names are added either way.\n" +
            "If any entry has a problem, nothing is imported and every problem is listed.",
            [], new Dictionary<string, bool> { ["--file"] = true, ["--overwrite"] = false }, ImportAsync),
    ];

    private static async Task<int> ExportAsync(CliContext context, CancellationToken cancellationToken)
    {
        var file = context.Arguments.Get("--file");
        if (file is null)
        {
            context.Stderr.WriteLine("tokens export needs --file FILE.");
            return CliApp.Usage;
        }

        var includeSecrets = context.Arguments.Has("--include-secrets");
        var result = await TokenConfigTransfer.Create(context.Services)
            .ExportAsync(context.Arguments.GetAll("--name"), includeSecrets, "console", cancellationToken);
        if (!result.Succeeded)
        {
            context.Stderr.WriteLine(result.Error);
            return CliApp.Refused;
        }

        try
        {
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            await using var stream = new FileStream(file, options);
            await stream.WriteAsync(Encoding.UTF8.GetBytes(result.Yaml), cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            context.Stderr.WriteLine($"Cannot write {file}: {ex.Message}");
            return CliApp.Refused;
        }

        context.Stdout.WriteLine($"Exported {result.Names.Count} token config(s) to {file}: {string.Join(", ", result.Names)}.");
        if (includeSecrets)
        {
            context.Stdout.WriteLine("The file holds client secrets and passwords in plain text: keep it safe and delete it once imported.");
        }

        return CliApp.Ok;
    }

    private static async Task<int> ImportAsync(CliContext context, CancellationToken cancellationToken)
    {
        var file = context.Arguments.Get("--file");
        if (file is null)
        {
            context.Stderr.WriteLine("tokens import needs --file FILE.");
            return CliApp.Usage;
        }

        TokenImportResult result;
        try
        {
            await using var stream = File.OpenRead(file);
            result = await TokenConfigTransfer.Create(context.Services)
                .ImportAsync(stream, context.Arguments.Has("--overwrite"), "console", file, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            context.Stderr.WriteLine($"Cannot read {file}: {ex.Message}");
            return CliApp.Refused;
        }

        if (!result.Succeeded)
        {
            foreach (var error in result.Errors)
            {
                context.Stderr.WriteLine(error.ToString());
            }

            context.Stderr.WriteLine("Nothing was imported.");
            return CliApp.Refused;
        }

        foreach (var name in result.Added)
        {
            context.Stdout.WriteLine($"added: {name}");
        }

        foreach (var name in result.Updated)
        {
            context.Stdout.WriteLine($"updated: {name}");
        }

        foreach (var skip in result.Skipped)
        {
            context.Stdout.WriteLine($"skipped: {skip.Name} ({skip.Reason})");
        }

        context.Stdout.WriteLine($"Imported {file} ({result.Format}): {result.Added.Count} added, {result.Updated.Count} updated, {result.Skipped.Count} skipped.");
        return CliApp.Ok;
    }
}
