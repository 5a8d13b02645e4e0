using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.Secrets;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Pages.Tokens;

/// <summary>One token config: its state, the decoded claims of its JWTs (never the raw tokens) and its actions.</summary>
public sealed class TokensDetailsModel(TokenConfigService service, ISecretProtector protector, TokenAdmin.Settings.SettingsStore settings, TimeProvider time) : PageModel
{
    public TokenConfig Config { get; private set; } = null!;
    public TokenConfigDocument Document { get; private set; } = null!;
    public TokenStatus Status { get; private set; } = null!;
    public JwtInspector.Decoded? AccessToken { get; private set; }
    public JwtInspector.Decoded? IdToken { get; private set; }
    public bool AccessTokenIsOpaque { get; private set; }
    public bool TokensUnreadable { get; private set; }

    /// <summary>Microsoft Entra configs with a tenant: the v2.0 admin consent link for this client and scope.</summary>
    public string? AdminConsentLink { get; private set; }

    public async Task<IActionResult> OnGetAsync(int id, CancellationToken cancellationToken)
    {
        if (await service.LoadAsync(id, cancellationToken) is not { } loaded)
        {
            return NotFound();
        }

        (Config, Document) = loaded;
        var state = Config.State;
        Status = TokenStatus.Of(TokenStatus.FactsOf(Config.Valid, state), Config.ExpiringSoonDays, time.GetUtcNow().UtcDateTime);
        AdminConsentLink = AdminConsent.Link(Document.Endpoints.Authorization ?? Document.Endpoints.Token, Document.Tenant, Document.ClientId, Document.Scope,
            (await settings.GetAsync(cancellationToken)).RedirectUri);
        try
        {
            if (state?.AccessTokenProtected is { } access)
            {
                AccessToken = JwtInspector.TryDecode(protector.Unprotect(access));
                AccessTokenIsOpaque = AccessToken is null;
            }

            if (state?.IdTokenProtected is { } idToken)
            {
                IdToken = JwtInspector.TryDecode(protector.Unprotect(idToken));
            }
        }
        catch (SecretUnreadableException)
        {
            TokensUnreadable = true;
        }

        return Page();
    }

    /// <summary>Authorization code: off to the provider. Client credentials and password: fetched right here.</summary>
    public async Task<IActionResult> OnPostRequestTokenAsync(
        int id, [FromServices] AuthorizationFlow flow, [FromServices] TokenEngine engine, CancellationToken cancellationToken)
    {
        if (await service.LoadAsync(id, cancellationToken) is not { } loaded)
        {
            return NotFound();
        }

        if (loaded.Document.Flow == TokenFlows.AuthorizationCode)
        {
            var start = await flow.StartAsync(TokenSource.Config(id), HttpContext, cancellationToken);
            if (start.Url is not null)
            {
                return Redirect(start.Url);
            }

            TempData["Error"] = start.Error;
            return RedirectToPage(new { id });
        }

        var result = await engine.RequestAsync(TokenSource.Config(id), AdminAuthentication.Actor(User), cancellationToken);
        TempData[result.Succeeded ? "Success" : "Error"] = result.Message;
        return RedirectToPage(new { id });
    }

    public async Task<IActionResult> OnPostRefreshAsync(int id, [FromServices] TokenEngine engine, CancellationToken cancellationToken)
    {
        var result = await engine.RenewAsync(TokenSource.Config(id), AdminAuthentication.Actor(User), cancellationToken);
        TempData[result.Succeeded ? "Success" : "Error"] = result.Message;
        return RedirectToPage(new { id });
    }
}
