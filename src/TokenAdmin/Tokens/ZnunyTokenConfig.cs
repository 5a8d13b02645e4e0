using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Serialization;

namespace TokenAdmin.Tokens;

/// <summary>
/// One entry of a Znuny 6.4–7.x token config export (Admin → OAuth2 Token Administration → Export): a YAML list of
/// these. The keys are Znuny's; the client secret is in plain text there.
/// </summary>
public sealed class ZnunyTokenConfig
{
    [YamlMember(Alias = "ID", ApplyNamingConventions = false)]
    public string? Id { get; set; }

    [YamlMember(Alias = "Name", ApplyNamingConventions = false)]
    public string? Name { get; set; }

    [YamlMember(Alias = "Config", ApplyNamingConventions = false)]
    public ZnunyConfig? Config { get; set; }

    /// <summary>1 = valid; 2 (invalid) and 3 (invalid-temporarily) are invalid.</summary>
    [YamlMember(Alias = "ValidID", ApplyNamingConventions = false)]
    public string? ValidId { get; set; }

    // Note: read so they are not unknown keys, then ignored: the import is the new creation.
    [YamlMember(Alias = "CreateTime", ApplyNamingConventions = false)]
    public string? CreateTime { get; set; }

    [YamlMember(Alias = "CreateBy", ApplyNamingConventions = false)]
    public string? CreateBy { get; set; }

    [YamlMember(Alias = "ChangeTime", ApplyNamingConventions = false)]
    public string? ChangeTime { get; set; }

    [YamlMember(Alias = "ChangeBy", ApplyNamingConventions = false)]
    public string? ChangeBy { get; set; }
}

public sealed class ZnunyConfig
{
    [YamlMember(Alias = "AuthFlow", ApplyNamingConventions = false)]
    public string? AuthFlow { get; set; }

    [YamlMember(Alias = "ClientID", ApplyNamingConventions = false)]
    public string? ClientId { get; set; }

    [YamlMember(Alias = "ClientSecret", ApplyNamingConventions = false)]
    public string? ClientSecret { get; set; }

    [YamlMember(Alias = "Scope", ApplyNamingConventions = false)]
    public string? Scope { get; set; }

    [YamlMember(Alias = "TemplateName", ApplyNamingConventions = false)]
    public string? TemplateName { get; set; }

    [YamlMember(Alias = "Notifications", ApplyNamingConventions = false)]
    public ZnunyNotifications? Notifications { get; set; }

    [YamlMember(Alias = "Requests", ApplyNamingConventions = false)]
    public ZnunyRequests? Requests { get; set; }
}

public sealed class ZnunyNotifications
{
    [YamlMember(Alias = "NotifyOnExpiredToken", ApplyNamingConventions = false)]
    public string? NotifyOnExpiredToken { get; set; }

    [YamlMember(Alias = "NotifyOnExpiredRefreshToken", ApplyNamingConventions = false)]
    public string? NotifyOnExpiredRefreshToken { get; set; }
}

public sealed class ZnunyRequests
{
    [YamlMember(Alias = "AuthorizationCode", ApplyNamingConventions = false)]
    public ZnunyRequestStep? AuthorizationCode { get; set; }

    [YamlMember(Alias = "TokenByAuthorizationCode", ApplyNamingConventions = false)]
    public ZnunyRequestStep? TokenByAuthorizationCode { get; set; }

    [YamlMember(Alias = "TokenByRefreshToken", ApplyNamingConventions = false)]
    public ZnunyRequestStep? TokenByRefreshToken { get; set; }

    [YamlMember(Alias = "TokenByClientCredentials", ApplyNamingConventions = false)]
    public ZnunyRequestStep? TokenByClientCredentials { get; set; }
}

public sealed class ZnunyRequestStep
{
    [YamlMember(Alias = "Request", ApplyNamingConventions = false)]
    public ZnunyRequest? Request { get; set; }

    /// <summary>How Znuny reads the provider's answer (ParametersMapping); TokenAdmin reads standard answers itself.</summary>
    [YamlMember(Alias = "Response", ApplyNamingConventions = false)]
    public object? Response { get; set; }
}

public sealed class ZnunyRequest
{
    [YamlMember(Alias = "Method", ApplyNamingConventions = false)]
    public string? Method { get; set; }

    [YamlMember(Alias = "URL", ApplyNamingConventions = false)]
    public string? Url { get; set; }

    [YamlMember(Alias = "Parameters", ApplyNamingConventions = false)]
    public Dictionary<string, string?>? Parameters { get; set; }

