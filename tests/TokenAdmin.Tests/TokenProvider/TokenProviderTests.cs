using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TokenAdmin.Secrets;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;
using TokenAdmin.Tests.Tokens;

namespace TokenAdmin.Tests.TokenProvider;

public sealed class TokenProviderTests : TokenTestBase
{
    private ITokenProvider Provider => App.Services.GetRequiredService<ITokenProvider>();

    private async Task<TokenSource> AuthorizedAsync(string name = "mailbox", Action<TokenConfigDocument>? change = null)
    {
        var id = await CreateConfigAsync(name, change: change);
        await AuthorizeAsync(id);
        return TokenSource.Config(id);
    }

    private Task<int> ExpireAccessTokenAsync(TokenSource source) =>
        App.WithDbAsync(db => db.TokenStates.Where(s => s.TokenConfigId == source.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.AccessTokenExpiresAt, DateTime.UtcNow.AddSeconds(-1))));

    /// <summary>A second TokenAdmin process on the same database: its own cache and flights, the same store.</summary>
    private TokenProviderService SecondNode() => new(
        App.Services.GetRequiredService<IServiceScopeFactory>(), App.Services.GetRequiredService<ISecretProtector>(),
        new TokenStateEvents(), TimeProvider.System, Options.Create(new TokenProviderOptions()), NullLogger<TokenProviderService>.Instance);

    [Fact]
    public void Dispose_Twice_AsTheContainerDoesForItsTwoRegistrations_StopsTheClockOnce()
    {
        // The container disposes the service as itself and as ITokenProvider: the second call must be harmless.
        var node = SecondNode();
        node.Dispose();
        node.Dispose();
    }

    [Fact]
    public async Task GetToken_ReturnsTheStoredToken_ThenTheCachedInstance_WithoutProviderCalls()
    {
        var source = await AuthorizedAsync();
        var requests = Idp.TokenRequestCount;

        var first = await Provider.GetTokenAsync(source, default);
        var second = await Provider.GetTokenAsync(source, default);

        var state = await StateAsync(source.Id);
        Assert.Equal(Unprotect(state!.AccessTokenProtected!), first.Value);
        Assert.Same(first, second);
        Assert.Equal(requests, Idp.TokenRequestCount);
        Assert.StartsWith("Bearer ", first.AuthorizationHeader, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetToken_HerdOnAnExpiredToken_CausesExactlyOneRefresh()
    {
        var source = await AuthorizedAsync();
        await ExpireAccessTokenAsync(source);
        Idp.Faults.HangDuration = TimeSpan.FromMilliseconds(300); // keeps the flight in the air while the herd arrives
        Idp.Faults.FailNextTokenRequests(TokenEndpointFault.Hang, 1);

        var tokens = await Task.WhenAll(Enumerable.Range(0, 500).Select(_ => Provider.GetTokenAsync(source, default).AsTask()));

        Assert.Equal(1, Idp.TokenRequestsByGrantType["refresh_token"]);
        Assert.Single(tokens.Select(t => t.Value).Distinct());
        Assert.True(tokens[0].ExpiresAt > DateTimeOffset.UtcNow.AddMinutes(30));
    }

    [Fact]
    public async Task TwoNodes_HerdOnOneExpiredToken_SpendTheRefreshTokenOnce()
    {
        var source = await AuthorizedAsync();
        await ExpireAccessTokenAsync(source);
        using var secondNode = SecondNode();
        Idp.Faults.HangDuration = TimeSpan.FromMilliseconds(300);
        Idp.Faults.FailNextTokenRequests(TokenEndpointFault.Hang, 1);

        var herd = Enumerable.Range(0, 100).SelectMany(_ => new[] { Provider.GetTokenAsync(source, default).AsTask(), secondNode.GetTokenAsync(source, default).AsTask() });
        var tokens = await Task.WhenAll(herd);

        Assert.Equal(1, Idp.TokenRequestsByGrantType["refresh_token"]);
        Assert.Equal(0, Idp.RefreshTokenReuseCount);
        Assert.Single(tokens.Select(t => t.Value).Distinct());
    }

    [Fact]
    public async Task ForceRefresh_GetsANewToken_AndStoresTheRotatedRefreshTokenFirst()
    {
        var source = await AuthorizedAsync();
        var before = await Provider.GetTokenAsync(source, default);
        var oldRefresh = Unprotect((await StateAsync(source.Id))!.RefreshTokenProtected!);

        var after = await Provider.ForceRefreshAsync(source, default);

        var state = await StateAsync(source.Id);
        Assert.NotEqual(before.Value, after.Value);
        Assert.Equal(Unprotect(state!.AccessTokenProtected!), after.Value);
        Assert.NotEqual(oldRefresh, Unprotect(state.RefreshTokenProtected!));
        Assert.Same(after, await Provider.GetTokenAsync(source, default));
        Assert.Null(state.LeaseOwner);
    }

    [Fact]
    public async Task ClientCredentials_AreRequestedOnFirstUse()
    {
        var id = await CreateConfigAsync("app-token", TokenFlows.ClientCredentials);

        var token = await Provider.GetTokenAsync(TokenSource.Config(id), default);

        Assert.Equal(1, Idp.TokenRequestsByGrantType["client_credentials"]);
        Assert.Equal(Unprotect((await StateAsync(id))!.AccessTokenProtected!), token.Value);
    }

    [Fact]
    public async Task AuthorizationCodeConfigWithoutToken_IsNotAuthorizedYet()
    {
        var id = await CreateConfigAsync("mailbox");

        var error = await Assert.ThrowsAsync<TokenUnavailableException>(() => Provider.GetTokenAsync(TokenSource.Config(id), default).AsTask());

        Assert.Equal(TokenUnavailableReason.NotAuthorizedYet, error.Reason);
        Assert.Contains("an admin must request a token", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, Idp.TokenRequestCount);
    }

    [Fact]
    public async Task DisablingTheConfig_EndsTheCachedToken()
    {
        var source = await AuthorizedAsync();
        await Provider.GetTokenAsync(source, default);
        using (var scope = App.Services.CreateScope())
        {
            var service = scope.ServiceProvider.GetRequiredService<TokenConfigService>();
            var (config, document) = (await service.LoadAsync(source.Id, default))!.Value;
            document.Valid = false;
            Assert.True((await service.UpdateAsync(source.Id, config.Version, document, new TokenConfigSecrets(), "test", default)).Succeeded);
        }

        var error = await Assert.ThrowsAsync<TokenUnavailableException>(() => Provider.GetTokenAsync(source, default).AsTask());

        Assert.Equal(TokenUnavailableReason.ConfigDisabled, error.Reason);
    }

    [Fact]
    public async Task InvalidGrant_IsRefreshTokenRevoked_AndNotAskedAgain()
    {
        var source = await AuthorizedAsync();
        await ExpireAccessTokenAsync(source);
        Idp.Faults.TokenEndpoint = TokenEndpointFault.InvalidGrant;

        var first = await Assert.ThrowsAsync<TokenUnavailableException>(() => Provider.GetTokenAsync(source, default).AsTask());
        var requests = Idp.TokenRequestCount;
        var second = await Assert.ThrowsAsync<TokenUnavailableException>(() => Provider.GetTokenAsync(source, default).AsTask());

        Assert.Equal(TokenUnavailableReason.RefreshTokenRevoked, first.Reason);
        Assert.Equal(TokenUnavailableReason.RefreshTokenRevoked, second.Reason);
        Assert.Equal(requests, Idp.TokenRequestCount);
        Assert.NotNull((await StateAsync(source.Id))!.RefreshTokenProtected); // never wiped
    }

    [Fact]
    public async Task ProviderFailure_IsShared_ThenBackedOff_WithoutHammering()
    {
        var source = await AuthorizedAsync();
        await ExpireAccessTokenAsync(source);
        Idp.Faults.TokenEndpoint = TokenEndpointFault.ServerError500;
        var before = Idp.TokenRequestCount;

        var herd = await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
            await Assert.ThrowsAsync<TokenUnavailableException>(() => Provider.GetTokenAsync(source, default).AsTask())));
        var afterHerd = Idp.TokenRequestCount;
        var later = await Assert.ThrowsAsync<TokenUnavailableException>(() => Provider.GetTokenAsync(source, default).AsTask());

        Assert.All(herd, e => Assert.Equal(TokenUnavailableReason.ProviderUnavailable, e.Reason));
        Assert.Equal(afterHerd, Idp.TokenRequestCount); // backoff: no request for the later caller
        Assert.True(afterHerd - before <= 3, $"one flight with its retries, not one per caller ({afterHerd - before})");
        Assert.Equal(TokenUnavailableReason.ProviderUnavailable, later.Reason);
        Assert.True(later.RetryAfter > TimeSpan.Zero);
        Assert.Contains("asks again in", later.Message, StringComparison.Ordinal);
        var state = await StateAsync(source.Id);
        Assert.NotNull(state!.AccessTokenProtected);
        Assert.Equal(1, state.ConsecutiveFailures);
    }

    [Fact]
    public async Task LeadTime_PerConfig_RenewsEarlier()
    {
        var source = await AuthorizedAsync(change: d => d.LeadTimeSeconds = 3600);

        await Provider.GetTokenAsync(source, default); // the test provider's tokens live one hour: within the lead time

        Assert.Equal(1, Idp.TokenRequestsByGrantType["refresh_token"]);
    }

    [Fact]
    public async Task TooManyRequests_WithShortRetryAfter_IsRetriedAfterIt()
    {
        var source = await AuthorizedAsync();
        await ExpireAccessTokenAsync(source);
        Idp.Faults.RetryAfterSeconds = 1;
        Idp.Faults.FailNextTokenRequests(TokenEndpointFault.TooManyRequests429, 1);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var token = await Provider.GetTokenAsync(source, default);

        Assert.Equal(2, Idp.TokenRequestsByGrantType["refresh_token"]);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"Retry-After was not honoured ({clock.Elapsed.TotalMilliseconds:0} ms)");
        Assert.Equal(Unprotect((await StateAsync(source.Id))!.AccessTokenProtected!), token.Value);
    }

    [Fact]
    public async Task TooManyRequests_WithLongRetryAfter_FailsAtOnce_AndSaysWhenToRetry()
    {
        var source = await AuthorizedAsync();
        await ExpireAccessTokenAsync(source);
        Idp.Faults.RetryAfterSeconds = 120;
        Idp.Faults.TokenEndpoint = TokenEndpointFault.TooManyRequests429;

        var error = await Assert.ThrowsAsync<TokenUnavailableException>(() => Provider.GetTokenAsync(source, default).AsTask());

        Assert.Equal(TokenUnavailableReason.ProviderUnavailable, error.Reason);
        Assert.Equal(1, Idp.TokenRequestsByGrantType["refresh_token"]);
        Assert.True(error.RetryAfter > TimeSpan.FromSeconds(100), $"RetryAfter {error.RetryAfter}");
        Assert.Equal("http_429", (await StateAsync(source.Id))!.LastErrorCode);
    }

    [Fact]
    public async Task ConnectionRefused_IsRetried_ThenReportedAsUnavailable()
    {
        var id = await CreateConfigAsync("app-token", TokenFlows.ClientCredentials, change: d => d.Endpoints.Token = "http://127.0.0.1:9/connect/token");

        var error = await Assert.ThrowsAsync<TokenUnavailableException>(() => Provider.GetTokenAsync(TokenSource.Config(id), default).AsTask());

        Assert.Equal(TokenUnavailableReason.ProviderUnavailable, error.Reason);
        Assert.Contains("refused the connection", error.Message, StringComparison.Ordinal);
        Assert.Equal("connection_failed", (await StateAsync(id))!.LastErrorCode);
    }

    [Fact]
    public async Task Metrics_CountTokenRequests_AndObserveExpiry()
    {
        var source = await AuthorizedAsync();
        var measurements = new System.Collections.Concurrent.ConcurrentBag<(string Name, double Value, string Tags)>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == TokenMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => measurements.Add((i.Name, v, string.Join(",", tags.ToArray().Select(t => $"{t.Key}={t.Value}")))));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => measurements.Add((i.Name, v, string.Join(",", tags.ToArray().Select(t => $"{t.Key}={t.Value}")))));
        listener.Start();

        await Provider.ForceRefreshAsync(source, default);
        listener.RecordObservableInstruments();

        Assert.Contains(measurements, m => m.Name == "tokenadmin.token_requests" && m.Tags.Contains("grant_type=refresh_token", StringComparison.Ordinal) && m.Tags.Contains("result=ok", StringComparison.Ordinal));
        Assert.Contains(measurements, m => m.Name == "tokenadmin.token_request.duration" && m.Value > 0);
        Assert.Contains(measurements, m => m.Name == "tokenadmin.token.seconds_until_expiry" && m.Value > 3000 && m.Tags == $"source={source}");
    }
}
