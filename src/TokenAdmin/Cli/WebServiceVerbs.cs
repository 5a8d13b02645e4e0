using System.Globalization;
using TokenAdmin.WebServices;

namespace TokenAdmin.Cli;

/// <summary>Console verbs for web services: `webservices list`, `webservices invoke crm create-ticket --body '{...}'`.</summary>
internal static class WebServiceVerbs
{
    public static IReadOnlyList<CliVerb> All { get; } =
    [
        new(["webservices", "list"], "Lists the web services and their invokers.", "webservices list",
            "One line per web service (name, base URL, authentication, enabled), then one indented line per invoker (name, method, path, timeout).",
            [], new Dictionary<string, bool>(), ListAsync),
        new(["webservices", "invoke"], "Calls an invoker of a web service and prints the answer.",
            "webservices invoke <webservice> <invoker> [--body JSON] [--value name=value ...] [--query name=value ...]",
            "Calls like the Test invoke page, with the web service's authentication (a bearer token is renewed once on a 401).\n" +
            "--value fills a {placeholder} of the invoker's path; --query adds a query parameter; both may be repeated.\n" +
            "Prints the status line, then the answer's body with secrets masked as in the debugger. The call is recorded in the debugger.\n" +
            "Exit code 0 for a 2xx answer, 1 for any other answer or when the call could not be made.\n" +
            "Example: webservices invoke crm note --value id=7 --body '{\"text\":\"hello\"}'",
            ["webservice", "invoker"], new Dictionary<string, bool> { ["--body"] = true, ["--value"] = true, ["--query"] = true }, InvokeAsync,
            Repeatable: ["--value", "--query"]),
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
        if (!TryPairs(context, "--value", out var values) || !TryPairs(context, "--query", out var query))
        {
            return CliApp.Usage;
        }

        var (webService, invoker) = (context.Arguments.Positionals[0], context.Arguments.Positionals[1]);
        try
        {
            var result = await context.Services.GetRequiredService<IWebServiceInvoker>()
                .InvokeAsync(webService, invoker, new InvokeRequest(values, context.Arguments.Get("--body"), query, "console"), cancellationToken);
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

    private static bool TryPairs(CliContext context, string option, out Dictionary<string, string> pairs)
    {
        pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in context.Arguments.GetAll(option))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                context.Stderr.WriteLine($"{option} takes name=value, not '{pair}'.");
                return false;
            }

            pairs[pair[..eq]] = pair[(eq + 1)..];
        }

        return true;
    }
}
