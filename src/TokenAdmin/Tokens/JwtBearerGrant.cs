using System.Security.Cryptography;
using System.Text.Json;
using TokenAdmin.Secrets;

namespace TokenAdmin.Tokens;

/// <summary>
/// The service-account key of a token source for the JWT bearer grant (RFC 7523 section 2.1): a Google service
/// account's JSON key file, of which the private key is stored encrypted and the facts an admin recognises
/// (client_email, private_key_id, token_uri) are kept beside it in clear.
/// </summary>
/// <remarks>An EF Core complex type: the same columns on token configs and functional accounts.</remarks>
public sealed class ServiceAccountKey
{
    /// <summary>The private key as PKCS#8 PEM, encrypted with the secret protector; null = none uploaded.</summary>
    public string? Protected { get; set; }

    /// <summary>client_email: the assertion's iss.</summary>
    public string? ClientEmail { get; set; }

    /// <summary>private_key_id: the assertion's kid.</summary>
    public string? PrivateKeyId { get; set; }

    /// <summary>token_uri: the assertion's aud (Google checks it against its token endpoint).</summary>
    public string? TokenUri { get; set; }

    public bool Present => Protected is not null;

    public void Clear() => Protected = ClientEmail = PrivateKeyId = TokenUri = null;

    public void CopyFrom(ServiceAccountKey other)
    {
        Protected = other.Protected;
        ClientEmail = other.ClientEmail;
        PrivateKeyId = other.PrivateKeyId;
        TokenUri = other.TokenUri;
    }
}

/// <summary>The columns of <see cref="ServiceAccountKey"/>, the same on every entity that holds one.</summary>
public static class ServiceAccountKeyColumns
{
    public static void Configure(Microsoft.EntityFrameworkCore.Metadata.Builders.ComplexPropertyBuilder<ServiceAccountKey> key)
    {
        key.Property(k => k.ClientEmail).HasMaxLength(320);
        key.Property(k => k.PrivateKeyId).HasMaxLength(200);
        key.Property(k => k.TokenUri).HasMaxLength(2000);
    }
}

/// <summary>The write-only fields of the JWT bearer grant on a source's form (Pages/Shared/_JwtBearer.cshtml), the same for both kinds.</summary>
public interface IJwtBearerInput
{
    /// <summary>The mailbox (user) to act as: the assertion's sub. Empty = the assertion's issuer.</summary>
    [System.ComponentModel.DataAnnotations.Display(Name = "Mailbox to act as")]
    string? AssertionSubject { get; set; }
    [System.ComponentModel.DataAnnotations.Display(Name = "Service account key (JSON)")]
    IFormFile? ServiceAccountKeyFile { get; set; }
    [System.ComponentModel.DataAnnotations.Display(Name = "Remove the stored service account key")]
    bool ClearServiceAccountKey { get; set; }
}

/// <summary>Reads service-account key files and makes the assertions of the JWT bearer grant.</summary>
public static class JwtBearerGrant
{
    public const string GrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer";

    /// <summary>
    /// How long an assertion is valid. Note: Google refuses an assertion whose exp lies more than one hour after its
    /// iat; iat lies <see cref="ClientAssertion.ClockSkew"/> in the past, so the lifetime stays well below that.
    /// </summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    /// <summary>The largest key file read: a Google key file is about 2.3 KiB.</summary>
    public const int MaxFileBytes = 16 * 1024;

