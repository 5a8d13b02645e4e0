using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.Mail;

namespace TokenAdmin.Pages.MailAccounts;

public sealed class MailAccountsAddModel(MailAccountService service) : PageModel
{
    [BindProperty]
    public MailAccountInput Input { get; set; } = new();

    public IReadOnlyList<(string Value, string Name)> Sources { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) => Sources = await service.TokenSourcesAsync(cancellationToken);

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (ModelState.IsValid)
        {
            var result = await service.CreateAsync(Input, AdminAuthentication.Actor(User), cancellationToken);
            if (result.Succeeded)
            {
                TempData["Success"] = $"Mail account {result.Account!.DisplayName} was added. Test its connection.";
                return RedirectToPage("/MailAccounts/Edit", new { id = result.Account.Id });
            }

            ModelState.AddFieldErrors(result.Errors);
        }
        else
        {
            // The fields the binder could read are checked too, so every mistake shows at once.
            ModelState.AddFieldErrors(await service.ValidateAsync(Input, hasPassword: false, cancellationToken));
        }

        KeepPasswordOut(ModelState, Input);
        Sources = await service.TokenSourcesAsync(cancellationToken);
        return Page();
    }

    /// <summary>A form shown again never carries the password back (the tag helpers would show what was typed).</summary>
    internal static void KeepPasswordOut(Microsoft.AspNetCore.Mvc.ModelBinding.ModelStateDictionary modelState, MailAccountInput input)
    {
        input.Password = null;
        modelState.SetModelValue("Input.Password", null, null);
    }
}
