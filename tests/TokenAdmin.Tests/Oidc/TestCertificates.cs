using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TokenAdmin.Tests.Oidc;

/// <summary>
/// A private CA made for one test, a server certificate for 127.0.0.1/localhost and a client certificate, both issued
/// by it, written as PEM files (the client key encrypted with <see cref="ClientKeyPassword"/>) in a temporary folder.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    public const string ClientKeyPassword = "client-key-password";

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "tokenadmin-certs-" + Guid.NewGuid().ToString("N"));
    public X509Certificate2 Ca { get; }
    public X509Certificate2 Server { get; }
    public X509Certificate2 Client { get; }
    public string CaPath => Path.Combine(Folder, "ca.pem");
    public string ClientCertificatePath => Path.Combine(Folder, "client.pem");
    public string ClientKeyPath => Path.Combine(Folder, "client.key");
    public string NotACertificatePath => Path.Combine(Folder, "notes.pem");

    private readonly string[] _serverNames;

    /// <param name="serverNames">More DNS names for the server certificate (a made-up host reached through a test proxy).</param>
    public TestCertificates(params string[] serverNames)
    {
        _serverNames = serverNames;
        Directory.CreateDirectory(Folder);
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=TokenAdmin Test Private CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        Ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        Server = Issue("CN=127.0.0.1", server: true, now);
        Client = Issue("CN=tokenadmin-client", server: false, now);

        File.WriteAllText(CaPath, Ca.ExportCertificatePem());
        File.WriteAllText(ClientCertificatePath, Client.ExportCertificatePem());
        using var clientKey = Client.GetRSAPrivateKey()!;
        File.WriteAllText(ClientKeyPath, clientKey.ExportEncryptedPkcs8PrivateKeyPem(ClientKeyPassword,
            new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 100_000)));
        File.WriteAllText(NotACertificatePath, "These are notes, not a certificate.\n");
    }

    /// <summary>One more client certificate (with its key) issued by this CA; the caller disposes it.</summary>
    public X509Certificate2 IssueClient(string subject) => Issue(subject, server: false, DateTimeOffset.UtcNow);

    private X509Certificate2 Issue(string subject, bool server, DateTimeOffset now)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [server ? new Oid("1.3.6.1.5.5.7.3.1") : new Oid("1.3.6.1.5.5.7.3.2")], false));
        if (server)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            names.AddDnsName("localhost");
            foreach (var name in _serverNames)
            {
                names.AddDnsName(name);
            }
            request.CertificateExtensions.Add(names.Build());
        }

        using var issued = request.Create(Ca, now.AddDays(-1), now.AddDays(20), RandomNumberGenerator.GetBytes(12));
        // Note: an exportable copy with its key, loaded the way Kestrel and SslStream on Linux can use it.
        return X509CertificateLoader.LoadPkcs12(issued.CopyWithPrivateKey(key).Export(X509ContentType.Pkcs12), null);
    }

    public void Dispose()
    {
        Ca.Dispose();
        Server.Dispose();
        Client.Dispose();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the folder is in the temp directory.
        }
    }
}
