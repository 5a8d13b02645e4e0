using System.Security.Cryptography;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;

namespace TokenAdmin.Secrets;

/// <summary>Encrypts each Data Protection key with the master key (AES-256-GCM) before it is stored.</summary>
internal sealed class MasterKeyXmlEncryptor(MasterKey masterKey) : IXmlEncryptor
{
    private const int NonceSize = 12;
    private const int TagSize = 16;

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var plaintext = System.Text.Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var output = new byte[NonceSize + TagSize + plaintext.Length];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using (var aes = new AesGcm(masterKey.Key, TagSize))
        {
            aes.Encrypt(nonce, plaintext, output.AsSpan(NonceSize + TagSize), output.AsSpan(NonceSize, TagSize));
        }

        CryptographicOperations.ZeroMemory(plaintext);
        var element = new XElement("encryptedKey",
            new XAttribute("masterKeyId", masterKey.Id),
            new XElement("value", Convert.ToBase64String(output)));
        return new EncryptedXmlInfo(element, typeof(MasterKeyXmlDecryptor));
    }
}

/// <summary>Created by Data Protection through its service provider when it reads the key ring.</summary>
internal sealed class MasterKeyXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    private const int NonceSize = 12;
    private const int TagSize = 16;

    public XElement Decrypt(XElement encryptedElement)
    {
        var masterKey = (MasterKey?)services.GetService(typeof(MasterKey))
            ?? throw new InvalidOperationException("No master key is registered.");
        var keyId = (string?)encryptedElement.Attribute("masterKeyId");
        if (keyId != masterKey.Id)
        {
            throw new CryptographicException(
                $"The key ring was encrypted with master key {keyId}, but this node has master key {masterKey.Id} ({masterKey.Source}). " +
                "Restore the master key file from the backup of this database, or set TokenAdmin:MasterKey to it.");
        }

        var data = Convert.FromBase64String((string?)encryptedElement.Element("value") ?? "");
        var plaintext = new byte[data.Length - NonceSize - TagSize];
        using (var aes = new AesGcm(masterKey.Key, TagSize))
        {
            aes.Decrypt(data.AsSpan(0, NonceSize), data.AsSpan(NonceSize + TagSize), data.AsSpan(NonceSize, TagSize), plaintext);
        }

        return XElement.Parse(System.Text.Encoding.UTF8.GetString(plaintext));
    }
}
