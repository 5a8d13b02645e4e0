using System.Text.RegularExpressions;
using TokenAdmin.Settings;

namespace TokenAdmin.Tokens;

/// <summary>Checks a token config document; every problem is keyed by the YAML path of the field.</summary>
public static partial class TokenConfigValidator
{
    /// <summary>Parameters TokenAdmin sets itself; a config may not override them.</summary>
    private static readonly HashSet<string> ReservedParameters = new(StringComparer.OrdinalIgnoreCase)
    {
        "client_id", "client_secret", "redirect_uri", "response_type", "state", "code", "code_challenge",
        "code_challenge_method", "code_verifier", "nonce", "grant_type", "refresh_token", "username", "password", "scope",
        "client_assertion", "client_assertion_type", "assertion",
    };

    public static Dictionary<string, string> Validate(TokenConfigDocument doc, bool hasClientSecret, bool hasPassword, bool hasCertificate = false, string? certificateKeyType = null,
        bool hasServiceAccountKey = false)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        void Add(string field, string message) => errors.TryAdd(field, message);

        // "is required" only where nothing was given; a value given but wrong is told what is wrong with it.
        if (string.IsNullOrWhiteSpace(doc.Name))
        {
            Add("name", "Name is required.");
        }
        else if (doc.Name.Length > 100 || doc.Name.Any(char.IsControl) || doc.Name != doc.Name.Trim())
        {
            Add("name", "Name must be 1 to 100 characters, without line breaks and without spaces at either end.");
        }

        if (TokenTemplates.Find(doc.Template) is null)
        {
            Add("template", $"Unknown template '{doc.Template}'. Known: {string.Join(", ", TokenTemplates.All.Select(t => t.Id))}.");
        }

        if (!TokenFlows.All.Contains(doc.Flow))
        {
            Add("flow", $"Flow must be one of: {string.Join(", ", TokenFlows.All)}.");
        }

        // Note: the JWT bearer grant with a service-account key (Google) names no client: the assertion's iss says who asks.
        var clientIdOptional = doc.Flow == TokenFlows.JwtBearer && hasServiceAccountKey;
        if (string.IsNullOrWhiteSpace(doc.ClientId) && !clientIdOptional)
        {
            Add("clientId", "Client ID is required.");
        }
        else if (doc.ClientId.Any(char.IsWhiteSpace) || doc.ClientId.Length > 200)
        {
            Add("clientId", "Client ID must be without spaces, at most 200 characters.");
        }

        foreach (var (field, message) in doc.SignIn?.Normalized().Check() ?? [])
        {
            Add($"signIn.{field}", message);
        }

        if (doc.ClientSecretExpires is { Year: < 2000 or > 2200 } secretExpires)
        {
            Add("clientSecretExpires", $"Client secret expires on: {secretExpires:yyyy-MM-dd} is not a plausible date; enter the date the provider shows for the secret.");
        }

        if (!ClientAuthentications.All.Contains(doc.ClientAuthentication))
        {
            Add("clientAuthentication", $"Client authentication must be one of: {string.Join(", ", ClientAuthentications.All)}.");
        }
        else if (ClientAuthentications.UsesCertificate(doc.ClientAuthentication) && !hasCertificate)
        {
            Add("clientCertificate", $"Client certificate: {doc.ClientAuthentication} needs a client certificate with its private key; upload one (PEM or PFX).");
        }

        var audience = doc.ClientAssertionAudience;
        if (audience is not null && !ClientAssertion.Audiences.Contains(audience))
        {
            Add("clientAssertionAudience", $"Client assertion audience must be one of: {string.Join(", ", ClientAssertion.Audiences)}.");
        }
        else if (audience == ClientAssertion.AudienceIssuer && string.IsNullOrWhiteSpace(doc.Issuer))
        {
            Add("clientAssertionAudience", "Client assertion audience 'issuer' needs the issuer: enter it (or the discovery URL).");
        }

        if (ClientAssertion.AlgorithmProblem(doc.ClientAssertionAlgorithm, certificateKeyType) is { } algorithmProblem)
        {
            Add("clientAssertionAlgorithm", algorithmProblem);
        }

        if (doc.Scope.Length > 0 && !ScopeRegex().IsMatch(doc.Scope))
        {
            Add("scope", "Scope must be space-separated scope names without quotes or backslashes.");
        }

        var usesTenant = new[] { doc.Endpoints.Authorization, doc.Endpoints.Token, doc.Endpoints.Refresh, doc.Endpoints.DeviceAuthorization, doc.Issuer }
            .Any(u => u?.Contains("{tenant}", StringComparison.Ordinal) == true);
        if (usesTenant && string.IsNullOrWhiteSpace(doc.Tenant))
        {
            Add("tenant", "Tenant is required for these endpoints: the directory (tenant) ID, a verified domain such as contoso.com, or organizations / common / consumers.");
        }
        else if (!string.IsNullOrEmpty(doc.Tenant) && !TenantRegex().IsMatch(doc.Tenant))
        {
            Add("tenant", "Tenant must be a directory (tenant) ID or a domain name.");
        }

        if (doc.Flow == TokenFlows.ClientCredentials && usesTenant && doc.Tenant?.ToLowerInvariant() is "common" or "organizations" or "consumers")
        {
            Add("tenant", "Client credentials need your own tenant ID or domain; common, organizations and consumers only work for user sign-in.");
        }

