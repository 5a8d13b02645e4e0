using System.ComponentModel.DataAnnotations;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;

namespace TokenAdmin.TestIdentityProvider.Internal;

/// <summary>Names of the RFC 8705 tls_client_auth registration of a client.</summary>
internal static class TlsClientAuthentication
{
    /// <summary>The application property holding the client's <c>tls_client_auth_subject_dn</c> (RFC 8705 section 2.1.2).</summary>
    public const string SubjectDnProperty = "tls_client_auth_subject_dn";

    public static string? SubjectDn(IReadOnlyDictionary<string, JsonElement> properties) =>
        properties.TryGetValue(SubjectDnProperty, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

/// <summary>
/// OpenIddict's application manager with the client half of RFC 8705 section 2.1 (PKI method): OpenIddict extracts the
/// certificate from the TLS connection and supplies the chain policy (the configured CA); this manager checks the chain
/// and that the subject DN is the one registered for the client. A client without a registered subject DN is never
/// authenticated by a certificate.
/// </summary>
internal sealed class TlsClientAuthApplicationManager<TApplication>(
    IOpenIddictApplicationCache<TApplication> cache,
    ILogger<OpenIddictApplicationManager<TApplication>> logger,
    IOptionsMonitor<OpenIddictCoreOptions> options,
    IOpenIddictApplicationStore<TApplication> store)
    : OpenIddictApplicationManager<TApplication>(cache, logger, options, store) where TApplication : class
{
    /// <summary>OpenIddict's per-client policy, without revocation checks: the test CA publishes no revocation list.</summary>
    public override async ValueTask<X509ChainPolicy?> GetPublicKeyInfrastructureTlsClientAuthenticationPolicyAsync(
        TApplication application, X509ChainPolicy policy, CancellationToken cancellationToken = default)
    {
        var result = await base.GetPublicKeyInfrastructureTlsClientAuthenticationPolicyAsync(application, policy, cancellationToken);
        if (result is not null)
        {
            result.RevocationMode = X509RevocationMode.NoCheck;
        }

        return result;
    }

    /// <summary>
    /// RFC 8705 section 2.1: the certificate chains to the trusted CA under OpenIddict's policy for this client, and its
    /// subject DN is the registered one. Note: OpenIddict's own check would instead bind the certificate to the client's
    /// redirect URIs ("no redirection URI was associated with the application"); a client-credentials client has none,
    /// and RFC 8705 leaves the binding to the server, so this replaces it with tls_client_auth_subject_dn.
    /// </summary>
    public override async ValueTask<bool> ValidatePublicKeyInfrastructureTlsClientCertificateAsync(
        TApplication application, X509Certificate2 certificate, X509ChainPolicy policy, CancellationToken cancellationToken = default)
    {
        var clientId = await GetClientIdAsync(application, cancellationToken);
        using (var chain = new X509Chain { ChainPolicy = policy.Clone() })
        {
            bool built;
            try
            {
                built = chain.Build(certificate);
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                built = false;
            }

            if (!built)
            {
                Logger.LogWarning("Client {ClientId}: certificate {Subject} does not chain to the trusted CA: {Status}.", clientId, certificate.Subject,
                    string.Join(", ", chain.ChainStatus.Select(static s => s.Status + " " + s.StatusInformation.Trim())));
                return false;
            }
        }

        var registered = TlsClientAuthentication.SubjectDn(await GetPropertiesAsync(application, cancellationToken));
        if (registered is null)
        {
            Logger.LogWarning("Client {ClientId} presented certificate {Subject} but is not registered for tls_client_auth.", clientId, certificate.Subject);
            return false;
        }

        // Note: both sides parsed as distinguished names, so spacing and quoting of the registration do not matter.
        if (!string.Equals(new X500DistinguishedName(registered).Name, certificate.SubjectName.Name, StringComparison.Ordinal))
        {
            Logger.LogWarning("Client {ClientId} presented certificate {Subject}, but its registered tls_client_auth_subject_dn is {Registered}.",
                clientId, certificate.Subject, registered);
            return false;
        }

        return true;
    }

    /// <summary>
    /// OpenIddict's validation asks a confidential application for a client secret or a JSON Web Key Set; a client
    /// registered for tls_client_auth has neither, its certificate authenticates it.
    /// </summary>
    public override async IAsyncEnumerable<ValidationResult> ValidateAsync(
        TApplication application, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var mutualTls = TlsClientAuthentication.SubjectDn(await GetPropertiesAsync(application, cancellationToken)) is not null;
        await foreach (var result in base.ValidateAsync(application, cancellationToken))
        {
            if (mutualTls && result.ErrorMessage?.Contains("client secret cannot be null or empty", StringComparison.Ordinal) == true)
            {
                continue;
            }

            yield return result;
        }
    }
}
