using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.Tests.Security;

/// <summary>
/// Issue 17, item 4: the sign-in form is no oracle for admin names (locked, unknown and wrong password answer alike,
/// in comparable time), and nobody can keep the real admin out: failures slow down the account and the client
/// address with growing delays instead of a hard lock, an address the admin signed in from before is not slowed by
/// others' failures, and a forwarded address forged from the proxy host does not buy fresh per-client attempts.
/// </summary>
public sealed partial class SignInAbuseTests : IAsyncLifetime
{
    private const string Attacker = "198.51.100.66";
    private const string AdminsDesk = "192.0.2.10";
    private const string Elsewhere = "192.0.2.99";

    private readonly PeerAddressFactory _app = new();

    public Task InitializeAsync() => _app.CreateAdminAsync("alice");

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static Dictionary<string, string> Credentials(string user, string password) =>
        new() { ["Input.UserName"] = user, ["Input.Password"] = password };

    private static async Task<string> AnswerAsync(HttpResponseMessage response)
    {
        var html = await response.Content.ReadAsStringAsync();
        var error = ErrorRegex().Match(html);
        return $"{(int)response.StatusCode} {(error.Success ? error.Groups[1].Value : "(no error shown)")}";
    }

    [Fact]
    public async Task SignIn_LockedUnknownAndWrongPassword_AnswerAlike()
    {
        var attacker = _app.BrowserFrom(Attacker);
        for (var i = 0; i < 8; i++)
        {
            await attacker.PostFormAsync("/account/login", Credentials("alice", "wrong-password-" + i));
        }

        // From fresh addresses, so only the account's own state can make a difference.
        var slowedAccount = await AnswerAsync(await _app.BrowserFrom("203.0.113.1").PostFormAsync("/account/login", Credentials("alice", "wrong-password")));
        var slowedRightPassword = await AnswerAsync(await _app.BrowserFrom("203.0.113.2").PostFormAsync("/account/login", Credentials("alice", TokenAdminFactory.AdminPassword)));
        var unknown = await AnswerAsync(await _app.BrowserFrom("203.0.113.3").PostFormAsync("/account/login", Credentials("nobody", "wrong-password")));
        var wrong = await AnswerAsync(await _app.BrowserFrom("203.0.113.4").PostFormAsync("/account/login", Credentials("bob", TokenAdminFactory.AdminPassword)));

        Assert.Equal(unknown, slowedAccount);
        Assert.Equal(unknown, slowedRightPassword);
        Assert.Equal(unknown, wrong);
        Assert.StartsWith("200 ", unknown, StringComparison.Ordinal);
        Assert.DoesNotContain("locked", unknown, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task SignIn_SlowedAccount_TakesAsLongAsAnUnknownOne()
    {
        var attacker = _app.BrowserFrom(Attacker);
        for (var i = 0; i < 8; i++)
        {
            await attacker.PostFormAsync("/account/login", Credentials("alice", "wrong-password-" + i));
        }

        // Note: generous on purpose (a shared build machine); the old code answered a locked account in ~5% of the
        // time of an unknown one, because it skipped the password hash.
        var slowed = new List<double>();
        var unknown = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            slowed.Add(await TimeAsync(_app.BrowserFrom($"203.0.113.{10 + i}"), "alice"));
            unknown.Add(await TimeAsync(_app.BrowserFrom($"203.0.113.{20 + i}"), "nobody-" + i));
        }

        var slowedMedian = slowed.Order().ElementAt(2);
        var unknownMedian = unknown.Order().ElementAt(2);
        Assert.True(slowedMedian >= unknownMedian * 0.3, $"slowed account {slowedMedian:F1} ms, unknown name {unknownMedian:F1} ms");
    }

    private static async Task<double> TimeAsync(HttpClient browser, string user)
    {
        var page = await browser.GetStringAsync("/account/login");
        var fields = new Dictionary<string, string>(Credentials(user, "wrong-password")) { ["__RequestVerificationToken"] = HttpClientForms.AntiforgeryToken(page) };
        var clock = Stopwatch.StartNew();
        using var response = await browser.PostAsync("/account/login", new FormUrlEncodedContent(fields));
        return clock.Elapsed.TotalMilliseconds;
    }

    [Fact]
    public async Task SignIn_RealAdmin_FromAKnownAddress_SignsIn_WhileSomeoneKeepsFailingOnTheAccount()
    {
        var desk = _app.BrowserFrom(AdminsDesk);
        Assert.Equal(HttpStatusCode.Redirect, (await desk.PostFormAsync("/account/login", Credentials("alice", TokenAdminFactory.AdminPassword))).StatusCode);
        var attacker = _app.BrowserFrom(Attacker);
        for (var i = 0; i < 12; i++)
        {
            await attacker.PostFormAsync("/account/login", Credentials("alice", "wrong-password-" + i));
        }

        // Note: before the admin signs in again, which ends the account's run of failures.
        var fromElsewhere = await _app.BrowserFrom(Elsewhere).PostFormAsync("/account/login", Credentials("alice", TokenAdminFactory.AdminPassword));
        var fromDesk = await _app.BrowserFrom(AdminsDesk).PostFormAsync("/account/login", Credentials("alice", TokenAdminFactory.AdminPassword));
        var attackerWithRightPassword = await attacker.PostFormAsync("/account/login", Credentials("alice", TokenAdminFactory.AdminPassword));

        Assert.Equal(HttpStatusCode.Redirect, fromDesk.StatusCode);
        // The account is slowed for addresses it never signed in from, and the attacker's own address is slowed too.
        Assert.Equal(HttpStatusCode.OK, fromElsewhere.StatusCode);
        Assert.Equal(HttpStatusCode.OK, attackerWithRightPassword.StatusCode);
    }

    [Fact]
    public async Task SignIn_ClientAddressIsSlowed_ForEveryAccountItTries()
    {
        await _app.CreateAdminAsync("bob");
        var attacker = _app.BrowserFrom(Attacker);
        for (var i = 0; i < 12; i++)
        {
            await attacker.PostFormAsync("/account/login", Credentials("user" + i, "wrong-password"));
        }

        // bob's account has no failures, but the address that made them is slowed.
        var bob = await attacker.PostFormAsync("/account/login", Credentials("bob", TokenAdminFactory.AdminPassword));
        var bobElsewhere = await _app.BrowserFrom(Elsewhere).PostFormAsync("/account/login", Credentials("bob", TokenAdminFactory.AdminPassword));

        Assert.Equal(HttpStatusCode.OK, bob.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, bobElsewhere.StatusCode);
    }

    [GeneratedRegex("<p class=\"flash-error\" role=\"alert\">([^<]*)</p>")]
    private static partial Regex ErrorRegex();
}

/// <summary>Issue 17, item 4: a process on the proxy host cannot forge X-Forwarded-For to get fresh per-client attempts.</summary>
public sealed class ForwardedAddressTests : IAsyncLifetime
{
    private readonly PeerAddressFactory _app = new();

