using TokenAdmin.Tokens;

namespace TokenAdmin.Pages.Tokens;

/// <summary>The add/edit form of a token config. Secrets are write-only: empty keeps the stored value.</summary>
public sealed class TokenConfigInput : IClientCredentialInput, IJwtBearerInput
{
    public string Name { get; set; } = "";
    public bool Valid { get; set; } = true;
    public bool SharedThroughApi { get; set; }
    public string Flow { get; set; } = TokenFlows.AuthorizationCode;
    public string ClientId { get; set; } = "";
    public string? ClientSecret { get; set; }
    public bool ClearClientSecret { get; set; }
    public DateOnly? ClientSecretExpires { get; set; }
    public string ClientAuthentication { get; set; } = ClientAuthentications.Post;
    public string? ClientAssertionAlgorithm { get; set; }
    public string? ClientAssertionAudience { get; set; }
    public IFormFile? ClientCertificateFile { get; set; }
    public string? ClientCertificatePassword { get; set; }
    public bool ClearClientCertificate { get; set; }
    public string? Scope { get; set; }
    public string? Tenant { get; set; }
    public string? Issuer { get; set; }
    public string? DiscoveryUrl { get; set; }
    public string? AuthorizationEndpoint { get; set; }
    public string? TokenEndpoint { get; set; }
    public string? RefreshEndpoint { get; set; }
    public string? DeviceAuthorizationEndpoint { get; set; }
    public string? AuthorizationParameters { get; set; }
    public string? Prompt { get; set; }
    public string? LoginHint { get; set; }
    public string? DomainHint { get; set; }
    public string? TokenParameters { get; set; }
    public string? RefreshParameters { get; set; }
    public string? Username { get; set; }
    public string? Password { get; set; }
    public bool ClearPassword { get; set; }
    public int? RefreshTokenLifetimeDays { get; set; }
    public bool RefreshTokenSliding { get; set; }
    public bool NotifyTokenExpired { get; set; } = true;
    public bool NotifyRefreshTokenExpired { get; set; } = true;
    public int ExpiringSoonDays { get; set; } = 7;
    public int? LeadTimeSeconds { get; set; }

    // JWT bearer grant (RFC 7523 section 2.1).
    public string? AssertionSubject { get; set; }
    public IFormFile? ServiceAccountKeyFile { get; set; }
    public bool ClearServiceAccountKey { get; set; }

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
