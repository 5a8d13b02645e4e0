using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.Tokens;

namespace TokenAdmin.Pages.Tokens;

/// <summary>
/// The device sign-in (RFC 8628) of a token config or functional account: start it, see the user code and where to
/// enter it, and its status (the page reloads itself while it is pending; no script needed).
/// </summary>
public sealed class TokensDeviceModel(TokenEngine engine, DeviceSignIns signIns, TimeProvider time) : PageModel
{
    /// <summary>Seconds between reloads of the page while the sign-in is pending.</summary>
    public const int ReloadSeconds = 5;

    public TokenSource Source { get; private set; }
    public string Name { get; private set; } = "";
    public string Noun { get; private set; } = "";
    public bool UsesDeviceFlow { get; private set; }
    public DeviceSignIn? Current { get; private set; }
    public DateTime Now { get; private set; }

    /// <summary>Where the source itself is shown (its details or edit page).</summary>
    public string SourcePage { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync(string kind, int id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(kind, id, cancellationToken))
        {
            return NotFound();
        }

        Current = signIns.Find(Source);
        Now = time.GetUtcNow().UtcDateTime;
        if (Current is { Status: DeviceSignInStatus.Pending })
        {
            // Note: the Refresh header reloads the page in every browser, without script (CSP script-src 'self').
            Response.Headers["Refresh"] = ReloadSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        Response.Headers.CacheControl = "no-store";
        return Page();
    }

    public async Task<IActionResult> OnPostStartAsync(string kind, int id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(kind, id, cancellationToken))
        {
            return NotFound();
        }

        var (signIn, message) = await signIns.StartAsync(Source, AdminAuthentication.Actor(User), cancellationToken);
        if (signIn is null)
        {
            TempData["Error"] = message;
        }

        return RedirectToPage(new { kind, id });
    }

    private async Task<bool> LoadAsync(string kind, int id, CancellationToken cancellationToken)
    {
        if (TokenSource.Parse($"{kind}:{id}") is not { } source)
        {
            return false;
        }

        TokenSourceDefinition? definition;
        try
        {
            definition = await engine.FindAsync(source, cancellationToken);
        }
        catch (TokenSourceUnreadableException ex)
        {
            TempData["Error"] = ex.Message;
            return false;
        }

        if (definition is null)
        {
            return false;
        }

        Source = source;
        Name = definition.Name;
        Noun = definition.Kind.Noun;
        UsesDeviceFlow = definition.Flow == TokenFlows.DeviceCode;
        SourcePage = definition.Kind.PagePath(id);
        return true;
    }
}
