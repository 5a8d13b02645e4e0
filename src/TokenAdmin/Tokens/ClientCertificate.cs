using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.WebUtilities;

namespace TokenAdmin.Tokens;

/// <summary>
/// The client certificate of a token source (a token config or a functional account), with its private key: it signs
/// client assertions (private_key_jwt, RFC 7523) and is presented in mutual TLS (tls_client_auth, RFC 8705). Stored
/// encrypted (certificate and PKCS#8 key as PEM); the facts an admin pastes into the provider are kept beside it in clear.
/// </summary>
/// <remarks>An EF Core complex type: the same columns on both kinds of source.</remarks>
public sealed class ClientCertificate
{
    /// <summary>Certificate and private key as PEM, encrypted with the secret protector; null = none uploaded.</summary>
    public string? Protected { get; set; }

    /// <summary>SHA-1 thumbprint, upper-case hex: what Microsoft Entra shows for an uploaded certificate.</summary>
    public string? Thumbprint { get; set; }

    /// <summary>SHA-256 thumbprint, base64url: the x5t#S256 header of client assertions, and their kid.</summary>
    public string? KeyId { get; set; }

    public string? Subject { get; set; }

    public DateTime? NotAfter { get; set; }

    /// <summary>"RSA 2048" or "EC P-256".</summary>
    public string? KeyType { get; set; }

    public bool Present => Protected is not null;

    public void Clear()
    {
        Protected = Thumbprint = KeyId = Subject = KeyType = null;
        NotAfter = null;
    }

    public void CopyFrom(ClientCertificate other)
    {
        Protected = other.Protected;
        Thumbprint = other.Thumbprint;
        KeyId = other.KeyId;
        Subject = other.Subject;
        NotAfter = other.NotAfter;
        KeyType = other.KeyType;
    }
}

/// <summary>The columns of <see cref="ClientCertificate"/>, the same on every entity that holds one.</summary>
public static class ClientCertificateColumns
{
    public static void Configure(Microsoft.EntityFrameworkCore.Metadata.Builders.ComplexPropertyBuilder<ClientCertificate> certificate)
    {
        certificate.Property(c => c.Thumbprint).HasMaxLength(40);
        certificate.Property(c => c.KeyId).HasMaxLength(43);
        certificate.Property(c => c.Subject).HasMaxLength(1000);
        certificate.Property(c => c.KeyType).HasMaxLength(20);
    }
}

/// <summary>A certificate file as an admin uploaded it: PEM (certificate + private key) or PKCS#12 (.pfx, .p12), with its password.</summary>
public sealed record ClientCertificateUpload(byte[] Content, string? Password);

/// <summary>Reads uploaded client certificates and loads stored ones.</summary>
public static class ClientCertificates
{
    /// <summary>The largest certificate file read: a certificate, its key and a chain fit in a few kilobytes.</summary>
    public const int MaxFileBytes = 64 * 1024;

    /// <summary>
    /// Reads an upload strictly: a certificate with its own private key (RSA of at least 2048 bits, or EC P-256), valid
    /// now. Every problem is a sentence for the admin; nothing is returned then.
    /// </summary>
    public static (ClientCertificate? Certificate, string? Error) Read(ClientCertificateUpload upload, TokenAdmin.Secrets.ISecretProtector protector, DateTime now)
    {
        if (upload.Content.Length == 0)
        {
            return (null, "The certificate file is empty.");
        }

        if (upload.Content.Length > MaxFileBytes)
        {
            return (null, $"The certificate file is larger than {MaxFileBytes / 1024} KiB; upload the certificate and its key only.");
        }

        X509Certificate2 certificate;
        try
        {
            certificate = LoadUpload(upload);
        }
        catch (UploadException ex)
        {
            return (null, ex.Message);
        }

        using (certificate)
        {
            if (!certificate.HasPrivateKey)
            {
                return (null, "The file holds the certificate but not its private key: upload the certificate together with its key (PEM with both blocks, or a PFX exported with the private key).");
            }

            var keyType = KeyType(certificate);
            if (keyType is null)
            {
                return (null, "The certificate's key is neither RSA (2048 bits or more) nor EC P-256: client assertions are signed with RS256/PS256 or ES256 only.");
            }

            if (certificate.NotAfter.ToUniversalTime() <= now)
            {
                return (null, $"The certificate expired on {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC: the provider would refuse it. Create a new one and upload it.");
            }

            if (certificate.NotBefore.ToUniversalTime() > now + TimeSpan.FromMinutes(5))
            {
                return (null, $"The certificate is not valid before {certificate.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm} UTC.");
            }

            var pem = certificate.ExportCertificatePem() + "\n" + ExportKeyPem(certificate);
            return (new ClientCertificate
            {
                Protected = protector.Protect(pem),
                Thumbprint = certificate.Thumbprint.ToUpperInvariant(),
                KeyId = WebEncoders.Base64UrlEncode(certificate.GetCertHash(HashAlgorithmName.SHA256)),
                Subject = certificate.Subject,
                NotAfter = certificate.NotAfter.ToUniversalTime(),
                KeyType = keyType,
            }, null);
        }
    }

