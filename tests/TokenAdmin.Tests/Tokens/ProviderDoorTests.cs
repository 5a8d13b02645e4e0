using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Providers;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Tokens;

/// <summary>
/// What a token endpoint answers is checked at the door: one deadline for the whole exchange (body included), no
/// redirects followed, no token with characters a header cannot carry. The providers here misbehave for real, on loopback.
/// </summary>
public sealed class ProviderDoorTests : TokenTestBase
{
    /// <summary>Far above the 2 second deadline; far below "hangs".</summary>
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(20);

    private const string Tokens = """{"access_token":"first-access","token_type":"Bearer","expires_in":3600,"refresh_token":"first-refresh"}""";

    public override async Task InitializeAsync()
    {
        // Each attempt may take longer than the whole exchange: the deadline is what ends a stalled answer.
        App.Settings["TokenAdmin:Providers:Timeout"] = "00:00:10";
        App.Settings["TokenAdmin:Providers:Deadline"] = "00:00:02";
        App.Settings["TokenAdmin:Providers:Retries"] = "0";
        await base.InitializeAsync();
    }

    private async Task<TokenOperationResult> RequestTokenAsync(int id)
    {
        using var scope = App.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<TokenEngine>().RequestAsync(TokenAdmin.Tokens.TokenSource.Config(id), "test", default).WaitAsync(Bounded);
    }