    /// <summary>The key file as the admin chose it, or null when none was chosen; a file too large is cut one byte past the limit, which <see cref="Read"/> refuses.</summary>
    public static async Task<byte[]?> UploadAsync(IJwtBearerInput input, CancellationToken cancellationToken)
    {
        if (input.ServiceAccountKeyFile is not { Length: > 0 } file)
        {
            return null;
        }

        await using var stream = file.OpenReadStream();
        var buffer = new byte[(int)Math.Min(file.Length, MaxFileBytes + 1)];
        var read = 0;
        int n;
        while (read < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken)) > 0)
        {
            read += n;
        }

        return buffer[..read];
    }

    /// <summary>
    /// Reads a service account's JSON key file strictly: type service_account, client_email, private_key_id and an RSA
    /// private key (2048 bits or more) in PEM. Every problem is a sentence for the admin; nothing is returned then.
    /// </summary>
    public static (ServiceAccountKey? Key, string? Error) Read(byte[] content, ISecretProtector protector)
    {
        if (content.Length == 0)
        {
            return (null, "The key file is empty.");
        }

        if (content.Length > MaxFileBytes)
        {
            return (null, $"The key file is larger than {MaxFileBytes / 1024} KiB: a service account's JSON key file is about 2 KiB. Upload the .json file Google created for the key.");
        }

        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(content);
            root = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return (null, "The key file is not JSON: upload the .json key file of the service account (Google Cloud console: IAM → Service accounts → Keys → Add key → JSON).");
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            return (null, "The key file is not a service account key: it holds no JSON object.");
        }

        var type = Text(root, "type");
        if (type != "service_account")
        {
            return (null, type is null
                ? "The JSON file is not a service account key: it has no \"type\": \"service_account\"."
                : $"The JSON file is not a service account key: its type is '{type}', not 'service_account' (an OAuth client's file, for example, is not a key).");
        }

        var email = Text(root, "client_email");
        var keyId = Text(root, "private_key_id");
        var pem = Text(root, "private_key");
        var missing = new[] { ("client_email", email), ("private_key_id", keyId), ("private_key", pem) }.Where(f => string.IsNullOrWhiteSpace(f.Item2)).Select(f => f.Item1).ToList();
        if (missing.Count > 0)
        {
            return (null, $"The service account key lacks {string.Join(", ", missing)}: download a new JSON key for the service account.");
        }

        if (email!.Length > 320 || keyId!.Length > 200 || email.Any(char.IsControl) || keyId.Any(char.IsControl))
        {
            return (null, "The service account key's client_email or private_key_id is not plausible.");
        }

        var tokenUri = Text(root, "token_uri");
        if (tokenUri is not null && (tokenUri.Length > 2000 || !Uri.TryCreate(tokenUri, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http")))
        {
            return (null, "The service account key's token_uri is not a URL.");
        }

        string normalized;
        try
        {
            using var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            if (rsa.KeySize < 2048)
            {
                return (null, $"The service account key's private key has {rsa.KeySize} bits; at least 2048 are needed.");
            }

            normalized = rsa.ExportPkcs8PrivateKeyPem();
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            return (null, "The service account key's private_key is not a readable RSA private key in PEM (-----BEGIN PRIVATE KEY-----): the file may be damaged; download a new JSON key.");
        }

        return (new ServiceAccountKey
        {
            Protected = protector.Protect(normalized),
            ClientEmail = email,
            PrivateKeyId = keyId,
            TokenUri = tokenUri,
        }, null);
    }

    /// <summary>
    /// The grant's assertion: iss = the service account's client_email (or, signed with the source's client certificate,
    /// the client ID), sub = the mailbox to act as (default: iss), aud = the key's token_uri or else the token endpoint,
    /// scope, iat/nbf/exp, a new jti; RS256 with the key's private_key and kid = private_key_id (or the certificate's
    /// x5t#S256 and its algorithm).
    /// </summary>
    /// <exception cref="InvalidOperationException">the source holds neither a service-account key nor a client certificate</exception>
    public static string CreateAssertion(TokenSourceDefinition source, string tokenEndpoint, Func<string, string> unprotect, DateTime now)
    {
        var key = source.ServiceAccountKey;
        var issuer = key.Present ? key.ClientEmail! : source.ClientId;
        var payload = new Dictionary<string, object>
        {
            ["iss"] = issuer,
            ["sub"] = string.IsNullOrWhiteSpace(source.AssertionSubject) ? issuer : source.AssertionSubject,
            ["aud"] = key.Present && !string.IsNullOrEmpty(key.TokenUri) ? key.TokenUri : tokenEndpoint,
            ["jti"] = Guid.NewGuid().ToString("N"),
        };
        if (source.Scope.Length > 0)
        {
            // Google reads the scope from the assertion; RFC 7523 providers from the form (sent too).
            payload["scope"] = source.Scope;
        }

        var none = new Dictionary<string, string>();
        if (key.Present)
        {
            using var rsa = RSA.Create();
            rsa.ImportFromPem(unprotect(key.Protected!));
            return ClientAssertion.Sign(rsa, ClientAssertion.RS256, key.PrivateKeyId, none, payload, now, Lifetime);
        }

        if (!source.Certificate.Present)
        {
            throw new InvalidOperationException("The source holds no key to sign the assertion with.");
        }

        using var certificate = ClientCertificates.Load(source.Certificate.Protected!, unprotect);
        var algorithm = source.ClientAssertionAlgorithm ?? ClientAssertion.DefaultAlgorithm(source.Certificate.KeyType);
        return ClientAssertion.Sign(certificate, algorithm, source.Certificate.KeyId, none, payload, now, Lifetime);
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