    /// <summary>Znuny field → request parameter it fills in (ClientID: client_id); those parameters are Znuny's own.</summary>
    [YamlMember(Alias = "AutofilledParametersMapping", ApplyNamingConventions = false)]
    public Dictionary<string, string?>? AutofilledParametersMapping { get; set; }
}

/// <summary>Turns a Znuny token config into a TokenAdmin document, starting from the matching template.</summary>
internal static partial class ZnunyTokenConfigMapper
{
    private const string MicrosoftLogin = "login.microsoftonline.com";

    /// <summary>
    /// Parameters TokenAdmin sends itself in every flow. Znuny lists some of them among a request's parameters;
    /// they are dropped rather than refused, because they are how Znuny works, not a choice of the admin.
    /// </summary>
    private static readonly HashSet<string> SetByTokenAdmin = new(StringComparer.OrdinalIgnoreCase)
    {
        "client_id", "client_secret", "redirect_uri", "response_type", "scope", "state", "grant_type", "code",
        "refresh_token", "code_challenge", "code_challenge_method", "code_verifier", "nonce", "username", "password",
    };

    public static (TokenConfigDocument? Document, TokenConfigSecrets Secrets, List<string> Errors) Map(ZnunyTokenConfig entry)
    {
        var errors = new List<string>();
        var secrets = new TokenConfigSecrets();
        if (entry.Config is not { } config)
        {
            errors.Add("Config is missing: a Znuny token config has Name, Config (ClientID, ClientSecret, Scope, TemplateName, Requests) and ValidID.");
            return (null, secrets, errors);
        }

        var requests = config.Requests ?? new ZnunyRequests();
        string flow;
        switch (config.AuthFlow?.Trim())
        {
            case null or "":
                // Before 7.2 Znuny had no AuthFlow: a config with only the client credentials request is one.
                var onlyClientCredentials = requests.TokenByClientCredentials is not null && requests.AuthorizationCode is null
                    && requests.TokenByAuthorizationCode is null && requests.TokenByRefreshToken is null;
                flow = onlyClientCredentials ? TokenFlows.ClientCredentials : TokenFlows.AuthorizationCode;
                break;
            case TokenFlows.AuthorizationCode or TokenFlows.ClientCredentials:
                flow = config.AuthFlow.Trim();
                break;
            default:
                errors.Add($"AuthFlow '{config.AuthFlow}' is not known: Znuny has AuthorizationCode and ClientCredentials.");
                return (null, secrets, errors);
        }

        var template = TemplateFor(config.TemplateName, flow);
        var document = TokenTemplates.Find(template)!.NewDocument();
        var microsoft = template is TokenTemplates.MicrosoftExchangeOnline or TokenTemplates.MicrosoftExchangeOnlineAppOnly or TokenTemplates.Microsoft365ClientCredentials;
        document.Name = entry.Name?.Trim() ?? "";
        document.Flow = flow;
        document.Valid = Valid(entry.ValidId, errors);
        document.ClientId = config.ClientId?.Trim() ?? "";
        if (!string.IsNullOrWhiteSpace(config.Scope))
        {
            document.Scope = config.Scope.Trim();
        }

        document.Notifications.TokenExpired = Flag(config.Notifications?.NotifyOnExpiredToken, document.Notifications.TokenExpired, "NotifyOnExpiredToken", errors);
        document.Notifications.RefreshTokenExpired = Flag(config.Notifications?.NotifyOnExpiredRefreshToken, document.Notifications.RefreshTokenExpired, "NotifyOnExpiredRefreshToken", errors);

        var (authorization, token, refresh) = flow == TokenFlows.ClientCredentials
            ? (null, requests.TokenByClientCredentials?.Request, null)
            : (requests.AuthorizationCode?.Request, requests.TokenByAuthorizationCode?.Request, requests.TokenByRefreshToken?.Request);
        var tenants = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
        document.Endpoints.Authorization = flow == TokenFlows.ClientCredentials
            ? null
            : Endpoint(authorization?.Url, document.Endpoints.Authorization, microsoft, tenants);
        var tokenUrl = token?.Url?.Trim();
        document.Endpoints.Token = Endpoint(tokenUrl, document.Endpoints.Token, microsoft, tenants) ?? "";
        document.Endpoints.Refresh = RefreshEndpoint(refresh?.Url?.Trim(), tokenUrl, microsoft, tenants);
        if (tenants.Count > 1)
        {
            errors.Add($"The request URLs name different tenants ({string.Join(", ", tenants)}); a TokenAdmin token config has one tenant.");
        }
        else if (tenants.Count == 1)
        {
            document.Tenant = tenants.Min;
        }

        document.Parameters.Authorization = flow == TokenFlows.ClientCredentials ? [] : Parameters(document.Parameters.Authorization, authorization);
        document.Parameters.Token = Parameters(document.Parameters.Token, token);
        document.Parameters.Refresh = Parameters(document.Parameters.Refresh, refresh);

        if (!string.IsNullOrWhiteSpace(config.ClientSecret))
        {
            secrets = new TokenConfigSecrets(ClientSecret: config.ClientSecret.Trim());
        }

        return (errors.Count == 0 ? document : null, secrets, errors);
    }