        CheckUrl(errors, "endpoints.token", doc.Endpoints.Token, required: true, "Token endpoint");
        CheckUrl(errors, "endpoints.authorization", doc.Endpoints.Authorization, required: doc.Flow == TokenFlows.AuthorizationCode, "Authorization endpoint");
        CheckUrl(errors, "endpoints.refresh", doc.Endpoints.Refresh, required: false, "Refresh endpoint");
        CheckUrl(errors, "endpoints.deviceAuthorization", doc.Endpoints.DeviceAuthorization, required: false, "Device authorization endpoint");
        CheckUrl(errors, "issuer", doc.Issuer, required: false, "Issuer");
        CheckUrl(errors, "discoveryUrl", doc.DiscoveryUrl, required: doc.Template == TokenTemplates.Oidc, "Discovery URL");

        if (doc.Flow == TokenFlows.Password)
        {
            if (string.IsNullOrWhiteSpace(doc.Username))
            {
                Add("username", "User name is required for the password flow.");
            }

            if (!hasPassword)
            {
                Add("password", "Password is required for the password flow (the user's password).");
            }
        }

        if (doc.Flow == TokenFlows.ClientCredentials && !hasClientSecret && !hasCertificate)
        {
            Add("clientSecret", "Client secret is required for client credentials (or a client certificate with private_key_jwt or tls_client_auth).");
        }

        // JWT bearer grant (RFC 7523 section 2.1).
        if (doc.Flow == TokenFlows.JwtBearer && !hasServiceAccountKey && !hasCertificate)
        {
            Add("serviceAccountKey", "Service account key: the JWT bearer flow needs the service account's JSON key file (or a client certificate) to sign its assertion; upload one.");
        }

        if (doc.AssertionSubject is { } subject && (subject.Length is 0 or > 320 || subject.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))))
        {
            Add("assertionSubject", "Mailbox to act as: one address or user name without spaces, at most 320 characters.");
        }

        CheckParameters(errors, "parameters.authorization", doc.Parameters.Authorization);
        CheckParameters(errors, "parameters.token", doc.Parameters.Token);
        CheckParameters(errors, "parameters.refresh", doc.Parameters.Refresh);

        if (doc.RefreshToken.LifetimeDays is < 1 or > 3650)
        {
            Add("refreshToken.lifetimeDays", "Refresh token lifetime must be 1 to 3650 days, or left out when unknown.");
        }

        if (doc.LeadTimeSeconds is < 0 or > 3600)
        {
            Add("leadTimeSeconds", "Lead time must be 0 to 3600 seconds, or left out for the default of 60.");
        }

        if (doc.Notifications.ExpiringSoonDays is < 0 or > 365)
        {
            Add("notifications.expiringSoonDays", "Expiring-soon warning must be 0 to 365 days (0 = no warning).");
        }

        return errors;
    }

    /// <summary>The discovery URL's problem, if any: checked before TokenAdmin fetches it, so a bad URL is never called.</summary>
    public static string? DiscoveryUrlProblem(TokenConfigDocument doc)
    {
        var errors = new Dictionary<string, string>();
        CheckUrl(errors, "discoveryUrl", doc.DiscoveryUrl, required: doc.Template == TokenTemplates.Oidc, "Discovery URL");
        return errors.GetValueOrDefault("discoveryUrl");
    }

    private static void CheckUrl(Dictionary<string, string> errors, string field, string? value, bool required, string label)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required)
            {
                errors.TryAdd(field, $"{label} is required.");
            }

            return;
        }

        var candidate = value.Replace("{tenant}", "tenant", StringComparison.Ordinal);
        if (!Uri.TryCreate(candidate, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
        {
            errors.TryAdd(field, $"{label} must be an absolute https URL without #fragment, for example https://login.example.com/oauth2/token.");
        }
        else if (uri.Scheme == "http" && !Loopback.IsLoopback(uri))
        {
            errors.TryAdd(field, $"{label} must use https: tokens and secrets would cross the network unencrypted (http is accepted only for localhost).");
        }
    }

    private static void CheckParameters(Dictionary<string, string> errors, string field, Dictionary<string, string>? parameters)
    {
        foreach (var (key, value) in parameters ?? [])
        {
            if (string.IsNullOrWhiteSpace(key) || !ParameterNameRegex().IsMatch(key))
            {
                errors.TryAdd(field, $"Parameter name '{key}' is not valid: use letters, digits, _ - . only.");
            }
            else if (ReservedParameters.Contains(key))
            {
                errors.TryAdd(field, $"Parameter '{key}' is set by TokenAdmin itself and cannot be given here.");
            }
            else if (value is null || value.Length > 2000)
            {
                errors.TryAdd(field, $"Parameter '{key}' needs a value of at most 2000 characters.");
            }
        }
    }

    [GeneratedRegex(@"^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$")]
    private static partial Regex ScopeRegex();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9.\-]{0,253}$")]
    private static partial Regex TenantRegex();

    [GeneratedRegex(@"^[A-Za-z0-9_.\-]{1,100}$")]
    private static partial Regex ParameterNameRegex();
}
