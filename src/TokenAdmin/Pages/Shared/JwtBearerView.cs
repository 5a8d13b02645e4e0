using TokenAdmin.Tokens;

namespace TokenAdmin.Pages.Forms;

/// <summary>
/// What _JwtBearer.cshtml renders: the JWT bearer grant's fields (RFC 7523 section 2.1) of a token config or a
/// functional account: the mailbox to act as and the service-account key upload (write-only; the stored key is shown by
/// its client_email and private_key_id).
/// </summary>
/// <param name="ShowFor">The data-shows group of the form's flow (grant type) select, and <paramref name="When"/> the values that show these fields (site.js).</param>
/// <param name="Hidden">Rendered hidden: the chosen flow does not use the grant (and no field of it has a message).</param>
public sealed record JwtBearerView(IJwtBearerInput Input, ServiceAccountKey? Stored, string ShowFor, string When, bool Hidden)
{
    /// <summary>The data-shows group of the token-config form's Flow select.</summary>
    public const string FlowGroup = "flow";

    /// <summary>The data-shows group of the functional-account form's Grant type select.</summary>
    public const string GrantGroup = "grant";
}
