using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Admin;
using TokenAdmin.Data;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.Tests.Pages;

public sealed class AuditPageTests : IAsyncLifetime
{
    private readonly TokenAdminFactory _app = new();
    private HttpClient _browser = null!;

    public async Task InitializeAsync()
    {
        _browser = await _app.SignedInBrowserAsync();
        using var scope = _app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenAdminDb>();
        for (var i = 1; i <= 120; i++)
        {
            AuditLog.Add(db, TimeProvider.System, i % 2 == 0 ? "admin:bob" : "console", "test.event", $"item-{i:000}");
        }

        await db.SaveChangesAsync();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task AuditPage_ShowsNewestFirst_InPagesOfFifty()
    {
        var first = await _browser.GetStringAsync("/audit");
        var third = await _browser.GetStringAsync("/audit?p=3");

        Assert.Contains("item-120", first, StringComparison.Ordinal);
        Assert.DoesNotContain("item-070", first, StringComparison.Ordinal);
        Assert.Contains("page 1 of 3", first, StringComparison.Ordinal);
        Assert.Contains("item-001", third, StringComparison.Ordinal);
        Assert.Contains("Newer", third, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditPage_Filter_MatchesAnyColumn_IgnoringCase()
    {
        var html = await _browser.GetStringAsync("/audit?filter=ADMIN%3ABOB");

        Assert.Contains("item-120", html, StringComparison.Ordinal);
        Assert.DoesNotContain("item-119", html, StringComparison.Ordinal);
        Assert.Contains("60 entries match", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditPage_RecordsSignIn()
    {
        var html = await _browser.GetStringAsync("/audit?filter=signed-in");

        Assert.Contains("admin.signed-in", html, StringComparison.Ordinal);
        Assert.Contains("admin:alice", html, StringComparison.Ordinal);
    }
}
