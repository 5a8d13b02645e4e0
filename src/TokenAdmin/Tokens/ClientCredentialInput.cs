using System.ComponentModel.DataAnnotations;

namespace TokenAdmin.Tokens;

/// <summary>
/// The client-authentication fields of a source's form (Pages/Shared/_ClientAuthentication.cshtml), the same for token
/// configs and functional accounts: the method, the assertion's algorithm, and a certificate upload (write-only).
/// </summary>
public interface IClientCredentialInput
{
    // The labels of the shared form fields (the form's tag helpers read them from here).
    [Display(Name = "Client authentication")]
    string ClientAuthentication { get; set; }
    [Display(Name = "Signing algorithm")]
    string? ClientAssertionAlgorithm { get; set; }
    [Display(Name = "Audience of the client assertion")]
    string? ClientAssertionAudience { get; set; }
    [Display(Name = "Client certificate")]
    IFormFile? ClientCertificateFile { get; set; }
    [Display(Name = "Certificate password")]
    string? ClientCertificatePassword { get; set; }
    [Display(Name = "Remove the stored client certificate")]
    bool ClearClientCertificate { get; set; }
}

public static class ClientCredentialInputs
{
    /// <summary>The uploaded file with its password, or null when no file was chosen; a file too large is cut one byte past the limit, which <see cref="ClientCertificates.Read"/> refuses.</summary>
    public static async Task<ClientCertificateUpload?> UploadAsync(IClientCredentialInput input, CancellationToken cancellationToken)
    {
        if (input.ClientCertificateFile is not { Length: > 0 } file)
        {
            return null;
        }

        await using var stream = file.OpenReadStream();
        var buffer = new byte[(int)Math.Min(file.Length, ClientCertificates.MaxFileBytes + 1)];
        var read = 0;
        int n;
        while (read < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken)) > 0)
        {
            read += n;
        }

        return new ClientCertificateUpload(buffer[..read], string.IsNullOrEmpty(input.ClientCertificatePassword) ? null : input.ClientCertificatePassword);
    }

    /// <summary>Empties the write-only fields before a form is shown again.</summary>
    public static void Forget(IClientCredentialInput input)
    {
        input.ClientCertificateFile = null;
        input.ClientCertificatePassword = null;
    }
}
