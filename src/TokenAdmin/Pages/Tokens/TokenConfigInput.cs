using System.ComponentModel.DataAnnotations;
using TokenAdmin.Tokens;

namespace TokenAdmin.Pages.Tokens;

/// <summary>The add/edit form of a token config. Secrets are write-only: empty keeps the stored value.</summary>
public sealed class TokenConfigInput : IClientCredentialInput, IJwtBearerInput
{
    [Required(ErrorMessage = "{0} is required.")]
    [Display(Name = "Name")]
    public string Name { get; set; } = "";
    [Display(Name = "Valid (usable by mail accounts and web services)")]
    public bool Valid { get; set; } = true;
    [Display(Name = "Share through the API (callers with the tokens.broker role may fetch its access token)")]
    public bool SharedThroughApi { get; set; }
    [Display(Name = "Flow")]
    public string Flow { get; set; } = TokenFlows.AuthorizationCode;
    [Display(Name = "Client ID")]
    public string ClientId { get; set; } = "";
    [Display(Name = "Client secret")]
    public string? ClientSecret { get; set; }
    [Display(Name = "Remove the stored client secret (public client)")]
    public bool ClearClientSecret { get; set; }
    [Display(Name = "Client secret expires on")]
    public DateOnly? ClientSecretExpires { get; set; }
    [Display(Name = "Client authentication")]
    public string ClientAuthentication { get; set; } = ClientAuthentications.Post;
    [Display(Name = "Signing algorithm")]
    public string? ClientAssertionAlgorithm { get; set; }
    [Display(Name = "Audience of the client assertion")]
    public string? ClientAssertionAudience { get; set; }
    [Display(Name = "Client certificate")]
    public IFormFile? ClientCertificateFile { get; set; }
    [Display(Name = "Certificate password")]
    public string? ClientCertificatePassword { get; set; }
    [Display(Name = "Remove the stored client certificate")]
    public bool ClearClientCertificate { get; set; }
    [Display(Name = "Scope")]
    public string? Scope { get; set; }
    [Display(Name = "Tenant")]
    public string? Tenant { get; set; }
    [Display(Name = "Issuer")]
    public string? Issuer { get; set; }
    [Display(Name = "Discovery URL")]
    public string? DiscoveryUrl { get; set; }
    [Display(Name = "Authorization endpoint")]
    public string? AuthorizationEndpoint { get; set; }
    [Display(Name = "Token endpoint")]
    public string? TokenEndpoint { get; set; }
    [Display(Name = "Refresh endpoint")]
    public string? RefreshEndpoint { get; set; }
    [Display(Name = "Device authorization endpoint")]
    public string? DeviceAuthorizationEndpoint { get; set; }
    [Display(Name = "Extra authorization parameters")]
    public string? AuthorizationParameters { get; set; }
    [Display(Name = "Prompt")]
    public string? Prompt { get; set; }
    [Display(Name = "Login hint")]
    public string? LoginHint { get; set; }
    [Display(Name = "Domain hint")]
    public string? DomainHint { get; set; }
    [Display(Name = "Extra token request parameters")]
    public string? TokenParameters { get; set; }
    [Display(Name = "Extra refresh request parameters")]
    public string? RefreshParameters { get; set; }
    [Display(Name = "User name")]
    public string? Username { get; set; }
    [Display(Name = "Password")]
    public string? Password { get; set; }
    [Display(Name = "Remove the stored password")]
    public bool ClearPassword { get; set; }
    [Display(Name = "Refresh token lifetime (days)")]
    public int? RefreshTokenLifetimeDays { get; set; }
    [Display(Name = "Sliding lifetime (each use starts it again)")]
    public bool RefreshTokenSliding { get; set; }
    [Display(Name = "Banner when the token has expired")]
    public bool NotifyTokenExpired { get; set; } = true;
    [Display(Name = "Banner when the refresh token has expired or was revoked")]
    public bool NotifyRefreshTokenExpired { get; set; } = true;
    [Display(Name = "Expiring-soon warning (days)")]
    public int ExpiringSoonDays { get; set; } = 7;
    [Display(Name = "Lead time (seconds)")]
    public int? LeadTimeSeconds { get; set; }

    // JWT bearer grant (RFC 7523 section 2.1).
    [Display(Name = "Mailbox to act as")]
    public string? AssertionSubject { get; set; }
    [Display(Name = "Service account key (JSON)")]
    public IFormFile? ServiceAccountKeyFile { get; set; }
    [Display(Name = "Remove the stored service account key")]
    public bool ClearServiceAccountKey { get; set; }

    /// <summary>
    /// The form field of a message of the validator or the service, which key it by the YAML path
    /// ("endpoints.token"): the input property it belongs to, "" for the whole form.
    /// </summary>
    public static string FieldOf(string key) => key switch
    {
        "" or "template" => "",
        "endpoints.authorization" => nameof(AuthorizationEndpoint),
        "endpoints.token" => nameof(TokenEndpoint),
        "endpoints.refresh" => nameof(RefreshEndpoint),
        "endpoints.deviceAuthorization" => nameof(DeviceAuthorizationEndpoint),
        "parameters.authorization" => nameof(AuthorizationParameters),
        "parameters.token" => nameof(TokenParameters),
        "parameters.refresh" => nameof(RefreshParameters),
        "signIn.prompt" => nameof(Prompt),
        "signIn.loginHint" => nameof(LoginHint),
        "signIn.domainHint" => nameof(DomainHint),
        "refreshToken.lifetimeDays" => nameof(RefreshTokenLifetimeDays),
        "refreshToken.sliding" => nameof(RefreshTokenSliding),
        "notifications.expiringSoonDays" => nameof(ExpiringSoonDays),
        "clientCertificate" => nameof(ClientCertificateFile),
        "serviceAccountKey" => nameof(ServiceAccountKeyFile),
        _ when key.Contains('.', StringComparison.Ordinal) => "",
        _ => char.ToUpperInvariant(key[0]) + key[1..],
    };