    /// <summary>The stored certificate with its private key; the caller disposes it.</summary>
    /// <exception cref="TokenAdmin.Secrets.SecretUnreadableException">it was stored with another master key</exception>
    public static X509Certificate2 Load(string protectedPem, Func<string, string> unprotect)
    {
        var pem = unprotect(protectedPem);
        return X509Certificate2.CreateFromPem(pem, pem);
    }

    /// <summary>Days until the certificate expires, rounded down; negative when it has.</summary>
    public static int DaysLeft(DateTime notAfter, DateTime now) => (int)Math.Floor((notAfter - now).TotalDays);

    private static X509Certificate2 LoadUpload(ClientCertificateUpload upload)
    {
        var isPem = upload.Content.AsSpan().IndexOf("-----BEGIN"u8) >= 0;
        if (!isPem)
        {
            try
            {
                return X509CertificateLoader.LoadPkcs12(upload.Content, upload.Password, X509KeyStorageFlags.Exportable | X509KeyStorageFlags.EphemeralKeySet);
            }
            catch (CryptographicException ex) when (IsPasswordProblem(ex))
            {
                throw new UploadException(string.IsNullOrEmpty(upload.Password)
                    ? "The PFX file is protected by a password: enter it in the certificate password field."
                    : "The PFX password is wrong.");
            }
            catch (CryptographicException)
            {
                throw new UploadException("The file is neither a PEM certificate with its key nor a PFX (PKCS#12) file.");
            }
        }

        var text = System.Text.Encoding.UTF8.GetString(upload.Content);
        if (!text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
        {
            throw new UploadException("The PEM file holds no certificate (-----BEGIN CERTIFICATE-----): put the certificate and its private key into one file.");
        }

        if (!text.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            throw new UploadException("The PEM file holds the certificate but not its private key: add the key (-----BEGIN PRIVATE KEY-----) to the file.");
        }

        var encrypted = text.Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal);
        if (encrypted && string.IsNullOrEmpty(upload.Password))
        {
            throw new UploadException("The private key is encrypted: enter its password in the certificate password field.");
        }

        try
        {
            return encrypted ? X509Certificate2.CreateFromEncryptedPem(text, text, upload.Password) : X509Certificate2.CreateFromPem(text, text);
        }
        catch (CryptographicException ex) when (encrypted && IsPasswordProblem(ex))
        {
            throw new UploadException("The password of the private key is wrong.");
        }
        catch (CryptographicException ex) when (ex.Message.Contains("match", StringComparison.OrdinalIgnoreCase))
        {
            throw new UploadException("The private key does not belong to the certificate (its public key differs): upload the key the certificate was made for.");
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            throw new UploadException($"The PEM file cannot be read: {ex.Message}");
        }
    }

    private static bool IsPasswordProblem(CryptographicException ex) =>
        ex.Message.Contains("password", StringComparison.OrdinalIgnoreCase) || ex.Message.Contains("MAC", StringComparison.Ordinal)
        || ex.Message.Contains("decrypt", StringComparison.OrdinalIgnoreCase);

    private static string? KeyType(X509Certificate2 certificate)
    {
        using var rsa = certificate.GetRSAPublicKey();
        if (rsa is not null)
        {
            return rsa.KeySize >= 2048 ? $"RSA {rsa.KeySize}" : null;
        }

        using var ec = certificate.GetECDsaPublicKey();
        return ec?.ExportParameters(false).Curve.Oid.FriendlyName is "nistP256" or "ECDSA_P256" ? "EC P-256" : null;
    }

    private static string ExportKeyPem(X509Certificate2 certificate)
    {
        using AsymmetricAlgorithm key = (AsymmetricAlgorithm?)certificate.GetRSAPrivateKey() ?? certificate.GetECDsaPrivateKey()!;
        return key.ExportPkcs8PrivateKeyPem();
    }

    private sealed class UploadException(string message) : Exception(message);
}
