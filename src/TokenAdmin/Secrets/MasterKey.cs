using System.Security.Cryptography;
using System.Text;

namespace TokenAdmin.Secrets;

/// <summary>
/// The key-encryption key for the Data Protection key ring. It lives outside the database (a file in the data
/// directory, or configuration), so a copy of the database alone reveals no secret.
/// </summary>
public sealed class MasterKey
{
    private MasterKey(byte[] key, string source)
    {
        Key = key;
        Source = source;
        Id = Convert.ToHexStringLower(SHA256.HashData(key))[..12];
    }

    internal byte[] Key { get; }

    /// <summary>A short fingerprint that names the key without revealing it.</summary>
    public string Id { get; }

    public string Source { get; }

    /// <summary>From configuration when set (several nodes share one), else from the file, created on first start.</summary>
    /// <param name="mayCreate">
    /// False on a shared database (PostgreSQL): a node that made up a master key of its own would encrypt a key ring the
    /// other nodes cannot read, so the key must be given (the same on every node) instead.
    /// </param>
    public static MasterKey Load(string? configuredBase64, string filePath, bool mayCreate = true)
    {
        if (!string.IsNullOrWhiteSpace(configuredBase64))
        {
            return new MasterKey(Decode(configuredBase64.Trim(), "the setting TokenAdmin:MasterKey"), "configuration");
        }

        if (File.Exists(filePath))
        {
            return new MasterKey(Decode(File.ReadAllText(filePath, Encoding.ASCII).Trim(), filePath), filePath);
        }

        if (!mayCreate)
        {
            throw new InvalidOperationException(
                "TokenAdmin uses a shared database (PostgreSQL), so every node needs the same master key, and none is set. " +
                $"Set TokenAdmin:MasterKey (32 random bytes in base64, e.g. from `openssl rand -base64 32`) or put the same key in {filePath} on every node.");
        }

        var key = RandomNumberGenerator.GetBytes(32);
        Directory.CreateDirectory(Path.GetDirectoryName(filePath)!);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(filePath, options))
        using (var writer = new StreamWriter(stream, Encoding.ASCII))
        {
            writer.WriteLine(Convert.ToBase64String(key));
        }

        return new MasterKey(key, filePath);
    }

    private static byte[] Decode(string base64, string where)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"The master key in {where} is not valid base64.");
        }

        return key.Length == 32
            ? key
            : throw new InvalidOperationException($"The master key in {where} must be 32 bytes (44 base64 characters), not {key.Length}.");
    }
}
