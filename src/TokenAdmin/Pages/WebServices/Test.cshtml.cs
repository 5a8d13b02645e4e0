using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.WebServices;

namespace TokenAdmin.Pages.WebServices;

/// <summary>Calls an invoker with a JSON body and placeholder values and shows the answer, secrets masked as in the debugger.</summary>
public sealed class TestModel(WebServiceService service, IWebServiceInvoker invoker, TokenProvider.ITokenProvider tokens) : PageModel
{
    [BindProperty]
    [System.ComponentModel.DataAnnotations.Display(Name = "JSON body")]
    public string? Body { get; set; }

    /// <summary>GET and HEAD carry no body, so the page offers none (the invoker would refuse one).</summary>
    public bool TakesBody => Invoker.Method is not ("GET" or "HEAD");

    [BindProperty]
    public Dictionary<string, string> Values { get; set; } = [];

    public Invoker Invoker { get; private set; } = null!;
    public IReadOnlyList<string> Placeholders { get; private set; } = [];
    public InvokeResult? Result { get; private set; }
    public string? ResultHeaders { get; private set; }
    public string? ResultBody { get; private set; }
    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(int id, CancellationToken cancellationToken) =>
        await LoadAsync(id, cancellationToken) ? Page() : NotFound();

    public async Task<IActionResult> OnPostAsync(int id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }

        var webService = Invoker.WebService!.Name;
        try
        {
            var values = Values.Where(v => Placeholders.Contains(v.Key)).ToDictionary(v => v.Key, v => v.Value ?? "");
            Result = await invoker.InvokeAsync(webService, Invoker.Name, new InvokeRequest(values, TakesBody ? Body : null, null, AdminAuthentication.Actor(User)), cancellationToken);
            // Note: the answer is shown as the debugger stores it: an echoed token or secret never reaches the browser.
            var secretHeaders = (await service.FindAsync(Invoker.WebServiceId, cancellationToken))?.Headers.Where(h => h.Secret).Select(h => h.Name)
                .ToHashSet(StringComparer.OrdinalIgnoreCase);
            var sent = await service.SentSecretsAsync(Invoker.WebServiceId, tokens, cancellationToken);
            ResultHeaders = CallRedaction.RedactHeaders(Result.Headers, secretHeaders, sent);
            ResultBody = CallRedaction.RedactBody(Result.Body, sent);
        }
        catch (InvokeException ex)
        {
            Error = $"{ex.Failure}: {ex.Message}";
        }

        return Page();
    }

    private async Task<bool> LoadAsync(int id, CancellationToken cancellationToken)
    {
        if (await service.FindInvokerAsync(id, cancellationToken) is not { } found)
        {
            return false;
        }

        Invoker = found;
        Placeholders = WebServiceInvoker.Placeholders(found.Path);
        return true;
    }
}
