using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Admin;
using TokenAdmin.Secrets;
using TokenAdmin.Settings;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.Tests.Secrets;

/// <summary>
/// Two nodes on one database (one SQLite file, or one PostgreSQL database in the PostgreSQL pass) with the same master
/// key share one key ring: a secret saved through one node reads back through the other.
/// </summary>
public sealed class SharedKeyRingTests : IAsyncLifetime
{
    private readonly TokenAdminFactory _nodeA = new();
    private readonly TokenAdminFactory _nodeB = new();

    public Task InitializeAsync()
    {
        _nodeB.Settings["TokenAdmin:DataDirectory"] = _nodeA.DataDirectory;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _nodeB.DisposeAsync();
        await _nodeA.DisposeAsync();
    }

    [Fact]
    public async Task SecretSavedOnOneNode_IsReadOnTheOther()
    {
        const string secret = "client-secret-saved-on-node-a";
        // Both nodes are up (and have read the key ring) before anything is saved.
        var storeA = _nodeA.Services.GetRequiredService<SettingsStore>();
        var storeB = _nodeB.Services.GetRequiredService<SettingsStore>();
        _ = await storeB.GetAsync();

        var saved = await storeA.UpdateAsync(new Dictionary<string, string?> { [AdminOidcSettings.ClientSecret] = secret }, "test", default);
        storeB.Invalidate();

        Assert.True(saved.Succeeded);
        Assert.Equal(secret, (await storeB.GetAsync()).GetSecret(AdminOidcSettings.ClientSecret));
        Assert.DoesNotContain(secret, await DatabaseFiles.RawTextAsync(_nodeA.DataDirectory), StringComparison.Ordinal);
    }

    [Fact]
    public void ValueProtectedOnOneNode_IsUnprotectedOnTheOther_AndBack()
    {
        var protectorA = _nodeA.Services.GetRequiredService<ISecretProtector>();
        var protectorB = _nodeB.Services.GetRequiredService<ISecretProtector>();

        Assert.Equal("from-a", protectorB.Unprotect(protectorA.Protect("from-a")));
        Assert.Equal("from-b", protectorA.Unprotect(protectorB.Protect("from-b")));
    }
}
