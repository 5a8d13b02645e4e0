using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;

namespace TokenAdmin.Tokens;

/// <summary>
/// Client assertions (RFC 7523 section 2.2, OpenID Connect "private_key_jwt"): a short-lived JWT, signed with the
/// source's certificate key, that authenticates the client at the token endpoint instead of a client secret.
/// </summary>
public static class ClientAssertion
{
    public const string AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    /// <summary>How long an assertion is valid after it is made: long enough for one exchange with its retries, no longer.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    /// <summary>
    /// iat and nbf lie this far in the past. Note: a provider whose clock is behind ours would otherwise refuse an
    /// assertion "issued in the future" (Entra: AADSTS700024).
    /// </summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The assertion's typ (draft-ietf-oauth-rfc7523bis, RFC 8725 section 3.11), so it cannot pass for another kind of JWT
    /// signed with the same key. Note: servers that check typ (OpenIddict 7, PingFederate) refuse "JWT"; servers that do
    /// not check it (Microsoft Entra, Keycloak) accept any.
    /// </summary>
    public const string ExplicitType = "client-authentication+jwt";

    /// <summary>aud = the token endpoint the assertion is sent to (RFC 7523, what Microsoft Entra and Keycloak expect).</summary>
    public const string AudienceTokenEndpoint = "token_endpoint";

    /// <summary>aud = the provider's issuer identifier (draft-ietf-oauth-rfc7523bis; OpenIddict 7 takes only this).</summary>
    public const string AudienceIssuer = "issuer";

    public static readonly IReadOnlyList<string> Audiences = [AudienceTokenEndpoint, AudienceIssuer];

    public const string RS256 = "RS256";
    public const string PS256 = "PS256";
    public const string ES256 = "ES256";

    public static readonly IReadOnlyList<string> Algorithms = [RS256, PS256, ES256];

    /// <summary>RS256 for an RSA key (every provider takes it), ES256 for an EC P-256 key.</summary>
    public static string DefaultAlgorithm(string? keyType) => keyType?.StartsWith("EC", StringComparison.Ordinal) == true ? ES256 : RS256;

    /// <summary>Why the algorithm cannot sign with this key, or null when it can.</summary>
    public static string? AlgorithmProblem(string? algorithm, string? keyType)
    {
        if (algorithm is null)
        {
            return null;
        }

        if (!Algorithms.Contains(algorithm))
        {
            return $"Signing algorithm must be one of {string.Join(", ", Algorithms)} (or empty for the key's default).";
        }

        var ec = keyType?.StartsWith("EC", StringComparison.Ordinal) == true;
        return keyType is null || ec == (algorithm == ES256) ? null
            : ec ? $"The certificate has an EC key: it signs with ES256, not {algorithm}."
            : $"The certificate has an RSA key: it signs with RS256 or PS256, not {algorithm}.";
    }

    /// <summary>
    /// The assertion for one request: iss and sub the client ID, aud the endpoint it is sent to, a new jti, iat/nbf a
    /// little in the past, exp <see cref="Lifetime"/> ahead. The header names the certificate three ways: x5t#S256, x5t
    /// (SHA-1, which Microsoft Entra looks the certificate up by) and kid (= x5t#S256).
    /// </summary>
    public static string Create(X509Certificate2 certificate, string clientId, string audience, string? algorithm, DateTime now)
    {
        var sha256 = WebEncoders.Base64UrlEncode(certificate.GetCertHash(HashAlgorithmName.SHA256));
        var sha1 = WebEncoders.Base64UrlEncode(certificate.GetCertHash(HashAlgorithmName.SHA1));
        var header = new Dictionary<string, string> { ["x5t#S256"] = sha256, ["x5t"] = sha1 };
        var payload = new Dictionary<string, object>
        {
            ["iss"] = clientId,
            ["sub"] = clientId,
            ["aud"] = audience,
            ["jti"] = Guid.NewGuid().ToString("N"),
        };
        return Sign(certificate, algorithm ?? DefaultAlgorithm(certificate.GetECDsaPublicKey() is null ? "RSA" : "EC"), sha256, header, payload, now, Lifetime, ExplicitType);
    }

    /// <summary>
    /// A JWT signed with the certificate's key (also the JWT bearer grant's assertion): the header gets alg, typ,
    /// kid and <paramref name="header"/>; the payload gets iat, nbf and exp around <paramref name="now"/>.
    /// </summary>
    public static string Sign(X509Certificate2 certificate, string algorithm, string? keyId, IReadOnlyDictionary<string, string> header,
        IReadOnlyDictionary<string, object> payload, DateTime now, TimeSpan lifetime, string type = "JWT")
    {
        using var rsa = certificate.GetRSAPrivateKey();
        using var ec = rsa is null ? certificate.GetECDsaPrivateKey() : null;
        return Sign((AsymmetricAlgorithm?)rsa ?? ec ?? throw new CryptographicException("The certificate has no usable private key."),
            algorithm, keyId, header, payload, now, lifetime, type);
    }

    /// <inheritdoc cref="Sign(X509Certificate2, string, string?, IReadOnlyDictionary{string, string}, IReadOnlyDictionary{string, object}, DateTime, TimeSpan, string)"/>
    public static string Sign(AsymmetricAlgorithm key, string algorithm, string? keyId, IReadOnlyDictionary<string, string> header,
        IReadOnlyDictionary<string, object> payload, DateTime now, TimeSpan lifetime, string type = "JWT")
    {
        var issued = new DateTimeOffset(now - ClockSkew, TimeSpan.Zero).ToUnixTimeSeconds();
        var expires = new DateTimeOffset(now + lifetime, TimeSpan.Zero).ToUnixTimeSeconds();
        var headerJson = Json(w =>
        {
            w.WriteString("alg", algorithm);
            w.WriteString("typ", type);
            if (keyId is not null)
            {
                w.WriteString("kid", keyId);
            }

            foreach (var (name, value) in header)
            {
                w.WriteString(name, value);
            }
        });
        var payloadJson = Json(w =>
        {
            foreach (var (name, value) in payload)
            {
                w.WritePropertyName(name);
                JsonSerializer.Serialize(w, value);
            }

            w.WriteNumber("iat", issued);
            w.WriteNumber("nbf", issued);
            w.WriteNumber("exp", expires);
        });
        var input = WebEncoders.Base64UrlEncode(headerJson) + "." + WebEncoders.Base64UrlEncode(payloadJson);
        var data = Encoding.ASCII.GetBytes(input);
        var signature = (algorithm, key) switch
        {
            (RS256, RSA rsa) => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            (PS256, RSA rsa) => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pss),
            // JWS wants the fixed-size r||s form (IEEE P1363), not DER.
            (ES256, ECDsa ecdsa) => ecdsa.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
            _ => throw new CryptographicException($"{algorithm} cannot sign with this key."),
        };
        return input + "." + WebEncoders.Base64UrlEncode(signature);
    }

    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