    public Task InitializeAsync()
    {
        _app.Settings["TokenAdmin:SignIn:PostsPerMinute"] = "3";
        return _app.CreateAdminAsync("alice");
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task SignIn_ForgedForwardedAddresses_FromTheProxyHost_AreLimitedTogether()
    {
        var fromProxyHost = _app.BrowserFrom("127.0.0.1");
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 40; i++)
        {
            var page = await fromProxyHost.GetStringAsync("/account/login");
            using var post = new HttpRequestMessage(HttpMethod.Post, "/account/login")
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["Input.UserName"] = "alice",
                    ["Input.Password"] = "wrong-password",
                    ["__RequestVerificationToken"] = HttpClientForms.AntiforgeryToken(page),
                }),
            };
            post.Headers.Add("X-Forwarded-For", $"203.0.113.{i + 1}");
            answers.Add((await fromProxyHost.SendAsync(post)).StatusCode);
        }

        // Each forged address has its own 3 a minute, but all of them together stay under the proxy's share.
        Assert.Contains(HttpStatusCode.TooManyRequests, answers);
        Assert.True(answers.Count(a => a != HttpStatusCode.TooManyRequests) <= 30, string.Join(", ", answers));
    }

    [Fact]
    public async Task SignIn_ThroughTheProxy_EachClientHasItsOwnLimit()
    {
        var answers = new List<HttpStatusCode>();
        foreach (var client in new[] { "203.0.113.1", "203.0.113.2" })
        {
            var browser = _app.BrowserFrom("127.0.0.1");
            browser.DefaultRequestHeaders.Add("X-Forwarded-For", client);
            for (var i = 0; i < 3; i++)
            {
                answers.Add((await browser.PostFormAsync("/account/login", new() { ["Input.UserName"] = "alice", ["Input.Password"] = "wrong-password" })).StatusCode);
            }
        }

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a));
    }
}
