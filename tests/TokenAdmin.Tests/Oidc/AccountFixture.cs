using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.FunctionalAccounts;
using TokenAdmin.Oidc;
using TokenAdmin.Tests.Tokens;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Oidc;

/// <summary>The token test base plus OIDC profiles and functional accounts at the test identity provider.</summary>
public abstract class AccountTestBase : TokenTestBase
{
    protected async Task<OidcProfile> CreateProfileAsync(string name = "test-idp", Action<OidcProfileInput>? change = null, string? discoveryUrl = null)
    {
        var input = new OidcProfileInput
        {
            Name = name,
            DiscoveryUrl = discoveryUrl ?? Idp.MetadataAddress,
            ClientId = "tokenadmin",
            ClientSecret = ClientSecret,
        };
        change?.Invoke(input);
        using var scope = App.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<OidcProfileService>().CreateAsync(input, "test", default);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => $"{e.Key}: {e.Value}")));
        return result.Profile!;
    }

    protected async Task<FunctionalAccount> CreateAccountAsync(int profileId, string name = "mailbox-robot", Action<FunctionalAccountInput>? change = null)
    {
        var input = new FunctionalAccountInput { Name = name, OidcProfileId = profileId, GrantType = AccountGrantTypes.ClientCredentials, Scope = "api" };
        change?.Invoke(input);
        using var scope = App.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<FunctionalAccountService>().CreateAsync(input, "test", default);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => $"{e.Key}: {e.Value}")));
        return result.Account!;
    }

    protected async Task<TokenOperationResult> RenewAsync(int accountId)
    {
        using var scope = App.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<TokenEngine>().RenewAsync(TokenSource.Account(accountId), "test", default);
    }

    protected Task<TokenState?> AccountStateAsync(int accountId) =>
        App.WithDbAsync(db => db.TokenStates.AsNoTracking().SingleOrDefaultAsync(s => s.FunctionalAccountId == accountId));

    /// <summary>The values of one form field of the provider's last token request, in order.</summary>
    protected IReadOnlyList<string> LastRequestValues(string field) =>
        [.. Idp.LastTokenRequest.Where(p => p.Key == field).Select(p => p.Value)];
}
