using Microsoft.AspNetCore.DataProtection.KeyManagement;

namespace TokenAdmin.Secrets;

/// <summary>
/// Run at start, before anything else touches a secret: makes sure the key ring exists and that this node can
/// read it. A node with the wrong master key must stop with a clear message, not start and create a new key
/// that no other node (and no backup) can read.
/// </summary>
public static class KeyRingCheck
{
    public static void EnsureReadable(IServiceProvider services)
    {
        var keys = services.GetRequiredService<IKeyManager>().GetAllKeys();
        foreach (var key in keys)
        {
            try
            {
                _ = key.Descriptor;
            }
            catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or FormatException or InvalidOperationException)
            {
                var masterKey = services.GetRequiredService<MasterKey>();
                throw new InvalidOperationException(
                    $"The stored key ring cannot be decrypted with master key {masterKey.Id} ({masterKey.Source}): {ex.Message}", ex);
            }
        }

        // Note: creating the first key here, outside any transaction, keeps a first import or save from creating it
        // on a second connection while its own transaction holds the SQLite write lock.
        services.GetRequiredService<ISecretProtector>().Protect("key ring check");
    }
}
