using System.Text;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.WebServices;

namespace TokenAdmin.Tests.WebServices;

public sealed class WebServiceVerbTests : WebServiceTestBase
{
    [Fact]
    public async Task List_And_Invoke_CallTheWebServiceFromTheConsole()
    {
        var id = await CreateWebServiceAsync("legacy", w =>
        {
            w.Authentication = WebServiceAuthentication.Basic;
            w.BasicUserName = "otobo";
            w.BasicPassword = "console-pass-1234";
        });
        await CreateInvokerAsync(id, "note", "PUT", "/tickets/{id}");
        Echo.Authorize = h => h == "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("otobo:console-pass-1234"));

        var list = await ConsoleVerbs.RunAsync(App.DataDirectory, "", "webservices", "list");
        var call = await ConsoleVerbs.RunAsync(App.DataDirectory, "", "webservices", "invoke", "legacy", "note", "--body", """{"a":1}""", "--value", "id=7", "--query", "x=y");
        var missing = await ConsoleVerbs.RunAsync(App.DataDirectory, "", "webservices", "invoke", "legacy", "note");
        var badPair = await ConsoleVerbs.RunAsync(App.DataDirectory, "", "webservices", "invoke", "legacy", "note", "--value", "novalue");

        Assert.Equal(0, list.Exit);
        Assert.Contains($"legacy  {Echo.BaseUrl}/api  Basic  enabled", list.Out, StringComparison.Ordinal);
        Assert.Contains("    note  PUT /tickets/{id}  timeout 30 s", list.Out, StringComparison.Ordinal);
        Assert.Equal(0, call.Exit);
        Assert.StartsWith("HTTP 200 in ", call.Out, StringComparison.Ordinal);
        Assert.Contains("/api/tickets/7?x=y", call.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("console-pass-1234", call.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes("otobo:console-pass-1234")), call.Out, StringComparison.Ordinal);
        Assert.Equal(1, missing.Exit);
        Assert.Contains("BadInput: The path /tickets/{id} needs a value for {id}.", missing.Err, StringComparison.Ordinal);
        Assert.Equal(2, badPair.Exit);
        Assert.Contains("--value takes name=value", badPair.Err, StringComparison.Ordinal);
    }
}
