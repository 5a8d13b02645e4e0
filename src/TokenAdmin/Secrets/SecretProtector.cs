using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace TokenAdmin.Secrets;

/// <summary>
/// The one way a secret (client secret, password, access/refresh/id token) goes into the database and back.
/// Backed by ASP.NET Core Data Protection; the key ring lives in the database, itself encrypted with the master key.
/// </summary>
public interface ISecretProtector
{
    string Protect(string plaintext);

    /// <exception cref="SecretUnreadableException">the value was not made by this installation's key ring</exception>
    string Unprotect(string protectedValue);
}

public sealed class SecretUnreadableException(string message, Exception? inner = null) : Exception(message, inner);

internal sealed class SecretProtector(IDataProtectionProvider provider) : ISecretProtector
{
    // Note: the purpose string versions the format; changing it makes every stored secret unreadable.
    private readonly IDataProtector _protector = provider.CreateProtector("TokenAdmin.Secrets.v1");

    public string Protect(string plaintext)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        return _protector.Protect(plaintext);
    }

    public string Unprotect(string protectedValue)
    {
        try
        {
            return _protector.Unprotect(protectedValue);
        }
        catch (CryptographicException ex)
        {
            throw new SecretUnreadableException(
                "A stored secret cannot be decrypted: it was written with another key ring or master key. Enter the secret again.", ex);
        }
    }
}
