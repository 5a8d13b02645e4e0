using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TokenAdmin.Admin;
using TokenAdmin.Mail;

namespace TokenAdmin.Pages.MailAccounts;

public sealed class MailAccountsAddModel(MailAccountService service) : PageModel
{
    [BindProperty]
    public MailAccountInput Input { get; set; } = new();

    public Dictionary<string, string> Errors { get; } = [];
    public IReadOnlyList<(string Value, string Name)> Sources { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) => Sources = await service.TokenSourcesAsync(cancellationToken);

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        MailAccountFormBinding.AddBindingErrors(ModelState, Errors);
        if (Errors.Count == 0)
        {
            var result = await service.CreateAsync(Input, AdminAuthentication.Actor(User), cancellationToken);
            if (result.Succeeded)
            {
                TempData["Success"] = $"Mail account {result.Account!.DisplayName} was added. Test its connection.";
                return RedirectToPage("/MailAccounts/Edit", new { id = result.Account.Id });
            }

            foreach (var (field, message) in result.Errors)
            {
                Errors.TryAdd(field, message);
            }
        }
        else
        {
            // The fields that could be read are checked too, so every mistake shows at once.
            foreach (var (field, message) in await service.ValidateAsync(Input, hasPassword: true, cancellationToken))
            {
                Errors.TryAdd(field, message);
            }
        }

        Input.Password = null;
        Sources = await service.TokenSourcesAsync(cancellationToken);
        return Page();
    }
}
