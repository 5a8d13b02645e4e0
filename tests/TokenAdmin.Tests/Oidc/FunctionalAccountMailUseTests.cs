using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.FunctionalAccounts;
using TokenAdmin.Mail;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Oidc;

public sealed class FunctionalAccountMailUseTests : AccountTestBase
{
    [Fact]
    public async Task A_mail_account_can_take_its_token_from_a_functional_account_which_then_cannot_be_deleted()
    {
        var profile = await CreateProfileAsync();
        var account = await CreateAccountAsync(profile.Id);
        using var scope = App.Services.CreateScope();
        var mail = scope.ServiceProvider.GetRequiredService<MailAccountService>();

        var sources = await mail.TokenSourcesAsync(default);
        Assert.Contains(sources, s => s.Value == $"FunctionalAccount:{account.Id}" && s.Name == "Functional account mailbox-robot (access_token)");
        var saved = await mail.CreateAsync(new MailAccountInput
        {
            Login = "support@example.test", Host = "imap.example.test", TokenSource = $"FunctionalAccount:{account.Id}",
        }, "test", default);
        Assert.True(saved.Succeeded, string.Join("; ", saved.Errors.Values));

        var refused = await scope.ServiceProvider.GetRequiredService<FunctionalAccountService>().DeleteAsync(account.Id, "test", default);

        Assert.Contains("is in use by mail account support@example.test at imap.example.test", refused, StringComparison.Ordinal);
        var gone = await mail.CreateAsync(new MailAccountInput { Login = "x@example.test", Host = "imap.example.test", TokenSource = "FunctionalAccount:999" }, "test", default);
        Assert.Contains("Token source: that functional account no longer exists.", gone.Errors.Values);
    }
}
