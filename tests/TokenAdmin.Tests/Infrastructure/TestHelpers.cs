using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using TokenAdmin.Cli;

namespace TokenAdmin.Tests.Infrastructure;

/// <summary>The test identity provider's login page, filled in the way a browser does.</summary>
public static partial class ProviderLogin
{
    /// <summary>Posts the login form behind <paramref name="authorize"/>; returns where the provider redirects the browser.</summary>
    public static async Task<Uri> SignInAsync(HttpClient atProvider, Uri authorize, string user, string password)
    {
        var form = await atProvider.GetStringAsync(authorize);
        var fields = HiddenInputRegex().Matches(form).ToDictionary(m => WebUtility.HtmlDecode(m.Groups[1].Value), m => WebUtility.HtmlDecode(m.Groups[2].Value));
        fields["username"] = user;
        fields["password"] = password;
        var answer = await atProvider.PostAsync(authorize.GetLeftPart(UriPartial.Path), new FormUrlEncodedContent(fields));
        Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        return answer.Headers.Location!;
    }

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\"")]
    private static partial Regex HiddenInputRegex();
}

/// <summary>Console verbs run in-process against a test's data directory.</summary>
public static class ConsoleVerbs
{
    public static async Task<(int Exit, string Out, string Err)> RunAsync(string dataDirectory, string stdin, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await CliApp.RunAsync(args, new StringReader(stdin), stdout, stderr,
            config => config.AddInMemoryCollection(new Dictionary<string, string?>(TestDatabase.Settings(dataDirectory)) { ["TokenAdmin:DataDirectory"] = dataDirectory }));
        return (exit, stdout.ToString().Replace("\r", "", StringComparison.Ordinal), stderr.ToString().Replace("\r", "", StringComparison.Ordinal));
    }
}

public static class DatabaseFiles
{
    /// <summary>Every byte SQLite has written in <paramref name="dataDirectory"/> (the main file and the write-ahead log), or on PostgreSQL every row as text.</summary>
    public static async Task<string> RawTextAsync(string dataDirectory)
    {
        if (TestDatabase.ConnectionString(dataDirectory) is { } postgres)
        {
            return await TestDatabase.RawTextAsync(postgres);
        }

        SqliteConnection.ClearAllPools();
        // Note: closing the last connection checkpoints the write-ahead log into the main file and deletes it, maybe
        // while it is listed here; then everything is read again, so no byte is missed (a few tries at most).
        for (var attempt = 1; ; attempt++)
        {
            var text = new StringBuilder();
            try
            {
                foreach (var file in Directory.GetFiles(dataDirectory, "tokenadmin.db*"))
                {
                    await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                    text.Append(await new StreamReader(stream, Encoding.Latin1).ReadToEndAsync());
                }

                return text.ToString();
            }
            catch (FileNotFoundException) when (attempt < 5)
            {
                await Task.Delay(100);
            }
        }
    }
}
