using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using TokenAdmin.WebServices;

namespace TokenAdmin.Cli;

/// <summary>Console verbs for web services: `webservices list`, `webservices invoke crm create-ticket --body '{...}'`.</summary>
internal static class WebServiceVerbs
{
    private static readonly Argument<string> WebServiceName = new("webservice") { Description = "The web service's name." };
    private static readonly Argument<string> InvokerName = new("invoker") { Description = "The invoker's name." };
    private static readonly Option<string> Body = new("--body") { Description = "The request body (JSON).", HelpName = "JSON" };

    private static readonly Option<string[]> Values = new("--value")
    {
        Description = "Fills a {placeholder} of the invoker's path; may be repeated.", HelpName = "name=value",
        Validators = { NameValuePairs },
    };

    private static readonly Option<string[]> Query = new("--query")
    {
        Description = "Adds a query parameter; may be repeated.", HelpName = "name=value",
        Validators = { NameValuePairs },
    };

    public static IReadOnlyList<CliVerb> All { get; } =
    [
        new(["webservices", "list"], "Lists the web services and their invokers.",
            "One line per web service (name, base URL, authentication, enabled), then one indented line per invoker (name, method, path, timeout).",
            ListAsync),
        new(["webservices", "invoke"], "Calls an invoker of a web service and prints the answer.",
            "Calls like the Test invoke page, with the web service's authentication (a bearer token is renewed once on a 401).\n" +
            "Prints the status line, then the answer's body with secrets masked as in the debugger. The call is recorded in the debugger.\n" +
            "Exit code 0 for a 2xx answer, 1 for any other answer or when the call could not be made.",
            InvokeAsync)
        {
            Symbols = [WebServiceName, InvokerName, Body, Values, Query],
            Examples = ["TokenAdmin webservices invoke crm note --value id=7 --body '{\"text\":\"hello\"}'"],
        },
    ];

    private static async Task<int> ListAsync(CliContext context, CancellationToken cancellationToken)
    {
        var services = await context.Services.GetRequiredService<WebServiceService>().ListAsync(cancellationToken);
        if (services.Count == 0)
        {
            context.Stdout.WriteLine("No web services.");
        }

        foreach (var w in services)
        {
            context.Stdout.WriteLine($"{w.Name}  {w.BaseUrl}  {w.Authentication}  {(w.Enabled ? "enabled" : "disabled")}");
            foreach (var i in w.Invokers.OrderBy(i => i.Name, StringComparer.Ordinal))
            {
                context.Stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {i.Name}  {i.Method} {i.Path}  timeout {i.TimeoutSeconds} s"));
            }
        }

        return CliApp.Ok;
    }

    private static async Task<int> InvokeAsync(CliContext context, CancellationToken cancellationToken)
    {
        var values = Pairs(context.Get(Values));
        var query = Pairs(context.Get(Query));
        var (webService, invoker) = (context.Get(WebServiceName), context.Get(InvokerName));
        try
        {
            var result = await context.Services.GetRequiredService<IWebServiceInvoker>()
                .InvokeAsync(webService, invoker, new InvokeRequest(values, context.Get(Body), query, "console"), cancellationToken);
            var service = context.Services.GetRequiredService<WebServiceService>();
            var found = await service.FindByNameAsync(webService, cancellationToken);
            var secrets = found is null ? [] : await service.SentSecretsAsync(found.Id, context.Services.GetRequiredService<TokenProvider.ITokenProvider>(), cancellationToken);
            context.Stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"HTTP {result.StatusCode} in {(int)result.Duration.TotalMilliseconds} ms"));
            context.Stdout.WriteLine(CallRedaction.RedactBody(result.Body, secrets));
            return result.StatusCode is >= 200 and < 300 ? CliApp.Ok : CliApp.Refused;
        }
        catch (InvokeException ex)
        {
            context.Stderr.WriteLine($"{ex.Failure}: {ex.Message}");
            return CliApp.Refused;
        }
    }

    private static void NameValuePairs(OptionResult result)
    {
        foreach (var pair in result.GetValueOrDefault<string[]>() ?? [])
        {
            if (pair.IndexOf('=', StringComparison.Ordinal) <= 0)
            {
                result.AddError($"{result.Option.Name} takes name=value, not '{pair}'.");
            }
        }
    }

    private static Dictionary<string, string> Pairs(string[]? pairs)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs ?? [])
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            result[pair[..eq]] = pair[(eq + 1)..];
        }

        return result;
    }
}