    [Theory]
    [InlineData("silent")]
    [InlineData("trickle")]
    public async Task RefreshButton_ProviderStallsAfterTheHeaders_AnswersWithinTheDeadline_AndRecordsATimeout(string stall)
    {
        // Arrange: a token config whose provider answered the code exchange, then stalls after the headers.
        await using var provider = await MisbehavingServer.StartAsync();
        provider.On("/token", MisbehavingServer.Json(Tokens));
        var id = await CreateConfigAsync(change: d => { d.Endpoints.Token = provider.Url("/token"); d.Scope = "mail"; });
        await Browser.GetAsync(await SignInAtProviderAsync(await StartAuthorizationAsync(id)));
        Assert.NotNull((await StateAsync(id))!.AccessTokenProtected);
        provider.On("/token", stall == "silent" ? MisbehavingServer.SilentAfterHeaders() : MisbehavingServer.TrickleAfterHeaders(TimeSpan.FromSeconds(0.5)));
        var clock = Stopwatch.StartNew();

        // Act
        var response = await Browser.PostFormAsync($"/tokens/details/{id}?handler=Refresh", [], formPage: $"/tokens/details/{id}").WaitAsync(Bounded);

        // Assert
        clock.Stop();
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"the Refresh button answered after {clock.Elapsed}");
        var page = WebUtility.HtmlDecode(await Browser.GetStringAsync(response.Headers.Location!.OriginalString));
        Assert.Contains("127.0.0.1 did not answer within 2 seconds", page, StringComparison.Ordinal);
        var state = await StateAsync(id);
        Assert.Equal("timeout", state!.LastErrorCode);
        Assert.Equal("first-access", Unprotect(state.AccessTokenProtected!));
    }

    [Fact]
    public async Task RequestToken_TokenEndpointRedirects_IsRefusedNamingTheTarget_AndTheTargetReceivesNothing()
    {
        // Arrange: the token endpoint answers 307 to another loopback port that would hand out tokens.
        await using var provider = await MisbehavingServer.StartAsync();
        await using var elsewhere = await MisbehavingServer.StartAsync();
        elsewhere.On("/token", MisbehavingServer.Json(Tokens));
        provider.On("/token", MisbehavingServer.Redirect(elsewhere.Url("/token")));
        var id = await CreateConfigAsync("redirected", TokenFlows.ClientCredentials, d => d.Endpoints.Token = provider.Url("/token"));

        // Act
        var result = await RequestTokenAsync(id);

        // Assert
        Assert.False(result.Succeeded);
        Assert.Empty(elsewhere.Requests);
        Assert.Single(provider.Requests);
        Assert.Contains(elsewhere.Url("/token"), result.Message, StringComparison.Ordinal);
        var state = await StateAsync(id);
        Assert.Equal("redirect", state!.LastErrorCode);
        Assert.Contains("307", state.LastErrorDescription, StringComparison.Ordinal);
        Assert.Contains(elsewhere.Url("/token"), state.LastErrorDescription, StringComparison.Ordinal);
        Assert.Null(state.AccessTokenProtected);
    }

    [Theory]
    [InlineData("access_token", """{"access_token":"abc\r\nX-Injected: 1","token_type":"Bearer","expires_in":3600}""")]
    [InlineData("refresh_token", """{"access_token":"abc","token_type":"Bearer","expires_in":3600,"refresh_token":"r\u00e9fresh"}""")]
    [InlineData("id_token", """{"access_token":"abc","token_type":"Bearer","expires_in":3600,"id_token":"a b.c"}""")]
    public async Task RequestToken_TokenWithCharactersOutsideVisibleAscii_IsRefused_AndRecordedAsInvalidResponse(string field, string answer)
    {
        // Arrange
        await using var provider = await MisbehavingServer.StartAsync();
        provider.On("/token", MisbehavingServer.Json(answer));
        var id = await CreateConfigAsync("odd-token", TokenFlows.ClientCredentials, d => d.Endpoints.Token = provider.Url("/token"));

        // Act
        var result = await RequestTokenAsync(id);

        // Assert
        Assert.False(result.Succeeded);
        var state = await StateAsync(id);
        Assert.Equal("invalid_response", state!.LastErrorCode);
        Assert.Contains(field, state.LastErrorDescription, StringComparison.Ordinal);
        Assert.Contains("invalid characters", state.LastErrorDescription, StringComparison.Ordinal);
        Assert.Null(state.AccessTokenProtected);
        Assert.Null(state.RefreshTokenProtected);
        Assert.Null(state.IdTokenProtected);
    }

    [Fact]
    public async Task Discovery_Redirect_IsRefusedNamingTheTarget_AndTheTargetReceivesNothing()
    {
        await using var provider = await MisbehavingServer.StartAsync();
        await using var elsewhere = await MisbehavingServer.StartAsync();
        elsewhere.On("/.well-known/openid-configuration", MisbehavingServer.Json($$"""{"issuer":"{{elsewhere.BaseUrl}}","token_endpoint":"{{elsewhere.Url("/token")}}"}"""));
        provider.On("/.well-known/openid-configuration", MisbehavingServer.Redirect(elsewhere.Url("/.well-known/openid-configuration"), 302));

        var result = await App.Services.GetRequiredService<OidcDiscoveryReader>()
            .ReadAsync(provider.Url("/.well-known/openid-configuration"), default).WaitAsync(Bounded);

        Assert.Null(result.TokenEndpoint);
        Assert.Contains(elsewhere.Url("/.well-known/openid-configuration"), result.Error, StringComparison.Ordinal);
        Assert.Empty(elsewhere.Requests);
    }

    [Fact]
    public async Task Discovery_LargerThan1MiB_IsRefused()
    {
        await using var provider = await MisbehavingServer.StartAsync();
        provider.On("/.well-known/openid-configuration", MisbehavingServer.Json(MisbehavingServer.PaddedJson(
            $"\"issuer\":\"{provider.BaseUrl}\",\"token_endpoint\":\"{provider.Url("/token")}\"", 2 * 1024 * 1024)));

        var result = await App.Services.GetRequiredService<OidcDiscoveryReader>()
            .ReadAsync(provider.Url("/.well-known/openid-configuration"), default).WaitAsync(Bounded);

        Assert.Null(result.TokenEndpoint);
        Assert.Contains("1 MiB", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Discovery_SilentAfterHeaders_FailsAtTheDeadline()
    {
        await using var provider = await MisbehavingServer.StartAsync();
        provider.On("/.well-known/openid-configuration", MisbehavingServer.SilentAfterHeaders());
        var clock = Stopwatch.StartNew();

        var result = await App.Services.GetRequiredService<OidcDiscoveryReader>()
            .ReadAsync(provider.Url("/.well-known/openid-configuration"), default).WaitAsync(Bounded);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"discovery answered after {clock.Elapsed}");
        Assert.Contains("127.0.0.1 did not answer within 2 seconds", result.Error, StringComparison.Ordinal);
    }
}
