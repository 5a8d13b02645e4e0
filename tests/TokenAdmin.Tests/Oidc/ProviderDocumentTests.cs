using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Oidc;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.Tests.Oidc;

/// <summary>
/// An OIDC profile's discovery document and JWKS come through the same door as token responses: 1 MiB at most, no
/// redirects, one deadline for the whole fetch. And a functional account gets the token checks of token configs.
/// </summary>
public sealed class ProviderDocumentTests : AccountTestBase
{
    private const string DiscoveryPath = "/.well-known/openid-configuration";
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(20);

    public override async Task InitializeAsync()
    {
        // Each attempt may take longer than the whole exchange: the deadline is what ends a stalled answer.
        App.Settings["TokenAdmin:Providers:Timeout"] = "00:00:10";
        App.Settings["TokenAdmin:Providers:Deadline"] = "00:00:02";
        App.Settings["TokenAdmin:Providers:Retries"] = "0";
        await base.InitializeAsync();
    }

    private static string Discovery(MisbehavingServer server, string jwksUri) =>
        $$"""{"issuer":"{{server.BaseUrl}}","token_endpoint":"{{server.Url("/token")}}","jwks_uri":"{{jwksUri}}","grant_types_supported":["client_credentials"]}""";

    /// <summary>The profile's metadata as token validation and functional accounts read it, without saving a profile.</summary>
    private async Task<Exception?> FetchMetadataAsync(MisbehavingServer server)
    {
        var profile = new OidcProfile { Id = 4711, Name = "misbehaving", DiscoveryUrl = server.Url(DiscoveryPath), ClientId = "tokenadmin" };
        try
        {
            await App.Services.GetRequiredService<OidcProfileRuntime>().MetadataFor(profile).GetAsync(default).WaitAsync(Bounded);
            return null;
        }
        catch (InvalidOperationException ex)
        {
            return ex;
        }
    }

    [Fact]
    public async Task ProfileMetadata_DiscoveryLargerThan1MiB_IsRefused()
    {
        await using var server = await MisbehavingServer.StartAsync();
        server.On(DiscoveryPath, MisbehavingServer.Json(MisbehavingServer.PaddedJson(Discovery(server, server.Url("/jwks"))[1..^1], 2 * 1024 * 1024)));
        server.On("/jwks", MisbehavingServer.Json("""{"keys":[]}"""));

        var error = await FetchMetadataAsync(server);

        Assert.NotNull(error);
        Assert.Contains("1 MiB", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProfileMetadata_JwksLargerThan1MiB_IsRefused()
    {
        await using var server = await MisbehavingServer.StartAsync();
        server.On(DiscoveryPath, MisbehavingServer.Json(Discovery(server, server.Url("/jwks"))));
        server.On("/jwks", MisbehavingServer.Json(MisbehavingServer.PaddedJson("\"keys\":[]", 2 * 1024 * 1024)));

        var error = await FetchMetadataAsync(server);

        Assert.NotNull(error);
        Assert.Contains("1 MiB", error.Message, StringComparison.Ordinal);
        Assert.Contains(server.Url("/jwks"), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProfileMetadata_JwksRedirect_IsRefusedNamingTheTarget_AndTheTargetReceivesNothing()
    {
        await using var server = await MisbehavingServer.StartAsync();
        await using var elsewhere = await MisbehavingServer.StartAsync();
        elsewhere.On("/jwks", MisbehavingServer.Json("""{"keys":[]}"""));
        server.On(DiscoveryPath, MisbehavingServer.Json(Discovery(server, server.Url("/jwks"))));
        server.On("/jwks", MisbehavingServer.Redirect(elsewhere.Url("/jwks"), 302));

        var error = await FetchMetadataAsync(server);

        Assert.NotNull(error);
        Assert.Contains(elsewhere.Url("/jwks"), error.Message, StringComparison.Ordinal);
        Assert.Contains("redirect", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(elsewhere.Requests);
    }

    [Theory]
    [InlineData("silent")]
    [InlineData("trickle")]
    public async Task ProfileMetadata_StallAfterHeaders_FailsAtTheDeadline(string stall)
    {
        await using var server = await MisbehavingServer.StartAsync();
        server.On(DiscoveryPath, stall == "silent" ? MisbehavingServer.SilentAfterHeaders() : MisbehavingServer.TrickleAfterHeaders(TimeSpan.FromSeconds(0.5)));
        var clock = Stopwatch.StartNew();

        var error = await FetchMetadataAsync(server);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"the fetch ended after {clock.Elapsed}");
        Assert.NotNull(error);
        Assert.Contains("127.0.0.1 did not answer within 2 seconds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Renew_FunctionalAccount_AccessTokenWithCrLf_IsRefused_AndRecordedAsInvalidResponse()
    {
        // Arrange: a provider of its own whose token endpoint hands out an access token with a line break.
        await using var server = await MisbehavingServer.StartAsync();
        server.On(DiscoveryPath, MisbehavingServer.Json(Discovery(server, server.Url("/jwks"))));
        server.On("/jwks", MisbehavingServer.Json("""{"keys":[]}"""));
        server.On("/token", MisbehavingServer.Json("""{"access_token":"abc\r\nX-Injected: 1","token_type":"Bearer","expires_in":3600}"""));
        var profile = await CreateProfileAsync("line-breaks", discoveryUrl: server.Url(DiscoveryPath));
        var account = await CreateAccountAsync(profile.Id);

        // Act
        var result = await RenewAsync(account.Id).WaitAsync(Bounded);

        // Assert
        Assert.False(result.Succeeded);
        var state = await AccountStateAsync(account.Id);
        Assert.Equal("invalid_response", state!.LastErrorCode);
        Assert.Contains("access_token", state.LastErrorDescription, StringComparison.Ordinal);
        Assert.Contains("invalid characters", state.LastErrorDescription, StringComparison.Ordinal);
        Assert.Null(state.AccessTokenProtected);
    }
}