    /// <summary>Znuny's template names: GoogleMail, MicrosoftExchangeOnline…, and the older MicrosoftOutlook….</summary>
    internal static string TemplateFor(string? templateName, string flow)
    {
        var name = templateName?.Trim() ?? "";
        if (name.Equals("GoogleMail", StringComparison.OrdinalIgnoreCase))
        {
            return TokenTemplates.GoogleMail;
        }

        if (name.StartsWith("MicrosoftExchangeOnline", StringComparison.OrdinalIgnoreCase) || name.StartsWith("MicrosoftOutlook", StringComparison.OrdinalIgnoreCase))
        {
            return flow == TokenFlows.ClientCredentials ? TokenTemplates.Microsoft365ClientCredentials : TokenTemplates.MicrosoftExchangeOnline;
        }

        return TokenTemplates.Custom;
    }

    /// <summary>
    /// The tenant in a Microsoft identity platform (v2.0) URL: https://login.microsoftonline.com/{tenant}/oauth2/v2.0/…
    /// Znuny's templates hard-code /common/; TokenAdmin keeps the tenant apart so it can be changed in one place.
    /// </summary>
    internal static string? MicrosoftTenant(string? url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps
            || !uri.Host.Equals(MicrosoftLogin, StringComparison.OrdinalIgnoreCase) || uri.Query.Length > 0)
        {
            return null;
        }

        var segments = uri.AbsolutePath.Trim('/').Split('/');
        return segments is [var tenant, "oauth2", "v2.0", "authorize" or "token"] && tenant.Length > 0 ? tenant : null;
    }

    private static string? Endpoint(string? url, string? templateEndpoint, bool microsoft, SortedSet<string> tenants)
    {
        url = url?.Trim();
        if (string.IsNullOrEmpty(url))
        {
            return templateEndpoint;
        }

        if (microsoft && templateEndpoint?.Contains("{tenant}", StringComparison.Ordinal) == true && MicrosoftTenant(url) is { } tenant)
        {
            tenants.Add(tenant);
            return templateEndpoint;
        }

        return url;
    }

    private static string? RefreshEndpoint(string? url, string? tokenUrl, bool microsoft, SortedSet<string> tenants)
    {
        if (string.IsNullOrEmpty(url) || url.Equals(tokenUrl, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (microsoft && url.EndsWith("/token", StringComparison.OrdinalIgnoreCase) && MicrosoftTenant(url) is { } tenant)
        {
            tenants.Add(tenant);
            return null;
        }

        return url;
    }

    /// <summary>The template's parameters, then Znuny's own, without those TokenAdmin or Znuny fill in.</summary>
    private static Dictionary<string, string> Parameters(Dictionary<string, string> template, ZnunyRequest? request)
    {
        var result = new Dictionary<string, string>(template);
        var autofilled = new HashSet<string>((request?.AutofilledParametersMapping ?? []).Values.OfType<string>(), StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in request?.Parameters ?? [])
        {
            if (SetByTokenAdmin.Contains(name) || autofilled.Contains(name) || string.IsNullOrWhiteSpace(value) || Placeholder().IsMatch(value))
            {
                continue;
            }

            result[name] = value.Trim();
        }

        return result;
    }

    private static bool Valid(string? validId, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(validId))
        {
            return true;
        }

        if (!int.TryParse(validId, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            errors.Add($"ValidID '{validId}' is not a number: 1 is valid, 2 and 3 are invalid.");
            return false;
        }

        return id == 1;
    }

    private static bool Flag(string? value, bool fallback, string key, List<string> errors)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case null:
                return fallback;
            case "1" or "true" or "yes":
                return true;
            case "0" or "false" or "no" or "":
                return false;
            default:
                errors.Add($"Notifications.{key} must be 1 or 0, not '{value}'.");
                return fallback;
        }
    }

    /// <summary>Znuny's system config placeholders, such as &lt;OTRS_CONFIG_FQDN&gt;, which mean nothing outside Znuny.</summary>
    [GeneratedRegex(@"<OTRS_[A-Za-z0-9_:]+>")]
    private static partial Regex Placeholder();
}
