using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TokenAdmin.Oidc;

/// <summary>A TLS setting of a profile that cannot be used, naming the field and the cause.</summary>
public sealed class ProfileTlsException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}

/// <summary>
/// Builds the TLS side of a profile's connections: the private CA to trust (file or directory of PEM/DER
/// certificates), the client certificate for mutual TLS (PEM certificate + key, optionally encrypted, or PKCS#12),
/// and the discouraged switches that turn verification off.
/// </summary>
public static class ProfileTls
{
    public const string CaField = "CA certificate";
    public const string ClientCertificateField = "Client certificate";
    public const string ClientKeyField = "Client key";

    public static SslClientAuthenticationOptions Options(OidcProfile profile, string? clientKeyPassword)
    {
        var options = new SslClientAuthenticationOptions { EnabledSslProtocols = SslProtocols.None };
        X509Certificate2Collection? trust = null;
        if (!string.IsNullOrWhiteSpace(profile.CaCertificatePath))
        {
            trust = LoadCaCertificates(profile.CaCertificatePath.Trim());
            options.CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            options.CertificateChainPolicy.CustomTrustStore.AddRange(trust);
        }

        if (!string.IsNullOrWhiteSpace(profile.ClientCertificatePath))
        {
            options.ClientCertificates = [LoadClientCertificate(profile.ClientCertificatePath.Trim(), profile.ClientKeyPath?.Trim(), clientKeyPassword)];
        }
        else if (!string.IsNullOrWhiteSpace(profile.ClientKeyPath))
        {
            throw new ProfileTlsException(ClientCertificateField, "A client key is set but no client certificate: set both, or neither.");
        }

        var verifyCertificate = profile.VerifyCertificate;
        var verifyHostname = profile.VerifyHostname;
        if (!verifyCertificate || !verifyHostname)
        {
            options.RemoteCertificateValidationCallback = (_, _, _, errors) =>
                !verifyCertificate || (errors & ~SslPolicyErrors.RemoteCertificateNameMismatch) == SslPolicyErrors.None;
        }

        return options;
    }

    private static X509Certificate2Collection LoadCaCertificates(string path)
    {
        var files = Directory.Exists(path)
            ? Directory.EnumerateFiles(path).Where(f => f.EndsWith(".pem", StringComparison.OrdinalIgnoreCase)
                || f.EndsWith(".crt", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".cer", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToList()
            : File.Exists(path) ? [path] : throw new ProfileTlsException(CaField, $"'{path}' is neither a file nor a directory on this server.");
        var certificates = new X509Certificate2Collection();
        foreach (var file in files)
        {
            try
            {
                var text = File.ReadAllText(file);
                if (text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
                {
                    certificates.ImportFromPem(text);
                }
                else
                {
                    certificates.Add(X509CertificateLoader.LoadCertificateFromFile(file));
                }
            }
            catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
            {
                throw new ProfileTlsException(CaField, $"'{file}' is not a certificate TokenAdmin can read: {ex.Message}");
            }
        }

        return certificates.Count > 0
            ? certificates
            : throw new ProfileTlsException(CaField, $"'{path}' holds no certificate (PEM or DER, files ending .pem, .crt or .cer).");
    }

    private static X509Certificate2 LoadClientCertificate(string certificatePath, string? keyPath, string? password)
    {
        if (!File.Exists(certificatePath))
        {
            throw new ProfileTlsException(ClientCertificateField, $"'{certificatePath}' is not a file on this server.");
        }

        if (!string.IsNullOrEmpty(keyPath) && !File.Exists(keyPath))
        {
            throw new ProfileTlsException(ClientKeyField, $"'{keyPath}' is not a file on this server.");
        }

        X509Certificate2 certificate;
        try
        {
            var isPem = File.ReadAllText(certificatePath).Contains("-----BEGIN", StringComparison.Ordinal);
            certificate = !isPem
                ? X509CertificateLoader.LoadPkcs12FromFile(certificatePath, password)
                : string.IsNullOrEmpty(password)
                    ? X509Certificate2.CreateFromPemFile(certificatePath, string.IsNullOrEmpty(keyPath) ? null : keyPath)
                    : X509Certificate2.CreateFromEncryptedPemFile(certificatePath, password, string.IsNullOrEmpty(keyPath) ? null : keyPath);
        }
        catch (CryptographicException ex)
        {
            var field = string.IsNullOrEmpty(keyPath) ? ClientCertificateField : ClientKeyField;
            var cause = ex.Message.Contains("password", StringComparison.OrdinalIgnoreCase) || ex.Message.Contains("decrypt", StringComparison.OrdinalIgnoreCase)
                ? "the key password is wrong, or the key is encrypted and no password is set"
                : ex.Message;
            throw new ProfileTlsException(field, $"The client certificate and key cannot be loaded: {cause}.");
        }
        catch (ArgumentException ex)
        {
            throw new ProfileTlsException(ClientKeyField, $"The client certificate and key cannot be loaded: {ex.Message}");
        }

        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new ProfileTlsException(ClientKeyField, "The client certificate has no private key: set the client key file.");
        }

        return certificate;
    }
}
