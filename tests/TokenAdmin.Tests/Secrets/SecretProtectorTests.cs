using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Admin;
using TokenAdmin.Secrets;
using TokenAdmin.Settings;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.Tests.Secrets;

public sealed class SecretProtectorTests : IAsyncLifetime
{
    private readonly TokenAdminFactory _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task SavedSecret_IsNotInTheDatabaseFile_ButReadsBack()
    {
        const string secret = "s3cr3t-client-value-that-must-not-leak";
        var store = _app.Services.GetRequiredService<SettingsStore>();

        var result = await store.UpdateAsync(new Dictionary<string, string?> { [AdminOidcSettings.ClientSecret] = secret }, "test", default);
        store.Invalidate();

        Assert.True(result.Succeeded);
        Assert.Equal(secret, (await store.GetAsync()).GetSecret(AdminOidcSettings.ClientSecret));
        var raw = await DatabaseFiles.RawTextAsync(_app.DataDirectory);
        Assert.Contains(AdminOidcSettings.ClientSecret, raw, StringComparison.Ordinal); // the row is there...
        Assert.DoesNotContain(secret, raw, StringComparison.Ordinal);                      // ...its value is not
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(secret)), raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyRing_IsStoredInTheDatabase_EncryptedWithTheMasterKey()
    {
        _app.Services.GetRequiredService<ISecretProtector>().Protect("create the key ring");

        var keys = await _app.WithDbAsync(db => db.DataProtectionKeys.Select(k => k.Xml).ToListAsync());

        var xml = Assert.Single(keys);
        Assert.Contains("encryptedKey", xml, StringComparison.Ordinal);
        Assert.DoesNotContain("<masterKey", xml, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Secret_FromAnotherInstallation_CannotBeRead()
    {
        var ciphertext = _app.Services.GetRequiredService<ISecretProtector>().Protect("belongs to the first installation");
        await using var other = new TokenAdminFactory();

        var error = Assert.Throws<SecretUnreadableException>(() => other.Services.GetRequiredService<ISecretProtector>().Unprotect(ciphertext));

        Assert.Contains("Enter the secret again", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Secrets_SurviveARestart_WithTheSameMasterKey()
    {
        var ciphertext = _app.Services.GetRequiredService<ISecretProtector>().Protect("kept across restarts");
        var directory = _app.DataDirectory;
        await using var restarted = new TokenAdminFactory();
        restarted.Settings["TokenAdmin:DataDirectory"] = directory;

        Assert.Equal("kept across restarts", restarted.Services.GetRequiredService<ISecretProtector>().Unprotect(ciphertext));
    }

    [Fact]
    public void MasterKey_WithWrongLength_GivesClearError()
    {
        var error = Assert.Throws<InvalidOperationException>(() => MasterKey.Load(Convert.ToBase64String(new byte[16]), "unused"));

        Assert.Contains("must be 32 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void MasterKeyFile_IsReadableOnlyByItsOwner()
    {
        var path = Path.Combine(_app.DataDirectory, "unit", "master.key");

        var key = MasterKey.Load(null, path);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(key.Id, MasterKey.Load(null, path).Id);
    }

    [Fact]
    public async Task Start_WithAnotherMasterKey_StopsWithClearMessage_InsteadOfMakingANewKeyRing()
    {
        _app.Services.GetRequiredService<ISecretProtector>().Protect("create the key ring");
        await using var wrongKey = new TokenAdminFactory();
        wrongKey.Settings["TokenAdmin:DataDirectory"] = _app.DataDirectory;
        wrongKey.Settings["TokenAdmin:MasterKey"] = Convert.ToBase64String(new byte[32]);

        var error = Assert.ThrowsAny<Exception>(() => wrongKey.Services);

        Assert.Contains("The stored key ring cannot be decrypted with master key", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, await _app.WithDbAsync(db => db.DataProtectionKeys.CountAsync()));
    }
}
