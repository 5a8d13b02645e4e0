using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using TokenAdmin.Cli;
using static TokenAdmin.Tests.Tokens.TokenTransferData;

namespace TokenAdmin.Tests.Tokens;

/// <summary>`tokens export` and `tokens import` through <see cref="CliApp"/>, on two installations (data directories).</summary>
public sealed class TokenTransferCliTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "tokenadmin-tests", "cli-transfer-" + Guid.NewGuid().ToString("N"));

    private string First => Path.Combine(_root, "first");
    private string Second => Path.Combine(_root, "second");
    private string File(string name) => Path.Combine(_root, name);

    public TokenTransferCliTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_root, recursive: true);
    }

    private static Task<(int Exit, string Out, string Err)> RunAsync(string dataDirectory, params string[] args) =>
        Infrastructure.ConsoleVerbs.RunAsync(dataDirectory, "", args);

    /// <summary>The token config entries of an export, without the header that names the time of export.</summary>
    private static string Entries(string path) => System.IO.File.ReadAllText(path).Split("tokenConfigs:\n")[1];

    [Fact]
    public async Task ImportZnuny_ThenExportChosen_ThenImportIntoSecondInstallation_CarriesConfigsAndSecrets()
    {
        var znuny = await RunAsync(First, "tokens", "import", "--file", FixturePath("znuny-7.1-token-configs.yml"));
        var export = await RunAsync(First, "tokens", "export", "--name", "archive app", "--name", "Support Gmail", "--include-secrets", "--file", File("chosen.yaml"));
        var import = await RunAsync(Second, "tokens", "import", "--file", File("chosen.yaml"));
        var check = await RunAsync(Second, "tokens", "export", "--include-secrets", "--file", File("check.yaml"));

        Assert.Equal((0, ""), (znuny.Exit, znuny.Err));
        Assert.Equal(
            "added: Support Gmail\nadded: Helpdesk Exchange\nadded: Archive App\nadded: Legacy Outlook\nadded: Keycloak Mail\n" +
            $"Imported {FixturePath("znuny-7.1-token-configs.yml")} (Znuny export): 5 added, 0 updated, 0 skipped.\n",
            znuny.Out);
        Assert.Equal(0, export.Exit);
        Assert.Equal(
            $"Exported 2 token config(s) to {File("chosen.yaml")}: Archive App, Support Gmail.\n" +
            "The file holds client secrets and passwords in plain text: keep it safe and delete it once imported.\n",
            export.Out);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, System.IO.File.GetUnixFileMode(File("chosen.yaml")));
        }

        Assert.Equal((0, "added: Archive App\nadded: Support Gmail\n"), (import.Exit, import.Out[..import.Out.IndexOf("Imported", StringComparison.Ordinal)]));
        Assert.Equal(0, check.Exit);
        Assert.Equal(Entries(File("chosen.yaml")), Entries(File("check.yaml")));
        Assert.Contains("  clientSecret: \"Xk~8Q: app secret with colon and # hash\"\n", Entries(File("check.yaml")), StringComparison.Ordinal);
        Assert.Contains("  clientSecret: \"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\"\n", Entries(File("check.yaml")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_ExistingNames_AreSkippedAndListed_OrUpdatedWithOverwrite()
    {
        await RunAsync(First, "tokens", "import", "--file", FixturePath("znuny-7.1-token-configs.yml"));
        await RunAsync(First, "tokens", "export", "--name", "Legacy Outlook", "--file", File("outlook.yaml"));

        var skip = await RunAsync(First, "tokens", "import", "--file", File("outlook.yaml"));
        var overwrite = await RunAsync(First, "tokens", "import", "--file", File("outlook.yaml"), "--overwrite");

        Assert.Equal(0, skip.Exit);
        Assert.Equal(
            "skipped: Legacy Outlook (a token config of this name exists; import with overwrite to update it)\n" +
            $"Imported {File("outlook.yaml")} (TokenAdmin export): 0 added, 0 updated, 1 skipped.\n",
            skip.Out);
        Assert.Equal(0, overwrite.Exit);
        Assert.StartsWith("updated: Legacy Outlook\n", overwrite.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_WithoutSecrets_LeavesThemOut()
    {
        await RunAsync(First, "tokens", "import", "--file", FixturePath("znuny-7.1-token-configs.yml"));

        var export = await RunAsync(First, "tokens", "export", "--file", File("all.yaml"));

        Assert.Equal(0, export.Exit);
        Assert.DoesNotContain("plain text", export.Out, StringComparison.Ordinal);
        var text = System.IO.File.ReadAllText(File("all.yaml"));
        Assert.Equal(5, text.Split("\n- name: ").Length - 1);
        Assert.DoesNotContain("clientSecret", text, StringComparison.Ordinal);
        Assert.DoesNotContain("GOCSPX", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_BadFile_Exits1_ListsEveryProblem_AndImportsNothing()
    {
        System.IO.File.WriteAllText(File("bad.yaml"),
            "tokenAdminExport: 1\ntokenConfigs:\n- name: Good\n  template: Custom\n  flow: ClientCredentials\n  clientId: good\n  endpoints:\n    token: https://auth.example.com/token\n  clientSecret: s\n" +
            "- name: good\n  template: Custom\n  clientId: dup\n  endpoints:\n    token: https://auth.example.com/token\n    authorization: https://auth.example.com/authorize\n");

        var import = await RunAsync(First, "tokens", "import", "--file", File("bad.yaml"));
        var export = await RunAsync(First, "tokens", "export", "--file", File("after.yaml"));

        Assert.Equal(1, import.Exit);
        Assert.Equal("Entry 2 'good': name: entry 1 has this name too; names must differ, ignoring upper and lower case.\nNothing was imported.\n", import.Err);
        Assert.Equal("", import.Out);
        Assert.Equal((1, "There are no token configs to export.\n"), (export.Exit, export.Err));
    }

    [Fact]
    public async Task Import_MissingFile_Exits1()
    {
        var (exit, _, error) = await RunAsync(First, "tokens", "import", "--file", File("missing.yaml"));

        Assert.Equal(1, exit);
        Assert.StartsWith($"Cannot read {File("missing.yaml")}: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_UnknownName_Exits1_AndWritesNoFile()
    {
        await RunAsync(First, "tokens", "import", "--file", FixturePath("znuny-7.1-token-configs.yml"));

        var (exit, _, error) = await RunAsync(First, "tokens", "export", "--name", "Support Gmail", "--name", "Nope", "--file", File("x.yaml"));

        Assert.Equal((1, "There is no token config named 'Nope'.\n"), (exit, error));
        Assert.False(System.IO.File.Exists(File("x.yaml")));
    }

    [Theory]
    [InlineData(new[] { "tokens", "export", "--name", "A" }, "Option '--file' is required.")]
    [InlineData(new[] { "tokens", "import" }, "Option '--file' is required.")]
    [InlineData(new[] { "tokens", "import", "--file", "a.yaml", "--file", "b.yaml" }, "Option '--file' expects a single argument but 2 were provided.")]
    [InlineData(new[] { "tokens", "import", "--file", "a.yaml", "--name", "A" }, "Unrecognized command or argument '--name'.")]
    [InlineData(new[] { "tokens", "export", "--name" }, "Required argument missing for option: '--name'.")]
    public async Task BadCommandLine_Exits2_WithClearMessage(string[] args, string message)
    {
        var (exit, _, error) = await RunAsync(First, args);

        Assert.Equal(2, exit);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_ListsTokenVerbs_AndEachHasHelp()
    {
        var overview = await RunAsync(First, "help");
        var export = await RunAsync(First, "tokens", "export", "--help");
        var import = await RunAsync(First, "tokens", "import", "--help");

        Assert.Contains("tokens export", overview.Out, StringComparison.Ordinal);
        Assert.Contains("tokens import", overview.Out, StringComparison.Ordinal);
        Assert.Contains("Usage:\n  TokenAdmin tokens export [options]", export.Out, StringComparison.Ordinal);
        Assert.Contains("--name <NAME>", export.Out, StringComparison.Ordinal);
        Assert.Contains("--file <FILE> (REQUIRED)", export.Out, StringComparison.Ordinal);
        Assert.Contains("Usage:\n  TokenAdmin tokens import [options]", import.Out, StringComparison.Ordinal);
        Assert.Contains("--overwrite", import.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_WithRepeatedName_ExportsEachNamedConfig()
    {
        await RunAsync(First, "tokens", "import", "--file", FixturePath("znuny-7.1-token-configs.yml"));

        var (exit, _, error) = await RunAsync(First, "tokens", "export", "--name", "Support Gmail", "--name=Nope", "--file", File("x.yaml"));

        // Both names reached the export: the second is the one reported missing.
        Assert.Equal((1, "There is no token config named 'Nope'.\n"), (exit, error));
    }
}
