using System.Net;
using System.Text.RegularExpressions;
using TokenAdmin.IntegrationTests.Infrastructure;

namespace TokenAdmin.IntegrationTests;

/// <summary>
/// The quick start of README.md and docs/quickstart.md, followed as written: the documented command starts the app on
/// the documented address (here the same host with a free port, as tests never take a fixed one), it prints the
/// setup link in the documented form, and the link opens the page that creates the first admin.
/// </summary>
public sealed class QuickstartTests
{
    [Fact]
    public async Task ReadmeRunCommand_StartsTheApp_AndItsSetupLinkOpensTheFirstAdminPage()
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "README.md"));
        var quickstart = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "docs", "quickstart.md"));
        var runIt = readme[readme.IndexOf("## Run it", StringComparison.Ordinal)..];

        // The command: `dotnet run --project <folder>`, the same in both documents, naming the app's project folder
        // (which `dotnet run` also uses as content root, as the test process does).
        var command = Regex.Match(runIt, @"```sh\n(dotnet run --project (\S+))\n```");
        Assert.True(command.Success, "README.md's 'Run it' has no `dotnet run --project …` block.");
        Assert.Contains("```sh\n" + command.Groups[1].Value + "\n```", quickstart, StringComparison.Ordinal);
        var project = Path.GetFullPath(Path.Combine(RepositoryPaths.Root, command.Groups[2].Value));
        Assert.Equal(RepositoryPaths.AppProject, project);
        Assert.True(File.Exists(Path.Combine(project, "TokenAdmin.csproj")), project);

        // The address: the same in both documents, on loopback.
        var documented = new Uri(Regex.Match(runIt, @"It listens on <(http://[^>]+)>").Groups[1].Value);
        Assert.Equal("127.0.0.1", documented.Host);
        Assert.Contains($"Now listening on: {documented.GetLeftPart(UriPartial.Authority)}", quickstart, StringComparison.Ordinal);

        // The setup line as README.md shows it, with "..." for the parts that differ per start.
        var setupLine = Regex.Match(runIt, @"No admin exists yet\..*?/setup\?token=\.\.\.").Value;
        Assert.NotEmpty(setupLine);

        await using var app = await TokenAdminProcess.StartAsync();
        var address = $"{documented.Scheme}://{documented.Host}:{app.Port}";
        Assert.Contains($"Now listening on: {address}", app.Output, StringComparison.Ordinal);
        var expected = new Regex(string.Join(".+?", setupLine.Replace(documented.GetLeftPart(UriPartial.Authority), address, StringComparison.Ordinal)
            .Split("...").Select(Regex.Escape)) + @"[A-Za-z0-9_\-]+");
        var printed = expected.Match(app.Output);
        Assert.True(printed.Success, $"The setup line as documented ({setupLine}) was not printed:\n{app.Output}");

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var link = printed.Value[printed.Value.IndexOf(address, StringComparison.Ordinal)..];
        var response = await http.GetAsync(new Uri(link));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Contains("<h1>Create the first admin</h1>", html, StringComparison.Ordinal);
        Assert.Contains("Create admin", html, StringComparison.Ordinal);
        Assert.Contains("**Create admin**", quickstart, StringComparison.Ordinal);
    }
}
