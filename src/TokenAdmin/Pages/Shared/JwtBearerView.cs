using TokenAdmin.Tokens;

namespace TokenAdmin.Pages.Forms;

/// <summary>
/// What _JwtBearer.cshtml renders: the JWT bearer grant's fields (RFC 7523 section 2.1) of a token config or a
/// functional account: the mailbox to act as and the service-account key upload (write-only; the stored key is shown by
/// its client_email and private_key_id). <paramref name="CamelCaseKeys"/> as in <see cref="ClientAuthenticationView"/>.
/// </summary>
/// <param name="ShowFor">The data-shows group of the form's flow (grant type) select, and <paramref name="When"/> the value that shows these fields (site.js).</param>
public sealed record JwtBearerView(IJwtBearerInput Input, IReadOnlyDictionary<string, string> Errors, ServiceAccountKey? Stored, bool CamelCaseKeys, string ShowFor, string When)
{
    /// <summary>The data-shows group of the token-config form's Flow select.</summary>
    public const string FlowGroup = "flow";

    /// <summary>The data-shows group of the functional-account form's Grant type select.</summary>
    public const string GrantGroup = "grant";

    public string Key(string name) => CamelCaseKeys ? char.ToLowerInvariant(name[0]) + name[1..] : name;

    public string? Error(string name) => Errors.TryGetValue(Key(name), out var e) ? e : null;

    public string? Css(string name) => Errors.ContainsKey(Key(name)) ? "input-error" : null;

    public string? Invalid(string name) => Errors.ContainsKey(Key(name)) ? "true" : null;
}
