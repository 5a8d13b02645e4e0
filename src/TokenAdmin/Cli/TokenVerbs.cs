using System.CommandLine;
using System.Text;
using TokenAdmin.Tokens;

namespace TokenAdmin.Cli;

internal static class TokenVerbs
{
    private static readonly Option<string> FileOption = new("--file") { Description = "The YAML file.", HelpName = "FILE", Required = true };

    private static readonly Option<string[]> Names = new("--name")
    {
        Description = "A token config to export; may be given several times. Without it, every token config is exported.",
        HelpName = "NAME",
    };

    private static readonly Option<bool> IncludeSecrets = new("--include-secrets")
    {
        Description = "Write client secrets and passwords in plain text into the file (created readable by its owner only); " +
            "without it they are left out and must be entered again after an import.",
    };

    private static readonly Option<bool> Overwrite = new("--overwrite")
    {
        Description = "Update token configs whose name exists already (keeping the stored client secret when the file has none); " +
            "without it they are skipped and listed.",
    };

    /// <summary>The `tokens ...` verbs; each is one entry here.</summary>
    public static IReadOnlyList<CliVerb> All { get; } =
    [
        new(["tokens", "export"], "Writes token configs to a YAML file (all, or those named).", "", ExportAsync)
        {
            Symbols = [Names, IncludeSecrets, FileOption],
            Examples = ["TokenAdmin tokens export --name 'Support mailbox' --file support.yaml"],
        },
        new(["tokens", "import"], "Reads token configs from a TokenAdmin or Znuny export file, all or nothing.",
            "New names are added. If any entry has a problem, nothing is imported and every problem is listed.", ImportAsync)
        {
            Symbols = [FileOption, Overwrite],
            Examples = ["TokenAdmin tokens import --file support.yaml --overwrite"],
        },
    ];

    private static async Task<int> ExportAsync(CliContext context, CancellationToken cancellationToken)
    {
        var file = context.Get(FileOption)!;
        var includeSecrets = context.Get(IncludeSecrets);
        var result = await TokenConfigTransfer.Create(context.Services)
            .ExportAsync(context.Get(Names) ?? [], includeSecrets, "console", cancellationToken);
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
        var file = context.Get(FileOption)!;
        TokenImportResult result;
        try
        {
            await using var stream = File.OpenRead(file);
            result = await TokenConfigTransfer.Create(context.Services)
                .ImportAsync(stream, context.Get(Overwrite), "console", file, cancellationToken);
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
