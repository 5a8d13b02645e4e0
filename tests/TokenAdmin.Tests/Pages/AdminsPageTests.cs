using System.Net;
using System.Security.Claims;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Admin;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.Tests.Pages;

public sealed class AdminsPageTests : IAsyncLifetime
{
    private readonly TokenAdminFactory _app = new();
    private HttpClient _alice = null!;

    public async Task InitializeAsync() => _alice = await _app.SignedInBrowserAsync("alice");

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private Task<int> IdOfAsync(string user) =>
        _app.WithDbAsync(db => db.AdminUsers.Where(u => u.UserName == user).Select(u => u.Id).SingleAsync());

    [Fact]
    public async Task Index_ListsAdmins_WithMenuEntry()
    {
        await _app.CreateAdminAsync("bob");

        var page = await _alice.GetStringAsync("/admins");

        Assert.Contains(">Admins</a>", page, StringComparison.Ordinal);
        Assert.Contains("\">alice (you)</td>", page, StringComparison.Ordinal);
        Assert.Contains("bob", page, StringComparison.Ordinal);
        Assert.Contains("Change your password", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Add_WithEveryFieldWrong_ShowsAllErrorsAtOnce_AndKeepsTheUserName()
    {
        var response = await _alice.PostFormAsync("/admins/add", new()
        {
            ["Input.UserName"] = "ALICE",
            ["Input.Password"] = "short",
            ["Input.ConfirmPassword"] = "other",
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("An admin named &#x27;ALICE&#x27; already exists.", html, StringComparison.Ordinal);
        Assert.Contains("Password must be at least 12 characters.", html, StringComparison.Ordinal);
        Assert.Contains("Repeat password must be the same as Password.", html, StringComparison.Ordinal);
        Assert.Contains("id=\"form-errors\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"ALICE\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Add_Empty_ShowsErrors_NotAnErrorPage()
    {
        var response = await _alice.PostFormAsync("/admins/add", []);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("User name must be 1 to 100 characters without spaces.", html, StringComparison.Ordinal);
        Assert.Contains("Password must be at least 12 characters.", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Add_Valid_CreatesAdminWhoCanSignIn()
    {
        var response = await _alice.PostFormAsync("/admins/add", new()
        {
            ["Input.UserName"] = "carol",
            ["Input.Password"] = "a-long-passphrase-for-c",
            ["Input.ConfirmPassword"] = "a-long-passphrase-for-c",
        });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var login = await _app.CreateBrowser().PostFormAsync("/account/login", new() { ["Input.UserName"] = "carol", ["Input.Password"] = "a-long-passphrase-for-c" });
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.Contains(await _app.WithDbAsync(db => db.AuditEntries.Select(e => e.Action + " " + e.Target + " " + e.Actor).ToListAsync()),
            a => a == "admin.created carol admin:alice");
    }

    [Fact]
    public async Task Delete_OfYourself_ShowsWhy_AndTheButtonIsDisabled_AndAPostIsRefused()
    {
        await _app.CreateAdminAsync("bob");
        var self = await IdOfAsync("alice");

        var page = await _alice.GetStringAsync($"/admins/delete/{self}");
        var post = await _alice.PostFormAsync($"/admins/delete/{self}", []);

        Assert.Contains("You are signed in as this admin.", page, StringComparison.Ordinal);
        Assert.Contains("<button type=\"submit\" class=\"btn\" disabled=\"disabled\">Remove</button>", page, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, post.StatusCode);
        Assert.True(await _app.WithDbAsync(db => db.AdminUsers.AnyAsync(u => u.UserName == "alice")));
        Assert.Contains("You are signed in as this admin.", await _alice.GetStringAsync("/admins"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisableAndRemove_OfTheLastEnabledAdmin_AreRefused()
    {
        await _app.CreateAdminAsync("bob");
        await _alice.PostFormAsync($"/admins?handler=Disable&id={await IdOfAsync("bob")}", [], formPage: "/admins");
        Assert.True(await _app.WithDbAsync(db => db.AdminUsers.AnyAsync(u => u.UserName == "bob" && u.Disabled)));
        var alice = await IdOfAsync("alice");
        // Alice is the last enabled local admin now; not even another admin (one signed in with OIDC) may take her away.
        var oidcAdmin = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, "oidc:sub-1"), new Claim(ClaimTypes.Name, "carol"), new Claim(AdminAuthentication.MethodClaim, "oidc")], "test"));

        using var scope = _app.Services.CreateScope();
        var admins = scope.ServiceProvider.GetRequiredService<AdminManagement>();
        var disable = await admins.DisableAsync(alice, oidcAdmin, default);
        var remove = await admins.RemoveAsync(alice, oidcAdmin, default);

        Assert.False(disable.Done);
        Assert.False(remove.Done);
        Assert.Contains("This is the last enabled local admin.", disable.Message, StringComparison.Ordinal);
        Assert.True(await _app.WithDbAsync(db => db.AdminUsers.AnyAsync(u => u.UserName == "alice" && !u.Disabled)));
        Assert.Contains("This is the last enabled local admin.", await _alice.GetStringAsync($"/admins/delete/{alice}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unlock_LiftsTheLockout()
    {
        await _app.CreateAdminAsync("bob");
        await _app.WithDbAsync(db => db.AdminUsers.Where(u => u.UserName == "bob").ExecuteUpdateAsync(s => s.SetProperty(u => u.LockedUntil, DateTime.UtcNow.AddMinutes(10))));
        Assert.Contains("locked until", await _alice.GetStringAsync("/admins"), StringComparison.Ordinal);

        await _alice.PostFormAsync($"/admins?handler=Unlock&id={await IdOfAsync("bob")}", [], formPage: "/admins");

        Assert.Null(await _app.WithDbAsync(db => db.AdminUsers.Where(u => u.UserName == "bob").Select(u => u.LockedUntil).SingleAsync()));
    }

    [Fact]
    public async Task ChangePassword_WithWrongCurrentPassword_AndBadNewOne_ShowsAllErrors_AndChangesNothing()
    {
        var response = await _alice.PostFormAsync("/admins/password", new()
        {
            ["Input.CurrentPassword"] = "not-my-password",
            ["Input.NewPassword"] = "short",
            ["Input.ConfirmPassword"] = "different",
        });

        var html = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Current password is wrong.", html, StringComparison.Ordinal);
        Assert.Contains("New password must be at least 12 characters.", html, StringComparison.Ordinal);
        Assert.Contains("Repeat new password must be the same as New password.", html, StringComparison.Ordinal);
        Assert.DoesNotContain("not-my-password", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await _alice.GetAsync("/settings")).StatusCode);
        Assert.Contains(await _app.WithDbAsync(db => db.AuditEntries.Select(e => e.Action).ToListAsync()), a => a == "admin.password-change-failed");
    }
}
