using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.Tests.Admin;

/// <summary>
/// A copy of the sign-in cookie, taken before the session ended, is presented again (as a thief who copied it would)
/// and must be refused: after logout, after a password change, after removal or disabling, after the absolute
/// lifetime, and on another node.
/// </summary>
public sealed class AdminSessionTests : IAsyncLifetime
{
    private readonly TokenAdminFactory _app = new();

    public async Task InitializeAsync()
    {
        await _app.CreateAdminAsync("alice");
        await _app.CreateAdminAsync("bob");
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    /// <summary>Signs in with a fresh browser; returns it and a copy of its sign-in cookie.</summary>
    private static async Task<(HttpClient Browser, string Cookie)> SignInAsync(TokenAdminFactory app, string user, string password = TokenAdminFactory.AdminPassword)
    {
        var browser = app.CreateBrowser();
        var response = await browser.PostFormAsync("/account/login", new() { ["Input.UserName"] = user, ["Input.Password"] = password });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var cookie = string.Join("; ", response.Headers.GetValues("Set-Cookie")
            .Where(c => c.StartsWith("tokenadmin.auth", StringComparison.Ordinal))
            .Select(c => c[..c.IndexOf(';', StringComparison.Ordinal)]));
        Assert.NotEmpty(cookie);
        return (browser, cookie);
    }

    private static HttpClient Replay(TokenAdminFactory app, string cookie)
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        client.DefaultRequestHeaders.Add("Cookie", cookie);
        return client;
    }

    private static async Task AssertRefusedAsync(HttpClient replay)
    {
        foreach (var page in new[] { "/settings", "/tokens/export" })
        {
            var response = await replay.GetAsync(page);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.Contains("/account/login", response.Headers.Location!.ToString(), StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task ReplayedCookie_AfterLogout_IsRefused()
    {
        var (browser, cookie) = await SignInAsync(_app, "alice");
        using var replay = Replay(_app, cookie);
        Assert.Equal(HttpStatusCode.OK, (await replay.GetAsync("/tokens/export")).StatusCode);

        var logout = await browser.PostFormAsync("/account/logout", [], formPage: "/");

        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        await AssertRefusedAsync(replay);
    }

    [Fact]
    public async Task Logout_EndsOnlyThatSession()
    {
        var (first, _) = await SignInAsync(_app, "alice");
        var (_, otherCookie) = await SignInAsync(_app, "alice");

        await first.PostFormAsync("/account/logout", [], formPage: "/");

        using var other = Replay(_app, otherCookie);
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/settings")).StatusCode);
    }

    [Fact]
    public async Task ReplayedCookie_AfterPasswordChange_IsRefused_WhileTheChangingBrowserStaysIn()
    {
        var (browser, cookie) = await SignInAsync(_app, "alice");
        var (_, otherDevice) = await SignInAsync(_app, "alice");

        var change = await browser.PostFormAsync("/admins/password", new()
        {
            ["Input.CurrentPassword"] = TokenAdminFactory.AdminPassword,
            ["Input.NewPassword"] = "a-brand-new-passphrase",
            ["Input.ConfirmPassword"] = "a-brand-new-passphrase",
        });

        Assert.Equal(HttpStatusCode.Redirect, change.StatusCode);
        await AssertRefusedAsync(Replay(_app, cookie));
        await AssertRefusedAsync(Replay(_app, otherDevice));
        Assert.Contains("Your password was changed", await browser.GetStringAsync("/admins"), StringComparison.Ordinal);
        await SignInAsync(_app, "alice", "a-brand-new-passphrase");
    }

    [Fact]
    public async Task ReplayedCookie_AfterRemoval_IsRefused()
    {
        var (_, aliceCookie) = await SignInAsync(_app, "alice");
        var (bob, _) = await SignInAsync(_app, "bob");
        var aliceId = await _app.WithDbAsync(db => db.AdminUsers.Where(u => u.UserName == "alice").Select(u => u.Id).SingleAsync());

        var removal = await bob.PostFormAsync($"/admins/delete/{aliceId}", []);

        Assert.Equal(HttpStatusCode.Redirect, removal.StatusCode);
        await AssertRefusedAsync(Replay(_app, aliceCookie));
        Assert.False(await _app.WithDbAsync(db => db.AdminUsers.AnyAsync(u => u.UserName == "alice")));
    }

    [Fact]
    public async Task ReplayedCookie_AfterDisabling_IsRefused_AndTheAdminCannotSignIn_UntilEnabled()
    {
        var (_, aliceCookie) = await SignInAsync(_app, "alice");
        var (bob, _) = await SignInAsync(_app, "bob");
        var aliceId = await _app.WithDbAsync(db => db.AdminUsers.Where(u => u.UserName == "alice").Select(u => u.Id).SingleAsync());

        await bob.PostFormAsync($"/admins?handler=Disable&id={aliceId}", [], formPage: "/admins");

        await AssertRefusedAsync(Replay(_app, aliceCookie));
        var refused = await _app.CreateBrowser().PostFormAsync("/account/login", new() { ["Input.UserName"] = "alice", ["Input.Password"] = TokenAdminFactory.AdminPassword });
        Assert.Contains("Wrong user name or password.", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await bob.PostFormAsync($"/admins?handler=Enable&id={aliceId}", [], formPage: "/admins");
        await SignInAsync(_app, "alice");
    }

    [Fact]
    public async Task Session_EndsAtItsAbsoluteLifetime_EvenWhenUsed()
    {
        var (browser, _) = await SignInAsync(_app, "alice");
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/settings")).StatusCode);

        await _app.WithDbAsync(db => db.AdminSessions.ExecuteUpdateAsync(s => s.SetProperty(x => x.ExpiresAt, DateTime.UtcNow.AddSeconds(-1))));

        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/settings")).StatusCode);
    }

    [Fact]
    public async Task ReplayedCookie_AfterLogoutOnOneNode_IsRefusedOnTheOther()
    {
        await using var nodeB = new TokenAdminFactory();
        nodeB.Settings["TokenAdmin:DataDirectory"] = _app.DataDirectory;
        var (browser, cookie) = await SignInAsync(_app, "alice");
        using var atB = Replay(nodeB, cookie);
        Assert.Equal(HttpStatusCode.OK, (await atB.GetAsync("/settings")).StatusCode);

        await browser.PostFormAsync("/account/logout", [], formPage: "/");

        await AssertRefusedAsync(atB);
    }

    [Fact]
    public async Task FailedSignIns_AreAudited()
    {
        var browser = _app.CreateBrowser();
        await browser.PostFormAsync("/account/login", new() { ["Input.UserName"] = "alice", ["Input.Password"] = "wrong-password" });
        await browser.PostFormAsync("/account/login", new() { ["Input.UserName"] = "nobody", ["Input.Password"] = "wrong-password" });

        var entries = await _app.WithDbAsync(db => db.AuditEntries.Where(e => e.Action == "admin.sign-in-failed").OrderBy(e => e.Id).ToListAsync());

        Assert.Collection(entries,
            e => Assert.Equal(("alice", "local password: wrong password"), (e.Target, e.Details)),
            e => Assert.Equal(("nobody", "local password: no such admin"), (e.Target, e.Details)));
        Assert.DoesNotContain(entries, e => e.Details.Contains("wrong-password", StringComparison.Ordinal));
    }
}
