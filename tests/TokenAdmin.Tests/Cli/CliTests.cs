using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using TokenAdmin.Cli;

namespace TokenAdmin.Tests.Cli;

public sealed class CliTests : IDisposable
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "tokenadmin-tests", "cli-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    private Task<(int Exit, string Out, string Err)> RunWithInputAsync(string stdin, params string[] args) =>
        Infrastructure.ConsoleVerbs.RunAsync(_dataDirectory, stdin, args);

    private Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) => RunWithInputAsync("", args);

    [Fact]
    public async Task ConfigList_ShowsEverySetting_AndTheRedirectUri()
    {
        var (exit, output, _) = await RunAsync("config", "list");

        Assert.Equal(0, exit);
        Assert.Contains("HttpType = http", output, StringComparison.Ordinal);
        Assert.Contains("FQDN = localhost:5080", output, StringComparison.Ordinal);
        Assert.Contains("AdminOidc.ClientSecret = (not set)", output, StringComparison.Ordinal);
        Assert.Contains("(redirect URI: http://localhost:5080/oauth2/callback)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigUpdate_ThenGet_ReturnsNewValue_AndRedirectUriFollows()
    {
        var update = await RunAsync("config", "update", "--setting-name", "HttpType", "--value", "https");
        await RunAsync("config", "update", "--setting-name", "FQDN", "--value", "tokens.example.com");
        var get = await RunAsync("config", "get", "HttpType");
        var list = await RunAsync("config", "list");

        Assert.Equal((0, "HttpType = https"), (update.Exit, update.Out.Trim()));
        Assert.Equal((0, "https"), (get.Exit, get.Out.Trim()));
        Assert.Contains("(redirect URI: https://tokens.example.com/oauth2/callback)", list.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("HttpType", "ftp", "HttpType must be one of: http, https.")]
    [InlineData("FQDN", "tokens.example.com/path", "FQDN is a host name with an optional :port, without scheme or path")]
    [InlineData("PathBase", "no-slash", "Path base must be empty or start with /")]
    [InlineData("AdminOidc.Enabled", "yes", "AdminOidc.Enabled must be true or false.")]
    [InlineData("AdminOidc.MetadataAddress", "not a url", "Metadata address must be an absolute http(s) URL")]
    [InlineData("NoSuchSetting", "x", "There is no setting named 'NoSuchSetting'.")]
    public async Task ConfigUpdate_WithInvalidValue_Exits1_AndChangesNothing(string name, string value, string message)
    {
        var (exit, _, error) = await RunAsync("config", "update", "--setting-name", name, "--value", value);
        var list = await RunAsync("config", "list");

        Assert.Equal(1, exit);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Contains("Nothing was changed.", error, StringComparison.Ordinal);
        Assert.Contains("HttpType = http\n", list.Out.Replace("\r", ""), StringComparison.Ordinal);
        Assert.Contains("FQDN = localhost:5080", list.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigUpdate_ProxySettings_AreCheckedStoredAndThePasswordNeverPrinted()
    {
        var refused = await RunAsync("config", "update", "--setting-name", "Proxy.Url", "--value", "https://proxy.corp.example:3128");
        var passwordFirst = await RunWithInputAsync("proxy-pass\n", "config", "update", "--setting-name", "Proxy.Password", "--value-stdin");
        var url = await RunAsync("config", "update", "--setting-name", "proxy.url", "--value", "http://proxy.corp.example:3128");
        var user = await RunAsync("config", "update", "--setting-name", "Proxy.UserName", "--value", "svc-tokenadmin");
        var password = await RunWithInputAsync("proxy-pass\n", "config", "update", "--setting-name", "Proxy.Password", "--value-stdin");
        var noProxy = await RunAsync("config", "update", "--setting-name", "Proxy.NoProxy", "--value", ".corp.example 10.0.0.0/8");
        var list = await RunAsync("config", "list");

        Assert.Equal(1, refused.Exit);
        Assert.Contains("Proxy URL must start with http://", refused.Err, StringComparison.Ordinal);
        Assert.Equal(1, passwordFirst.Exit);
        Assert.Contains("Proxy password is set but Proxy user name is empty", passwordFirst.Err, StringComparison.Ordinal);
        Assert.Equal([0, 0, 0, 0], new[] { url.Exit, user.Exit, password.Exit, noProxy.Exit });
        Assert.Contains("Proxy.Url = http://proxy.corp.example:3128", list.Out, StringComparison.Ordinal);
        Assert.Contains("Proxy.UserName = svc-tokenadmin", list.Out, StringComparison.Ordinal);
        Assert.Contains("Proxy.Password = (secret is set)", list.Out, StringComparison.Ordinal);
        Assert.Contains("Proxy.NoProxy = .corp.example 10.0.0.0/8", list.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("proxy-pass", password.Out + list.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigUpdate_SecretFromStdin_IsStoredButNeverPrinted()
    {
        var update = await RunWithInputAsync("oidc-secret-from-stdin\n", "config", "update", "--setting-name", "AdminOidc.ClientSecret", "--value-stdin");
        var get = await RunAsync("config", "get", "AdminOidc.ClientSecret");

        Assert.Equal(0, update.Exit);
        Assert.DoesNotContain("oidc-secret-from-stdin", update.Out + get.Out, StringComparison.Ordinal);
        Assert.Equal("(secret is set)", get.Out.Trim());
    }

    [Fact]
    public async Task AdminCreate_ReadsPasswordFromStdin_AndListShowsAdmin()
    {
        var create = await RunWithInputAsync("a-long-console-password\n", "admin", "create", "--user", "carol", "--password-stdin");
        var duplicate = await RunWithInputAsync("a-long-console-password\n", "admin", "create", "--user", "CAROL", "--password-stdin");
        var list = await RunAsync("admin", "list");

        Assert.Equal((0, "Admin 'carol' created."), (create.Exit, create.Out.Trim()));
        Assert.Equal(1, duplicate.Exit);
        Assert.Contains("An admin named 'CAROL' already exists.", duplicate.Err, StringComparison.Ordinal);
        Assert.Contains("carol  never signed in", list.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminCreate_WithShortPassword_IsRefused()
    {
        var (exit, _, error) = await RunWithInputAsync("short\n", "admin", "create", "--user", "carol", "--password-stdin");

        Assert.Equal(1, exit);
        Assert.Contains("Password must be at least 12 characters.", error, StringComparison.Ordinal);
        Assert.Contains("No local admins.", (await RunAsync("admin", "list")).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminSetupLink_PrintsLink_OnlyWhileNoAdminExists()
    {
        var first = await RunAsync("admin", "setup-link");
        await RunWithInputAsync("a-long-console-password\n", "admin", "create", "--user", "carol", "--password-stdin");
        var second = await RunAsync("admin", "setup-link");

        Assert.Equal(0, first.Exit);
        Assert.StartsWith("http://localhost:5080/setup?token=", first.Out, StringComparison.Ordinal);
        Assert.Equal(1, second.Exit);
        Assert.Contains("An admin exists already", second.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "frobnicate" }, "Unrecognized command or argument 'frobnicate'.")]
    [InlineData(new[] { "config", "delete" }, "Unrecognized command or argument 'delete'.")]
    [InlineData(new[] { "config", "update", "--setting-name", "HttpType", "--colour", "red" }, "Unrecognized command or argument '--colour'.")]
    [InlineData(new[] { "config", "update", "--value", "x", "--setting-name" }, "Required argument missing for option: '--setting-name'.")]
    [InlineData(new[] { "config", "get" }, "Required argument missing for command: 'get'.")]
    [InlineData(new[] { "config", "list", "extra" }, "Unrecognized command or argument 'extra'.")]
    [InlineData(new[] { "config", "update", "--setting-name", "HttpType" }, "Give either --value VALUE or --value-stdin")]
    [InlineData(new[] { "config", "update", "--value", "https" }, "Option '--setting-name' is required.")]
    [InlineData(new[] { "admin", "create", "--user", "x" }, "Option '--password-stdin' is required")]
    [InlineData(new[] { "mail", "fetch", "abc" }, "Cannot parse argument 'abc' for command 'fetch' as expected type 'System.Int32'.")]
    [InlineData(new[] { "import-user", "--grant-type", "implicit" }, "Argument 'implicit' not recognized. Must be one of:")]
    [InlineData(new[] { "import-user", "--grant-type", "password" }, "The password grant needs --username NAME and the password")]
    public async Task BadCommandLine_Exits2_WithClearMessage(string[] args, string message)
    {
        var (exit, _, error) = await RunAsync(args);

        Assert.Equal(2, exit);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Contains("--help'", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("config", "update", "--help")]
    [InlineData("admin", "create", "--help")]
    [InlineData("admin", "create", "-h")]
    [InlineData("config", "list", "--help")]
    [InlineData("tokens", "export", "--help")]
    [InlineData("webservices", "invoke", "--help")]
    [InlineData("import-user", "--help")]
    public async Task EveryVerb_HasGeneratedHelp_WithUsageAndOptions(params string[] args)
    {
        var (exit, output, _) = await RunAsync(args);

        Assert.Equal(0, exit);
        Assert.Contains($"Usage:\n  TokenAdmin {string.Join(' ', args.Where(a => !a.StartsWith('-')))}", output, StringComparison.Ordinal);
        Assert.Contains("-?, -h, --help", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerbHelp_ListsRequiredOptions_AndExamples()
    {
        var (exit, output, _) = await RunAsync("config", "update", "--help");

        Assert.Equal(0, exit);
        Assert.Contains("--setting-name <NAME> (REQUIRED)", output, StringComparison.Ordinal);
        Assert.Contains("--value-stdin", output, StringComparison.Ordinal);
        Assert.Contains("Examples:\n  TokenAdmin config update --setting-name HttpType --value https", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("--help", "--urls", "http://127.0.0.1:5999")]
    [InlineData("--urls", "http://127.0.0.1:5999", "-h")]
    public void HelpAndVersion_AreConsoleVerbs_NotTheWebApplication(params string[] args) =>
        Assert.True(CliApp.IsVerb(args));

    [Fact]
    public void WebHostOptions_StartTheWebApplication() =>
        Assert.False(CliApp.IsVerb(["--urls", "http://127.0.0.1:5999"]));

    [Fact]
    public async Task ProgramHelp_ListsEveryVerb_WithoutStartingAnything()
    {
        var (exit, output, _) = await RunAsync("--help", "--urls", "http://127.0.0.1:5999");

        Assert.Equal(0, exit);
        Assert.Contains("Usage:\n  TokenAdmin [command] [options]", output, StringComparison.Ordinal);
        Assert.Contains("admin create", output, StringComparison.Ordinal);
        Assert.Contains("Without a command, TokenAdmin starts the web application.", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dataDirectory));
    }

    [Fact]
    public async Task Version_PrintsTheVersion()
    {
        var (exit, output, _) = await RunAsync("--version");

        Assert.Equal(0, exit);
        Assert.Matches(@"^\d+\.\d+\.\d+", output);
    }

    [Fact]
    public async Task GroupAlone_ListsItsVerbs_AsAUsageError()
    {
        var (exit, output, _) = await RunAsync("admin");

        Assert.Equal(2, exit);
        Assert.Contains("create", output, StringComparison.Ordinal);
        Assert.Contains("setup-link", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_ListsAllVerbs()
    {
        var (exit, output, _) = await RunAsync("help");

        Assert.Equal(0, exit);
        foreach (var verb in new[] { "admin create", "admin list", "admin unlock", "admin setup-link", "config list", "config get", "config update" })
        {
            Assert.Contains(verb, output, StringComparison.Ordinal);
        }
    }
}
