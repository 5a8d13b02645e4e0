using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using TokenAdmin.Cli;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.FunctionalAccounts;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tests.Oidc;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Tokens;

/// <summary>
/// The device authorization grant (RFC 8628) of both kinds of source against the test identity provider's OpenIddict
/// device flow: the user code shown, the user approving or denying at the verification endpoint, polling with interval
/// and slow_down, the codes expiring, providers without the flow or with a broken answer, and the tokens stored like
/// any grant's (the refresh token renewing them later).
/// </summary>
public sealed class DeviceCodeFlowTests : AccountTestBase
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    public override async Task InitializeAsync()
    {
        App.Settings["TokenAdmin:TokenStoreUpdater:Enabled"] = "false";
        // Quick polls for tests; the defaults are RFC 8628's 5 seconds.
        App.Settings["TokenAdmin:DeviceFlow:DefaultInterval"] = "00:00:00.200";
        App.Settings["TokenAdmin:DeviceFlow:SlowDownStep"] = "00:00:00.500";
        await base.InitializeAsync();
        await Idp.AddClientAsync(new TestClient("tokenadmin", ClientSecret, ["http://localhost:5080/oauth2/callback"])
        {
            AllowedGrantTypes = ["authorization_code", "refresh_token", "client_credentials", TestIdentityProviderServer.DeviceCodeGrantType],
        });
    }

    private async Task<TokenSource> SourceAsync(TokenSourceKind kind, bool explicitEndpoint = false)
    {
        if (kind == TokenSourceKind.TokenConfig)
        {
            return TokenSource.Config(await CreateConfigAsync("tv-mailbox", TokenFlows.DeviceCode, d =>
            {
                d.Endpoints.Authorization = null;
                if (explicitEndpoint)
                {
                    d.Issuer = null;
                    d.Endpoints.DeviceAuthorization = Idp.DeviceAuthorizationEndpoint;
                }
            }));
        }

        var profile = await CreateProfileAsync();
        var account = await CreateAccountAsync(profile.Id, change: a =>
        {
            a.GrantType = AccountGrantTypes.DeviceCode;
            a.Scope = "openid offline_access mail";
        });
        return TokenSource.Account(account.Id);
    }

    private async Task<(DeviceSignIn? SignIn, string Message)> StartAsync(TokenSource source) =>
        await App.Services.GetRequiredService<DeviceSignIns>().StartAsync(source, "test", default);

    private Task<TokenState?> SourceStateAsync(TokenSource source) => App.WithDbAsync(db => db.TokenStates.AsNoTracking()
        .SingleOrDefaultAsync(s => source.Kind == TokenSourceKind.TokenConfig ? s.TokenConfigId == source.Id : s.FunctionalAccountId == source.Id));

    private int DevicePolls => Idp.TokenRequestsByGrantType.GetValueOrDefault(TestIdentityProviderServer.DeviceCodeGrantType);

    [Theory]
    [InlineData(TokenSourceKind.TokenConfig, false)]
    [InlineData(TokenSourceKind.TokenConfig, true)]
    [InlineData(TokenSourceKind.FunctionalAccount, false)]
    public async Task DeviceCode_UserApproves_TokensStored_AndTheRefreshTokenRenewsThemLater(TokenSourceKind kind, bool explicitEndpoint)
    {
        var source = await SourceAsync(kind, explicitEndpoint);

        var (signIn, message) = await StartAsync(source);

        Assert.NotNull(signIn);
        Assert.Equal(DeviceSignInStatus.Pending, signIn.Status);
        Assert.Contains(signIn.UserCode, message);
        Assert.StartsWith(Idp.VerificationEndpoint, signIn.VerificationUri);
        Assert.InRange(signIn.ExpiresAt, DateTime.UtcNow.AddMinutes(1), DateTime.UtcNow.AddHours(1));
        Assert.Null((await SourceStateAsync(source))?.AccessTokenProtected);

        Assert.Equal(HttpStatusCode.Redirect, await Idp.AnswerUserCodeAsync(signIn.UserCode, "alice", "alice-password-1", approve: true));
        await signIn.Finished.WaitAsync(Bound);

        Assert.True(signIn.Status == DeviceSignInStatus.Succeeded, signIn.Message);
        Assert.Contains("received", signIn.Message);
        Assert.Empty(LastRequestValues("scope"));
        var state = await SourceStateAsync(source);
        Assert.NotNull(state!.AccessTokenProtected);
        Assert.NotNull(state.RefreshTokenProtected);
        Assert.Null(state.LastErrorCode);
        Assert.Equal("alice", Part(Unprotect(state.AccessTokenProtected), "sub"));
        var handedOut = await App.Services.GetRequiredService<ITokenProvider>().GetTokenAsync(source, default);
        Assert.Equal(Unprotect(state.AccessTokenProtected), handedOut.Value);

        // Later: the refresh token renews, with no person needed.
        Idp.ResetCounters();
        using var scope = App.Services.CreateScope();
        var renewed = await scope.ServiceProvider.GetRequiredService<TokenEngine>().RenewAsync(source, "test", default);
        Assert.True(renewed.Succeeded, renewed.Message);
        Assert.Equal(1, Idp.TokenRequestsByGrantType.GetValueOrDefault("refresh_token"));
        Assert.NotEqual(state.AccessTokenProtected, (await SourceStateAsync(source))!.AccessTokenProtected);
    }

    private static string? Part(string jwt, string claim) =>
        System.Text.Json.JsonDocument.Parse(Microsoft.AspNetCore.WebUtilities.WebEncoders.Base64UrlDecode(jwt.Split('.')[1])).RootElement
            .TryGetProperty(claim, out var value) ? value.GetString() : null;

    [Fact]
    public async Task DeviceCode_PollsAreSpacedByTheInterval_AndSlowDownWidensIt()
    {
        var source = await SourceAsync(TokenSourceKind.TokenConfig);
        Idp.Faults.FailNextTokenRequests(TokenEndpointFault.SlowDown, 2);
        var (signIn, message) = await StartAsync(source);
        Assert.True(signIn is not null, message);
        var started = DateTime.UtcNow;
        Assert.Equal(TimeSpan.FromMilliseconds(200), signIn.Interval);

        await WaitUntilAsync(() => signIn.Polls >= 3);
        // Two slow_down answers: 200 ms + 2 x 500 ms; the waits so far were 200 + 700 + 1200 ms at least.
        Assert.Equal(TimeSpan.FromMilliseconds(1200), signIn.Interval);
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromMilliseconds(2100), $"{DateTime.UtcNow - started}");
        Assert.Equal(DeviceSignInStatus.Pending, signIn.Status);

        Assert.Equal(HttpStatusCode.Redirect, await Idp.AnswerUserCodeAsync(signIn.UserCode, "alice", "alice-password-1", approve: true));
        await signIn.Finished.WaitAsync(Bound);
        Assert.True(signIn.Status == DeviceSignInStatus.Succeeded, signIn.Message);
        Assert.Equal(TimeSpan.FromMilliseconds(1200), signIn.Interval);
    }

    [Theory]
    [InlineData(TokenSourceKind.TokenConfig)]
    [InlineData(TokenSourceKind.FunctionalAccount)]
    public async Task DeviceCode_UserDenies_EndsWithAccessDenied_Recorded_NothingStored(TokenSourceKind kind)
    {
        var source = await SourceAsync(kind);
        var (signIn, message) = await StartAsync(source);
        Assert.True(signIn is not null, message);

        Assert.Equal(HttpStatusCode.Redirect, await Idp.AnswerUserCodeAsync(signIn.UserCode, "alice", "alice-password-1", approve: false));
        await signIn.Finished.WaitAsync(Bound);

        Assert.Equal(DeviceSignInStatus.Failed, signIn.Status);
        Assert.Contains("declined", signIn.Message);
        Assert.Contains("access_denied", signIn.Message);
        var state = await SourceStateAsync(source);
        Assert.Null(state!.AccessTokenProtected);
        Assert.Equal("access_denied", state.LastErrorCode);
        var polls = DevicePolls;
        await Task.Delay(600);
        Assert.Equal(polls, DevicePolls); // polling stopped
    }

    [Theory]
    [InlineData(TokenSourceKind.TokenConfig)]
    [InlineData(TokenSourceKind.FunctionalAccount)]
    public async Task DeviceCode_NewSignInDeclined_OnASourceThatWorks_CountsNoFailure_RaisesNoAlert_TokensKeepWorking(TokenSourceKind kind)
    {
        var source = await SourceAsync(kind);
        var (first, _) = await StartAsync(source);
        Assert.NotNull(first);
        Assert.Equal(HttpStatusCode.Redirect, await Idp.AnswerUserCodeAsync(first.UserCode, "alice", "alice-password-1", approve: true));
        await first.Finished.WaitAsync(Bound);
        Assert.True(first.Status == DeviceSignInStatus.Succeeded, first.Message);
        var working = await SourceStateAsync(source);

        // An admin starts a new sign-in on the working source, and the person declines it.
        var (second, message) = await StartAsync(source);
        Assert.True(second is not null, message);
        Assert.Equal(HttpStatusCode.Redirect, await Idp.AnswerUserCodeAsync(second.UserCode, "alice", "alice-password-1", approve: false));
        await second.Finished.WaitAsync(Bound);
        Assert.Equal(DeviceSignInStatus.Failed, second.Status);

        var state = await SourceStateAsync(source);
        Assert.Equal("access_denied", state!.LastErrorCode);
        Assert.Equal(0, state.ConsecutiveFailures);
        Assert.Null(state.AlertCondition);
        Assert.Equal(working!.AccessTokenProtected, state.AccessTokenProtected);
        Assert.Equal(working.RefreshTokenProtected, state.RefreshTokenProtected);
        Assert.Equal(0, await App.WithDbAsync(db => db.AlertEvents.CountAsync(e => e.SourceId == source.Id && e.SourceKind == source.Kind.ToString())));
        // The stored refresh token still renews at once (no backoff after the declined sign-in).
        using var scope = App.Services.CreateScope();
        var renewed = await scope.ServiceProvider.GetRequiredService<TokenEngine>().RenewAsync(source, "test", default);
        Assert.True(renewed.Succeeded, renewed.Message);
    }

    [Fact]
    public async Task DeviceCode_StartAgain_ReplacesTheRunningSignIn_AndStartsAfreshAfterOneEnded()
    {
        var source = await SourceAsync(TokenSourceKind.TokenConfig);
        var signIns = App.Services.GetRequiredService<DeviceSignIns>();
        var (first, message) = await StartAsync(source);
        Assert.True(first is not null, message);

        var (second, again) = await StartAsync(source);
        Assert.True(second is not null, again);
        await first.Finished.WaitAsync(Bound);
        Assert.Equal(DeviceSignInStatus.Failed, first.Status);
        Assert.Equal("A newer device sign-in replaced this one.", first.Message);
        Assert.NotEqual(first.UserCode, second.UserCode);
        Assert.Same(second, signIns.Find(source));

        Assert.Equal(HttpStatusCode.Redirect, await Idp.AnswerUserCodeAsync(second.UserCode, "alice", "alice-password-1", approve: false));
        await second.Finished.WaitAsync(Bound);
        var (third, afresh) = await StartAsync(source);
        Assert.True(third is not null, afresh);
        Assert.Equal(DeviceSignInStatus.Pending, third.Status);
        Assert.Same(third, signIns.Find(source));
    }

    [Fact]
    public async Task DeviceCode_ExpiredToken_EndsTheSignIn_WithTheMessage()
    {
        var source = await SourceAsync(TokenSourceKind.TokenConfig);
        var (signIn, message) = await StartAsync(source);
        Assert.True(signIn is not null, message);
        Idp.Faults.TokenEndpoint = TokenEndpointFault.ExpiredToken;

        await signIn.Finished.WaitAsync(Bound);

        Assert.Equal(DeviceSignInStatus.Failed, signIn.Status);
        Assert.Contains("expired_token", signIn.Message);
        Assert.Contains("start the device sign-in again", signIn.Message);
        Assert.Equal("expired_token", (await SourceStateAsync(source))!.LastErrorCode);
        Assert.Equal(1, DevicePolls);
    }

    [Fact]
    public async Task DeviceCode_CodesExpireUnused_PollingStopsAtExpiresIn_WithTheMessage()
    {
        Idp.DeviceCodeLifetime = TimeSpan.FromSeconds(3);
        var source = await SourceAsync(TokenSourceKind.FunctionalAccount);
        var (signIn, message) = await StartAsync(source);
        Assert.True(signIn is not null, message);
        Assert.InRange(signIn.ExpiresAt, DateTime.UtcNow, DateTime.UtcNow.AddSeconds(4));

        await signIn.Finished.WaitAsync(Bound);

        Assert.Equal(DeviceSignInStatus.Failed, signIn.Status);
        Assert.Contains("expired", signIn.Message);
        Assert.True(signIn.EndedAt <= signIn.ExpiresAt.AddSeconds(3), $"ended {signIn.EndedAt:O}, expired {signIn.ExpiresAt:O}");
        var state = await SourceStateAsync(source);
        Assert.Null(state!.AccessTokenProtected);
        Assert.Equal("expired_token", state.LastErrorCode);
    }

    [Fact]
    public async Task DeviceCode_ProviderWithoutDeviceEndpoint_ClearMessage_NothingStarted()
    {
        // A token config without issuer, discovery or a device endpoint written down.
        var config = TokenSource.Config(await CreateConfigAsync("no-device", TokenFlows.DeviceCode, d => { d.Issuer = null; d.Endpoints.Authorization = null; }));
        var (signIn, message) = await StartAsync(config);
        Assert.Null(signIn);
        Assert.Contains("No device authorization endpoint is known for 'no-device'", message);
        Assert.Contains("Enter the device authorization endpoint", message);

        // A functional account whose provider's metadata names none.
        Idp.Faults.HideDeviceAuthorizationEndpoint = true;
        var account = await SourceAsync(TokenSourceKind.FunctionalAccount);
        (signIn, message) = await StartAsync(account);
        Assert.Null(signIn);
        Assert.Contains("offers no device code flow", message);
        Assert.Contains("device_authorization_endpoint", message);

        Assert.Null(App.Services.GetRequiredService<DeviceSignIns>().Find(config));
        Assert.Null(App.Services.GetRequiredService<DeviceSignIns>().Find(account));
        Assert.Equal(0, DevicePolls);
        Assert.Null((await SourceStateAsync(config))?.AccessTokenProtected);
    }

    [Theory]
    [InlineData("<html><body>Sign in to the network</body></html>", "text/html", "did not answer with a JSON object")]
    [InlineData("{\"device_code\":\"abc\",\"verification_uri\":\"https://example.test/device\",\"expires_in\":600}", "application/json", "no user_code")]
    [InlineData("{\"device_code\":\"abc\",\"user_code\":\"ABCD\",\"verification_uri\":\"javascript:alert(1)\",\"expires_in\":600}", "application/json", "verification_uri is not an http(s) address")]
    public async Task DeviceCode_BadDeviceAuthorizationAnswer_ClearMessage_NothingStored(string body, string contentType, string expected)
    {
        var source = await SourceAsync(TokenSourceKind.TokenConfig);
        Idp.Faults.DeviceAuthorizationBody = body;
        Idp.Faults.DeviceAuthorizationContentType = contentType;

        var (signIn, message) = await StartAsync(source);

        Assert.Null(signIn);
        Assert.Contains(expected, message);
        Assert.Contains("nothing was started", message);
        Assert.Null(App.Services.GetRequiredService<DeviceSignIns>().Find(source));
        Assert.Null(await SourceStateAsync(source));
        await Task.Delay(500);
        Assert.Equal(0, Idp.TokenRequestCount);
    }

    [Fact]
    public async Task DeviceCode_ProviderRefusesTheClient_ClearMessage()
    {
        // The client is not allowed the device grant at the provider.
        await Idp.AddClientAsync(new TestClient("tokenadmin", ClientSecret, ["http://localhost:5080/oauth2/callback"]));
        var source = await SourceAsync(TokenSourceKind.TokenConfig);

        var (signIn, message) = await StartAsync(source);

        Assert.Null(signIn);
        Assert.Contains("The provider refused the device sign-in; nothing was started.", message);
        Assert.Contains("unauthorized_client", message);
    }

    [Fact]
    public async Task DeviceCode_RequestToken_PointsToTheDeviceSignIn_AndTheDeviceCodeIsKeptNowhere()
    {
        var source = await SourceAsync(TokenSourceKind.TokenConfig);
        using (var scope = App.Services.CreateScope())
        {
            var request = await scope.ServiceProvider.GetRequiredService<TokenEngine>().RequestAsync(source, "test", default);
            Assert.False(request.Succeeded);
            Assert.Contains("device code flow", request.Message);
        }

        var (signIn, message) = await StartAsync(source);
        Assert.True(signIn is not null, message);
        await WaitUntilAsync(() => signIn.Polls >= 1 && LastRequestValues("device_code").Count == 1);
        var deviceCode = LastRequestValues("device_code").Single();
        Assert.DoesNotContain(deviceCode, signIn.ToString() + signIn.Message);
        Assert.Equal(HttpStatusCode.Redirect, await Idp.AnswerUserCodeAsync(signIn.UserCode, "alice", "alice-password-1", approve: true));
        await signIn.Finished.WaitAsync(Bound);

        var stored = await App.WithDbAsync(async db => string.Join("\n",
            (await db.TokenStates.AsNoTracking().ToListAsync()).Select(s => $"{s.AccessTokenProtected}{s.RefreshTokenProtected}{s.LastErrorDescription}"))
            + string.Join("\n", (await db.AuditEntries.AsNoTracking().ToListAsync()).Select(a => $"{a.Action} {a.Target} {a.Details}")));
        Assert.DoesNotContain(deviceCode, stored);
    }

    [Theory]
    [InlineData(TokenSourceKind.TokenConfig, true)]
    [InlineData(TokenSourceKind.FunctionalAccount, false)]
    public async Task ConsoleVerb_PrintsCodeAndAddress_WaitsForTheSignIn_ExitCodeSaysHowItEnded(TokenSourceKind kind, bool approve)
    {
        await SourceAsync(kind);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        string[] args = kind == TokenSourceKind.TokenConfig ? ["tokens", "device", "tv-mailbox"] : ["tokens", "device", "mailbox-robot", "--functional-account"];
        var run = CliApp.RunAsync(args, new StringReader(""), TextWriter.Synchronized(stdout), TextWriter.Synchronized(stderr),
            config => config.AddInMemoryCollection(new Dictionary<string, string?>(TestDatabase.Settings(App.DataDirectory))
            {
                ["TokenAdmin:DataDirectory"] = App.DataDirectory,
                ["TokenAdmin:Providers:Timeout"] = "00:00:02",
                ["TokenAdmin:DeviceFlow:DefaultInterval"] = "00:00:00.200",
            }));

        Match printed = Match.Empty;
        await WaitUntilAsync(() => run.IsCompleted || (printed = Regex.Match(stdout.ToString(), @"Open (\S+) and enter the code (\S+)")).Success);
        Assert.True(printed.Success, $"ended early\n{stdout}\n{stderr}");
        Assert.StartsWith(Idp.VerificationEndpoint, printed.Groups[1].Value);
        Assert.Contains("valid until", stdout.ToString());
        Assert.False(run.IsCompleted);

        Assert.Equal(HttpStatusCode.Redirect, await Idp.AnswerUserCodeAsync(printed.Groups[2].Value, "alice", "alice-password-1", approve));
        var exit = await run.WaitAsync(Bound);

        var state = kind == TokenSourceKind.TokenConfig
            ? await App.WithDbAsync(db => db.TokenStates.AsNoTracking().SingleOrDefaultAsync(s => s.TokenConfigId != null))
            : await App.WithDbAsync(db => db.TokenStates.AsNoTracking().SingleOrDefaultAsync(s => s.FunctionalAccountId != null));
        if (approve)
        {
            Assert.Equal((0, ""), (exit, stderr.ToString()));
            Assert.Contains("received", stdout.ToString());
            Assert.NotNull(state!.RefreshTokenProtected);
        }
        else
        {
            Assert.Equal(1, exit);
            Assert.Contains("declined", stderr.ToString());
            Assert.Null(state!.AccessTokenProtected);
        }
    }

    [Fact]
    public async Task ConsoleVerb_UnknownNameOrNoDeviceEndpoint_Refused()
    {
        await CreateConfigAsync("no-device", TokenFlows.DeviceCode, d => { d.Issuer = null; d.Endpoints.Authorization = null; });

        var unknown = await ConsoleVerbs.RunAsync(App.DataDirectory, "", "tokens", "device", "nope");
        var noEndpoint = await ConsoleVerbs.RunAsync(App.DataDirectory, "", "tokens", "device", "no-device");

        Assert.Equal((1, "There is no token config named 'nope'. Run 'tokens list' for the names.\n"), (unknown.Exit, unknown.Err));
        Assert.Equal(1, noEndpoint.Exit);
        Assert.Contains("No device authorization endpoint is known for 'no-device'", noEndpoint.Err);
    }

    [Fact]
    public async Task Page_StartsTheSignIn_ShowsCodeAndStatus_WithoutTheDeviceCode_AndReloadsWhilePending()
    {
        var source = await SourceAsync(TokenSourceKind.TokenConfig);
        var page = $"/tokens/device/TokenConfig/{source.Id}";
        var details = await Browser.GetStringAsync($"/tokens/details/{source.Id}");
        Assert.Contains($"href=\"{page}\"", details, StringComparison.OrdinalIgnoreCase);
        var before = await Browser.GetStringAsync(page);
        Assert.Contains("Start device sign-in", before);
        Assert.Contains("No device sign-in", before);

        var start = await Browser.PostFormAsync(page + "?handler=Start", [], formPage: page);
        Assert.Equal(HttpStatusCode.Redirect, start.StatusCode);
        var signIn = App.Services.GetRequiredService<DeviceSignIns>().Find(source)!;
        using var pending = await Browser.GetAsync(page);
        var html = await pending.Content.ReadAsStringAsync();
        Assert.Equal("5", pending.Headers.GetValues("Refresh").Single());
        Assert.Contains($"<code id=\"user-code\" class=\"user-code\">{signIn.UserCode}</code>", html);
        Assert.Contains($"href=\"{System.Net.WebUtility.HtmlEncode(signIn.VerificationUri)}\"", html);
        Assert.Contains("data-copy=\"user-code\" hidden", html);
        Assert.Contains("/js/device-sign-in.js", html);
        Assert.Contains("Valid until", html);

        await WaitUntilAsync(() => LastRequestValues("device_code").Count == 1);
        Assert.DoesNotContain(LastRequestValues("device_code").Single(), html);
        Assert.Equal(HttpStatusCode.Redirect, await Idp.AnswerUserCodeAsync(signIn.UserCode, "alice", "alice-password-1", approve: true));
        await signIn.Finished.WaitAsync(Bound);

        using var done = await Browser.GetAsync(page);
        Assert.False(done.Headers.Contains("Refresh"));
        var ended = await done.Content.ReadAsStringAsync();
        Assert.Contains("Signed in", ended);
        Assert.DoesNotContain(signIn.UserCode, ended);
    }

    [Fact]
    public async Task Page_StartRefused_ShowsTheMessage_NothingStarted()
    {
        var id = await CreateConfigAsync("no-device", TokenFlows.DeviceCode, d => { d.Issuer = null; d.Endpoints.Authorization = null; });
        var page = $"/tokens/device/TokenConfig/{id}";

        var start = await Browser.PostFormAsync(page + "?handler=Start", [], formPage: page);
        Assert.Equal(HttpStatusCode.Redirect, start.StatusCode);
        var html = System.Net.WebUtility.HtmlDecode(await Browser.GetStringAsync(start.Headers.Location!.ToString()));

        Assert.Contains("No device authorization endpoint is known for 'no-device'", html);
        Assert.Contains("No device sign-in", html);
        Assert.Equal(HttpStatusCode.NotFound, (await Browser.GetAsync("/tokens/device/Nothing/1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Browser.GetAsync("/tokens/device/FunctionalAccount/999")).StatusCode);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var until = DateTime.UtcNow + Bound;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, "The condition did not come true in time.");
            await Task.Delay(50);
        }
    }
}
