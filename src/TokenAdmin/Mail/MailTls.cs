using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using MailKit;
using Microsoft.Extensions.Options;

namespace TokenAdmin.Mail;

public sealed class MailOptions
{
    /// <summary>
    /// A PEM file of CA certificates that mail servers' certificates may chain to, besides the system's trusted roots:
    /// for IMAP, POP3 and SMTP servers with certificates from an internal CA. Null: the system's roots only.
    /// </summary>
    public string? TrustedCertificateAuthorities { get; set; }

    /// <summary>
    /// How long one fetch of one account may take, from connecting to the last message: a mail server that stalls is
    /// left at this point (what was stored is kept) and holds up no other account.
    /// </summary>
    public TimeSpan FetchDeadline { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How many accounts the fetch job fetches at the same time.</summary>
    public int FetchParallelism { get; set; } = 4;

    /// <summary>How long one exchange with Microsoft Graph (request and whole answer) may take.</summary>
    public TimeSpan GraphExchangeTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest Retry-After a Graph fetch or send waits for; a longer one ends the run (the next run goes on).</summary>
    public TimeSpan GraphMaxRetryWait { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// How mail clients check a server's certificate: the system's trusted roots, plus the configured CA file. The host
/// name must always match; a certificate chaining only to a configured CA is not checked for revocation (internal CAs
/// seldom publish revocation lists that this machine can reach).
/// </summary>
public sealed class MailTls
{
    private readonly X509Certificate2Collection? _roots;
    private readonly string? _error;

    public MailTls(IOptions<MailOptions> options)
    {
        var path = options.Value.TrustedCertificateAuthorities;
        if (string.IsNullOrWhiteSpace(path))
        {
            return;
        }

        _roots = [];
        try
        {
            _roots.ImportFromPemFile(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            _error = $"The start-up option TokenAdmin:Mail:TrustedCertificateAuthorities names '{path}', which cannot be read as PEM certificates: {ex.Message}";
            return;
        }

        if (_roots.Count == 0)
        {
            _error = $"The start-up option TokenAdmin:Mail:TrustedCertificateAuthorities names '{path}', which holds no PEM certificate.";
        }
    }

    /// <exception cref="MailConnectionException">the configured CA file is unusable: no connection is made rather than one checked wrongly</exception>
    public void Apply(IMailService client)
    {
        if (_error is not null)
        {
            throw new MailConnectionException(_error);
        }

        if (_roots is not null)
        {
            client.ServerCertificateValidationCallback = Validate;
        }
    }

    private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (errors != SslPolicyErrors.RemoteCertificateChainErrors || certificate is null)
        {
            return false;
        }

        using var server = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_roots!);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            // Intermediates the server sent along.
            foreach (var element in chain.ChainElements.Skip(1))
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return custom.Build(server);
    }
}