    public static TokenConfigInput From(TokenConfigDocument d) => new()
    {
        Name = d.Name, Valid = d.Valid, SharedThroughApi = d.SharedThroughApi, Flow = d.Flow, ClientId = d.ClientId, ClientSecretExpires = d.ClientSecretExpires, ClientAuthentication = d.ClientAuthentication, ClientAssertionAlgorithm = d.ClientAssertionAlgorithm, ClientAssertionAudience = d.ClientAssertionAudience, Scope = d.Scope,
        Tenant = d.Tenant, Issuer = d.Issuer, DiscoveryUrl = d.DiscoveryUrl, AuthorizationEndpoint = d.Endpoints.Authorization,
        TokenEndpoint = d.Endpoints.Token, RefreshEndpoint = d.Endpoints.Refresh, DeviceAuthorizationEndpoint = d.Endpoints.DeviceAuthorization, Username = d.Username,
        Prompt = d.SignIn?.Prompt, LoginHint = d.SignIn?.LoginHint, DomainHint = d.SignIn?.DomainHint,
        AuthorizationParameters = Lines(d.Parameters.Authorization), TokenParameters = Lines(d.Parameters.Token), RefreshParameters = Lines(d.Parameters.Refresh),
        RefreshTokenLifetimeDays = d.RefreshToken.LifetimeDays, RefreshTokenSliding = d.RefreshToken.Sliding,
        NotifyTokenExpired = d.Notifications.TokenExpired, NotifyRefreshTokenExpired = d.Notifications.RefreshTokenExpired,
        ExpiringSoonDays = d.Notifications.ExpiringSoonDays, LeadTimeSeconds = d.LeadTimeSeconds,
        AssertionSubject = d.AssertionSubject,
    };

    /// <summary>The document this form describes; parameter lines that are not key=value land in <paramref name="errors"/>.</summary>
    public TokenConfigDocument ToDocument(string template, Dictionary<string, string> errors) => new()
    {
        Name = Name ?? "", Template = template, Valid = Valid, SharedThroughApi = SharedThroughApi, Flow = Flow ?? "", ClientId = ClientId ?? "", ClientSecretExpires = ClientSecretExpires, ClientAuthentication = ClientAuthentication ?? "",
        ClientAssertionAlgorithm = string.IsNullOrWhiteSpace(ClientAssertionAlgorithm) ? null : ClientAssertionAlgorithm.Trim(),
        ClientAssertionAudience = string.IsNullOrWhiteSpace(ClientAssertionAudience) || ClientAssertionAudience == ClientAssertion.AudienceTokenEndpoint ? null : ClientAssertionAudience.Trim(),
        Scope = Scope ?? "", Tenant = Tenant, Issuer = Issuer, DiscoveryUrl = DiscoveryUrl, Username = Username, LeadTimeSeconds = LeadTimeSeconds,
        AssertionSubject = AssertionSubject,
        Endpoints = new TokenEndpoints { Authorization = AuthorizationEndpoint, Token = TokenEndpoint ?? "", Refresh = RefreshEndpoint, DeviceAuthorization = string.IsNullOrWhiteSpace(DeviceAuthorizationEndpoint) ? null : DeviceAuthorizationEndpoint.Trim() },
        SignIn = new SignInOptions { Prompt = Prompt, LoginHint = LoginHint, DomainHint = DomainHint }.Normalized() is var signIn && !signIn.IsEmpty() ? signIn : null,
        Parameters = new RequestParameters
        {
            Authorization = Parse(AuthorizationParameters, "parameters.authorization", errors),
            Token = Parse(TokenParameters, "parameters.token", errors),
            Refresh = Parse(RefreshParameters, "parameters.refresh", errors),
        },
        RefreshToken = new RefreshTokenPolicy { LifetimeDays = RefreshTokenLifetimeDays, Sliding = RefreshTokenSliding },
        Notifications = new TokenNotifications { TokenExpired = NotifyTokenExpired, RefreshTokenExpired = NotifyRefreshTokenExpired, ExpiringSoonDays = ExpiringSoonDays },
    };

    public async Task<TokenConfigSecrets> SecretsAsync(CancellationToken cancellationToken) => new(ClientSecret, Password, ClearClientSecret, ClearPassword)
    {
        Certificate = await ClientCredentialInputs.UploadAsync(this, cancellationToken),
        ClearCertificate = ClearClientCertificate,
        ServiceAccountKeyFile = await JwtBearerGrant.UploadAsync(this, cancellationToken),
        ClearServiceAccountKey = ClearServiceAccountKey,
    };

    /// <summary>Empties the write-only fields before the form is shown again.</summary>
    public void ForgetSecrets()
    {
        ClientSecret = null;
        Password = null;
        ClientCredentialInputs.Forget(this);
        ServiceAccountKeyFile = null;
    }

    private static string Lines(Dictionary<string, string> parameters) => string.Join("\n", parameters.Select(p => $"{p.Key}={p.Value}"));

    private static Dictionary<string, string> Parse(string? text, string field, Dictionary<string, string> errors)
    {
        var result = new Dictionary<string, string>();
        foreach (var line in (text ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                errors.TryAdd(field, $"'{line}' is not key=value; write one parameter per line, for example prompt=consent.");
                continue;
            }

            result[line[..eq].Trim()] = line[(eq + 1)..].Trim();
        }

        return result;
    }
}
