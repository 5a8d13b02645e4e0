using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tests.Tokens;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.TokenProvider;

/// <summary>
/// Two whole TokenAdmin hosts (each with its own services, token cache, flights and write gate) on one database — one
/// SQLite file, or one PostgreSQL database in the PostgreSQL pass — against the test provider, which rotates refresh
/// tokens and revokes the whole chain when a spent one is presented again.
/// </summary>
public sealed class TwoNodeRefreshTests : TokenTestBase
{
    private readonly TokenAdminFactory _nodeB = new();

    public override async Task InitializeAsync()
    {
        foreach (var node in new[] { App, _nodeB })
        {
            node.Settings["TokenAdmin:TokenProvider:DefaultLeadTime"] = "00:00:01";
            node.Settings["TokenAdmin:TokenProvider:MaxStaleness"] = "00:00:01";
        }

        _nodeB.Settings["TokenAdmin:DataDirectory"] = App.DataDirectory;
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await _nodeB.DisposeAsync();
        await base.DisposeAsync();
    }

    [Fact]
    public async Task HammeringBothNodes_AcrossManyRefreshCycles_NeverReusesARefreshToken_NorFails()
    {
        var id = await CreateConfigAsync();
        await AuthorizeAsync(id);
        var source = TokenSource.Config(id);
        // Note: 3 s, as the provider rounds expires_in down (a 2 s token may be announced as 1 s, leaving no usable time).
        Idp.AccessTokenLifetime = TimeSpan.FromSeconds(3);
        await App.Services.GetRequiredService<ITokenProvider>().ForceRefreshAsync(source, default); // a 3 s token from here on
        Idp.ResetCounters();
        var nodes = new[] { App.Services.GetRequiredService<ITokenProvider>(), _nodeB.Services.GetRequiredService<ITokenProvider>() };
        var failures = new ConcurrentQueue<string>();
        var handedOut = 0;

        var until = Stopwatch.StartNew();
        var callers = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            var node = nodes[i % 2];
            while (until.Elapsed < TimeSpan.FromSeconds(15))
            {
                try
                {
                    var token = await node.GetTokenAsync(source, default);
                    if (token.ExpiresAt <= DateTimeOffset.UtcNow)
                    {
                        failures.Enqueue($"node {i % 2} handed out a token that expired at {token.ExpiresAt:O}");
                    }

                    Interlocked.Increment(ref handedOut);
                }
                catch (TokenUnavailableException ex)
                {
                    failures.Enqueue($"node {i % 2}: {ex.Reason}: {ex.Message}");
                }

                await Task.Delay(5);
            }
        }));
        await Task.WhenAll(callers);

        Assert.Empty(failures);
        Assert.Equal(0, Idp.RefreshTokenReuseCount);
        // 15 s of 2-3 s tokens renewed 1 s before they expire: at least 5 refresh cycles; at most one refresh per cycle
        // and node (a storm of refreshes, every flight renewing, would be 40 or more).
        var refreshes = Idp.TokenRequestsByGrantType.GetValueOrDefault("refresh_token");
        Assert.True(refreshes is >= 5 and <= 30, $"{refreshes} refreshes in 15 s");
        Assert.True(handedOut > 1000, $"only {handedOut} tokens were handed out");
    }

    [Fact]
    public async Task TokenRenewedOnOneNode_IsHandedOutByTheOther_WithinTheStaleness_WithoutAskingTheProvider()
    {
        var id = await CreateConfigAsync();
        await AuthorizeAsync(id);
        var source = TokenSource.Config(id);
        var nodeA = App.Services.GetRequiredService<ITokenProvider>();
        var nodeB = _nodeB.Services.GetRequiredService<ITokenProvider>();
        var before = await nodeB.GetTokenAsync(source, default);

        var renewed = await nodeA.ForceRefreshAsync(source, default);
        var requests = Idp.TokenRequestCount;
        var waited = Stopwatch.StartNew();
        var seen = await nodeB.GetTokenAsync(source, default);
        while (seen.Value != renewed.Value && waited.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(50);
            seen = await nodeB.GetTokenAsync(source, default);
        }

        Assert.NotEqual(before.Value, renewed.Value);
        Assert.Equal(renewed.Value, seen.Value);
        // MaxStaleness is 1 s here, plus the 250 ms clock of the fast path.
        Assert.True(waited.Elapsed < TimeSpan.FromSeconds(1.5), $"node B saw the renewed token after {waited.Elapsed}");
        Assert.Equal(requests, Idp.TokenRequestCount);
    }
}
