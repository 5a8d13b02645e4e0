using System.Text.RegularExpressions;

namespace TokenAdmin.Tokens;

/// <summary>
/// Consent and sign-in parameters of an authorization-code source (issue 14, item 4): OpenID Connect's <c>prompt</c>
/// and <c>login_hint</c>, and Microsoft's <c>domain_hint</c>. The same class is a token config's <c>signIn</c> YAML
/// block and a functional account's columns (an EF Core complex type).
/// </summary>
/// <remarks>
/// Precedence: a field set here wins over the same key typed as an extra authorization parameter (key=value);
/// a field left empty leaves the extra parameter, if any, as it is. So templates that send prompt=consent as an extra
/// parameter (Google) keep doing so until an admin picks another prompt here.
/// </remarks>
public sealed partial class SignInOptions
{
    /// <summary>none, login, consent or select_account; null = not sent (unless an extra parameter sends it).</summary>
    public string? Prompt { get; set; }

    /// <summary>The account the provider should preselect (usually the mailbox address).</summary>
    public string? LoginHint { get; set; }

    /// <summary>Microsoft: the home realm (a domain, or consumers/organizations) that skips the account picker's realm discovery.</summary>
    public string? DomainHint { get; set; }

    public static readonly IReadOnlyList<string> Prompts = ["none", "login", "consent", "select_account"];

    public static string DescribePrompt(string prompt) => prompt switch
    {
        "none" => "none (no page at the provider; fails if the user must sign in or consent)",
        "login" => "login (ask for the password again)",
        "consent" => "consent (show the consent page again)",
        "select_account" => "select_account (let the user pick an account)",
        _ => prompt,
    };

    /// <summary>A method, not a property: the YAML writer would write a property out as a key.</summary>
    public bool IsEmpty() => Prompt is null && LoginHint is null && DomainHint is null;

    /// <summary>Empty strings become null, values are trimmed: what is stored.</summary>
    public SignInOptions Normalized() => new()
    {
        Prompt = string.IsNullOrWhiteSpace(Prompt) ? null : Prompt.Trim(),
        LoginHint = string.IsNullOrWhiteSpace(LoginHint) ? null : LoginHint.Trim(),
        DomainHint = string.IsNullOrWhiteSpace(DomainHint) ? null : DomainHint.Trim(),
    };

    /// <summary>Problems by field name (prompt, loginHint, domainHint), in words for the admin.</summary>
    public IEnumerable<(string Field, string Message)> Check()
    {
        if (Prompt is { } prompt && !Prompts.Contains(prompt, StringComparer.Ordinal))
        {
            yield return ("prompt", $"Prompt must be one of: {string.Join(", ", Prompts)} (or empty).");
        }

        if (LoginHint is { } hint && (hint.Length > 320 || hint.Any(char.IsControl) || hint.Any(char.IsWhiteSpace)))
        {
            yield return ("loginHint", "Login hint: one account name or mail address, at most 320 characters, without spaces.");
        }

        if (DomainHint is { } domain && !DomainRegex().IsMatch(domain))
        {
            yield return ("domainHint", "Domain hint: a domain such as contoso.com (or consumers, organizations), at most 253 characters.");
        }
    }

    /// <summary>Writes the fields that are set into the authorization request's parameters, over any extra parameter of the same name.</summary>
    public void ApplyTo(IDictionary<string, string?> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (Prompt is { Length: > 0 } prompt)
        {
            parameters["prompt"] = prompt;
        }

        if (LoginHint is { Length: > 0 } hint)
        {
            parameters["login_hint"] = hint;
        }

        if (DomainHint is { Length: > 0 } domain)
        {
            parameters["domain_hint"] = domain;
        }
    }

    public static void Configure(Microsoft.EntityFrameworkCore.Metadata.Builders.ComplexPropertyBuilder<SignInOptions> signIn)
    {
        signIn.Property(s => s.Prompt).HasMaxLength(20);
        signIn.Property(s => s.LoginHint).HasMaxLength(320);
        signIn.Property(s => s.DomainHint).HasMaxLength(253);
    }

    [GeneratedRegex(@"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$")]
    private static partial Regex DomainRegex();
}

/// <summary>The Microsoft Entra admin consent link (v2.0 endpoint) for a source's tenant, client and scopes.</summary>
public static class AdminConsent
{
    private static readonly HashSet<string> OidcScopes = new(StringComparer.Ordinal) { "openid", "profile", "email", "offline_access" };

    /// <summary>
    /// https://login.microsoftonline.com/{tenant}/v2.0/adminconsent?client_id=…&amp;scope=…&amp;redirect_uri=…, or null when the
    /// source is not at Microsoft Entra or names no single tenant (common, organizations and consumers cannot be consented for).
    /// </summary>
    public static string? Link(string? authorizationOrTokenEndpoint, string? tenant, string clientId, string scope, string returnTo)
    {
        if (!Uri.TryCreate(authorizationOrTokenEndpoint, UriKind.Absolute, out var endpoint) || !IsMicrosoftLogin(endpoint.Host)
            || string.IsNullOrWhiteSpace(tenant) || tenant is "common" or "organizations" or "consumers")
        {
            return null;
        }

        var scopes = scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(s => !OidcScopes.Contains(s)).ToList();
        var parameters = new Dictionary<string, string?>
        {
            ["client_id"] = clientId,
            ["scope"] = scopes.Count == 0 ? "https://graph.microsoft.com/.default" : string.Join(' ', scopes),
            ["redirect_uri"] = returnTo,
        };
        return Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(
            $"{endpoint.Scheme}://{endpoint.Authority}/{Uri.EscapeDataString(tenant.Trim())}/v2.0/adminconsent", parameters);
    }

    /// <summary>The link for an OIDC profile's discovery URL (https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration).</summary>
    public static string? FromDiscovery(string discoveryDocument, string clientId, string scope, string returnTo) =>
        Uri.TryCreate(discoveryDocument, UriKind.Absolute, out var url) && url.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries) is { Length: > 0 } segments
            ? Link(discoveryDocument, Uri.UnescapeDataString(segments[0]), clientId, scope, returnTo)
            : null;

    private static bool IsMicrosoftLogin(string host) =>
        host is "login.microsoftonline.com" or "login.microsoftonline.us" or "login.partner.microsoftonline.cn" or "login.chinacloudapi.cn";
}
