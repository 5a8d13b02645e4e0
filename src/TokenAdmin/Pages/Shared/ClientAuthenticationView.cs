using TokenAdmin.Tokens;

namespace TokenAdmin.Pages.Forms;

/// <summary>
/// What _ClientAuthentication.cshtml renders: the client-authentication fields of a token config or a functional
/// account. <paramref name="CamelCaseKeys"/>: the form's errors are keyed like the YAML (clientCertificate) rather than
/// like the input (ClientCertificate).
/// </summary>
/// <param name="ProfileCertificate">For a functional account: whether its profile has a client certificate for mutual TLS.</param>
public sealed record ClientAuthenticationView(
    IClientCredentialInput Input, IReadOnlyDictionary<string, string> Errors, ClientCertificate? Stored, bool CamelCaseKeys, bool? ProfileCertificate = null)
{
    public string Key(string name) => CamelCaseKeys ? char.ToLowerInvariant(name[0]) + name[1..] : name;

    public string? Error(string name) => Errors.TryGetValue(Key(name), out var e) ? e : null;

    public string? Css(string name) => Errors.ContainsKey(Key(name)) ? "input-error" : null;
}
