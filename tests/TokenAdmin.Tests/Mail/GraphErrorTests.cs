using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Mail;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.Tests.Mail;

public sealed class GraphErrorTests : GraphMailTestBase
{
    [Fact]
    public async Task Fetch_NamesTheFolderThatDoesNotExist()
    {
        Mailbox.AddFolder("Inbox", "Tickets");
        var id = await CreateAccountAsync(a => a.ImapFolder = "Inbox/Tickets/Closed");

        var result = await FetchAsync(id);

        var error = Assert.Single(result.Errors);
        Assert.Equal($"The folder 'Inbox/Tickets/Closed' does not exist in mailbox {Address}: there is no folder 'Closed' in 'Inbox/Tickets'.", error);
    }

    [Fact]
    public async Task Fetch_NamesTheMailboxThatDoesNotExist_OrIsNotInExchangeOnline()
    {
        var missing = await CreateAccountAsync(a => a.Login = "nobody@contoso.test");
        var onPremises = Graph.AddMailbox("onprem@contoso.test");
        onPremises.RestEnabled = false;
        var hybrid = await CreateAccountAsync(a => a.Login = "onprem@contoso.test");

        Assert.StartsWith("The mailbox nobody@contoso.test does not exist in the tenant", Assert.Single((await FetchAsync(missing)).Errors), StringComparison.Ordinal);
        var error = Assert.Single((await FetchAsync(hybrid)).Errors);
        Assert.StartsWith("The mailbox onprem@contoso.test cannot be reached through Microsoft Graph", error, StringComparison.Ordinal);
        Assert.Contains("MailboxNotEnabledForRESTAPI", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fetch_Explains403_WhenRbacForApplicationsScopesTheAppAwayFromTheMailbox()
    {
        Mailbox.Deliver("inbox", NewMessages("x", 2));
        Graph.ApplicationScope = new HashSet<string>(["other@contoso.test"], StringComparer.OrdinalIgnoreCase);
        var id = await CreateAccountAsync();

        var error = Assert.Single((await FetchAsync(id)).Errors);

        Assert.Contains($"Microsoft Graph denied access to mailbox {Address} (403 ErrorAccessDenied", error, StringComparison.Ordinal);
        Assert.Contains("application token, roles: Mail.ReadWrite Mail.Send", error, StringComparison.Ordinal);
        Assert.Contains("RBAC for Applications", error, StringComparison.Ordinal);
        Assert.Contains("outside the app's scope", error, StringComparison.Ordinal);
        Assert.Equal(2, Mailbox.MessageIds("inbox").Count);
    }

    [Fact]
    public async Task TestConnection_ResolvesTheFolder_CountsItsMessages_AndShowsTheTokensAudienceAndRoles()
    {
        Mailbox.AddFolder("Archive", "Done");
        Mailbox.Deliver("inbox", NewMessages("c", 7));
        var id = await CreateAccountAsync(a => a.MoveToFolder = "Archive/Done");

        var response = await Browser.PostFormAsync($"/mailaccounts/edit/{id}?handler=Test", [], formPage: $"/mailaccounts/edit/{id}");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var page = WebUtility.HtmlDecode(await Browser.GetStringAsync(response.Headers.Location));

        Assert.Contains($"Reached mailbox {Address}", page, StringComparison.Ordinal);
        Assert.Contains("folder 'inbox' (Inbox) holds 7 message(s), 7 unread.", page, StringComparison.Ordinal);
        Assert.Contains("Fetched mail is moved to 'Done'.", page, StringComparison.Ordinal);
        Assert.Contains("Token audience: https://graph.microsoft.com; application token, roles: Mail.ReadWrite Mail.Send.", page, StringComparison.Ordinal);
        Assert.Equal(7, Mailbox.MessageIds("inbox").Count);
    }

    [Fact]
    public async Task AddPage_SavesAGraphAccount_AndRefusesPlainHttpToAnotherHost()
    {
        var fields = new Dictionary<string, string>
        {
            ["Input.Type"] = "Graph",
            ["Input.Login"] = Address,
            ["Input.Host"] = "",
            ["Input.Authentication"] = "OAuth2",
            ["Input.TokenSource"] = $"TokenConfig:{ConfigId}",
            ["Input.GraphCloud"] = "Custom",
            ["Input.GraphEndpoint"] = "http://graph.example.net",
            ["Input.ImapFolder"] = "inbox",
            ["Input.KeepOnServer"] = "false",
            ["Input.FetchIntervalMinutes"] = "5",
            ["Input.MaxMessagesPerRun"] = "100",
            ["Input.MaxMessageSizeKb"] = "1024",
            ["Input.Valid"] = "true",
        };

        var refused = await Browser.PostFormAsync("/mailaccounts/add", fields);
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("plain http is allowed only to this machine", WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync()), StringComparison.Ordinal);

        fields["Input.GraphCloud"] = "UsGovernmentL5";
        var saved = await Browser.PostFormAsync("/mailaccounts/add", fields);
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        var account = await App.WithDbAsync(db => Task.FromResult(db.MailAccounts.Single()));
        Assert.Equal(MailAccountType.Graph, account.Type);
        Assert.Equal(GraphCloud.UsGovernmentL5, account.GraphCloud);
        Assert.Equal("dod-graph.microsoft.us", account.Host);
        Assert.Null(account.GraphEndpoint);
        Assert.Equal("https://dod-graph.microsoft.us/v1.0/users/support%40contoso.test", GraphTarget.For(account).UserUrl);
    }

    [Fact]
    public async Task Fetch_Explains403_WhenTheAppLacksMailReadWrite()
    {
        // Another app with only Mail.Read: it may list and download, but not delete.
        await Idp.AddClientAsync(new TestIdentityProvider.TestClient("reader-app", ClientSecret, [])
        {
            AllowedGrantTypes = ["client_credentials"],
            AllowedScopes = [GraphMailServer.GraphResource + "/.default"],
            ClientCredentialsClaims = new Dictionary<string, string[]> { ["roles"] = ["Mail.Read", "User.Read.All"] },
        });
        var reader = await CreateConfigAsync("reader-app", TokenAdmin.Tokens.TokenFlows.ClientCredentials, d =>
        {
            d.ClientId = "reader-app";
            d.Scope = GraphMailServer.GraphResource + "/.default";
        });
        Mailbox.Deliver("inbox", NewMessages("ro", 2));
        var id = await CreateAccountAsync(a => a.TokenSource = TokenAdmin.Tokens.TokenSource.Config(reader).Key);

        var result = await FetchAsync(id);

        Assert.Equal(2, result.Stored);
        var error = Assert.Single(result.Errors);
        Assert.Contains("The app lacks the application permission Mail.ReadWrite", error, StringComparison.Ordinal);
        Assert.Contains("admin consent", error, StringComparison.Ordinal);
        Assert.Equal(2, Mailbox.MessageIds("inbox").Count);
    }

    [Fact]
    public async Task AddPage_OffersTheNationalClouds_AndEachTalksToItsOwnServiceRoot()
    {
        var form = WebUtility.HtmlDecode(await Browser.GetStringAsync("/mailaccounts/add"));
        Assert.Contains("<option value=\"Global\" selected=\"selected\">Global service - https://graph.microsoft.com</option>", form, StringComparison.Ordinal);
        Assert.Contains("<option value=\"UsGovernmentL4\">US Government L4 (GCC High) - https://graph.microsoft.us</option>", form, StringComparison.Ordinal);
        Assert.Contains("<option value=\"UsGovernmentL5\">US Government L5 (DoD) - https://dod-graph.microsoft.us</option>", form, StringComparison.Ordinal);
        Assert.Contains("<option value=\"China\">China (operated by 21Vianet) - https://microsoftgraph.chinacloudapi.cn</option>", form, StringComparison.Ordinal);
        Assert.Contains("<option value=\"Custom\">Custom endpoint</option>", form, StringComparison.Ordinal);

        var expected = new Dictionary<string, string>
        {
            ["Global"] = "graph.microsoft.com", ["UsGovernmentL4"] = "graph.microsoft.us", ["UsGovernmentL5"] = "dod-graph.microsoft.us",
            ["China"] = "microsoftgraph.chinacloudapi.cn",
        };
        foreach (var (cloud, host) in expected)
        {
            var saved = await Browser.PostFormAsync("/mailaccounts/add", GraphFields(cloud, "mail-" + cloud + "@contoso.test"));
            Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
            var account = await App.WithDbAsync(db => Task.FromResult(db.MailAccounts.Single(a => a.Login == "mail-" + cloud + "@contoso.test")));
            Assert.Equal(host, account.Host);
            Assert.Equal($"https://{host}/v1.0/users/mail-{cloud}%40contoso.test", GraphTarget.For(account).UserUrl);
        }

        // A value not in the list is refused with words, by the form and by the service, and nothing is saved.
        var refused = await Browser.PostFormAsync("/mailaccounts/add", GraphFields("7", "odd@contoso.test"));
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("'7' is not a valid value", WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        using (var scope = App.Services.CreateScope())
        {
            var result = await scope.ServiceProvider.GetRequiredService<MailAccountService>().CreateAsync(new MailAccountInput
            {
                Type = MailAccountType.Graph, Login = "odd@contoso.test", GraphCloud = (GraphCloud)7, ImapFolder = "inbox",
                Authentication = MailAuthentication.OAuth2, TokenSource = $"TokenConfig:{ConfigId}",
            }, "test", default);
            Assert.False(result.Succeeded);
            Assert.Equal("Microsoft Graph deployment: choose global, US Government L4/L5, China, or a custom endpoint.", result.Errors["GraphCloud"]);
        }

        Assert.Equal(4, await App.WithDbAsync(db => Task.FromResult(db.MailAccounts.Count())));
    }

    private Dictionary<string, string> GraphFields(string cloud, string login) => new()
    {
        ["Input.Type"] = "Graph",
        ["Input.Login"] = login,
        ["Input.Host"] = "",
        ["Input.Authentication"] = "OAuth2",
        ["Input.TokenSource"] = $"TokenConfig:{ConfigId}",
        ["Input.GraphCloud"] = cloud,
        ["Input.GraphEndpoint"] = "",
        ["Input.ImapFolder"] = "inbox",
        ["Input.KeepOnServer"] = "false",
        ["Input.FetchIntervalMinutes"] = "5",
        ["Input.MaxMessagesPerRun"] = "100",
        ["Input.MaxMessageSizeKb"] = "1024",
        ["Input.Valid"] = "true",
    };
}
