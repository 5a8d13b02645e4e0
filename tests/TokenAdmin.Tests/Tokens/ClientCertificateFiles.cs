using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace TokenAdmin.Tests.Tokens;

/// <summary>Self-signed client certificates as an admin would upload them: PEM with the key, PFX with a password.</summary>
public static class ClientCertificateFiles
{
    public const string PfxPassword = "pfx-password-1";

    public static X509Certificate2 Rsa(string subject = "CN=tokenadmin-client", DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null, int bits = 2048)
    {
        using var key = RSA.Create(bits);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var now = DateTimeOffset.UtcNow;
        using var made = request.CreateSelfSigned(notBefore ?? now.AddDays(-1), notAfter ?? now.AddDays(365));
        return X509CertificateLoader.LoadPkcs12(made.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.Exportable);
    }

    public static X509Certificate2 Ec(string subject = "CN=tokenadmin-ec-client")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var now = DateTimeOffset.UtcNow;
        using var made = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(365));
        return X509CertificateLoader.LoadPkcs12(made.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.Exportable);
    }

    /// <summary>The certificate and its own key in one PEM file.</summary>
    public static byte[] Pem(X509Certificate2 certificate)
    {
        using AsymmetricAlgorithm key = (AsymmetricAlgorithm?)certificate.GetRSAPrivateKey() ?? certificate.GetECDsaPrivateKey()!;
        return Encoding.ASCII.GetBytes(certificate.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem() + "\n");
    }

    /// <summary>The certificate with the key of another one: the mistake of picking the wrong key file.</summary>
    public static byte[] PemWithKeyOf(X509Certificate2 certificate, X509Certificate2 other)
    {
        using var key = other.GetRSAPrivateKey()!;
        return Encoding.ASCII.GetBytes(certificate.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem() + "\n");
    }

    public static byte[] Pfx(X509Certificate2 certificate, string password = PfxPassword) => certificate.Export(X509ContentType.Pkcs12, password);

    public static string KeyId(X509Certificate2 certificate) =>
        Microsoft.AspNetCore.WebUtilities.WebEncoders.Base64UrlEncode(certificate.GetCertHash(HashAlgorithmName.SHA256));
}
