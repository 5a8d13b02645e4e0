using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.FunctionalAccounts;
using TokenAdmin.Mail;
using TokenAdmin.Oidc;
using TokenAdmin.Tests.Oidc;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Security;

/// <summary>
/// Issue 17, item 7: control characters (CR, LF, ESC, …) are refused in every stored name, folder, path, header name
/// and header value, so they never reach console output, logs or a protocol line.
/// </summary>
public sealed class ControlCharacterTests : AccountTestBase
{
    [Theory]
    [InlineData("INBOX\r\nA1 DELETE INBOX")]
    [InlineData("INBOX\u001b[2J")]
    [InlineData("INBOX\u0000")]
    public async Task MailAccount_FolderWithControlCharacters_IsRefused_AndNothingIsSaved(string folder)
    {
        var profile = await CreateProfileAsync();
        var account = await CreateAccountAsync(profile.Id);
        using var scope = App.Services.CreateScope();

        var result = await scope.ServiceProvider.GetRequiredService<MailAccountService>().CreateAsync(new MailAccountInput
        {
            Login = "robot@example.test",
            Host = "imap.example.test",
            TokenSource = $"FunctionalAccount:{account.Id}",
            ImapFolder = folder,
        }, "test", default);

        Assert.Contains("control characters", result.Errors[nameof(MailAccountInput.ImapFolder)], StringComparison.Ordinal);
        Assert.Equal(0, await App.WithDbAsync(db => db.MailAccounts.CountAsync()));
    }

    [Fact]
    public async Task OidcProfile_NameWithControlCharacters_IsRefused()
    {
        using var scope = App.Services.CreateScope();

        var result = await scope.ServiceProvider.GetRequiredService<OidcProfileService>().CreateAsync(new OidcProfileInput
        {
            Name = "idp\nfake log line",
            DiscoveryUrl = Idp.MetadataAddress,
            ClientId = "tokenadmin",
            ClientSecret = ClientSecret,
        }, "test", default);

        Assert.Contains("control characters", result.Errors[nameof(OidcProfileInput.Name)], StringComparison.Ordinal);
        Assert.Equal(0, await App.WithDbAsync(db => db.OidcProfiles.CountAsync()));
    }

    [Fact]
    public async Task FunctionalAccount_NameWithControlCharacters_IsRefused()
    {
        var profile = await CreateProfileAsync();
        using var scope = App.Services.CreateScope();

        var result = await scope.ServiceProvider.GetRequiredService<FunctionalAccountService>().CreateAsync(new FunctionalAccountInput
        {
            Name = "robot\u001b[31m",
            OidcProfileId = profile.Id,
            GrantType = AccountGrantTypes.ClientCredentials,
            Scope = "api",
        }, "test", default);

        Assert.Contains("control characters", result.Errors[nameof(FunctionalAccountInput.Name)], StringComparison.Ordinal);
        Assert.Equal(0, await App.WithDbAsync(db => db.FunctionalAccounts.CountAsync()));
    }
}
