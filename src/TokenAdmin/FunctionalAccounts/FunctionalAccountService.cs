using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Admin;
using TokenAdmin.Data;
using TokenAdmin.Secrets;
using TokenAdmin.Tokens;

namespace TokenAdmin.FunctionalAccounts;

/// <summary>What an admin enters for a functional account. The password is write-only: empty keeps the stored one.</summary>
public sealed class FunctionalAccountInput : IClientCredentialInput, IJwtBearerInput
{
    [Required(ErrorMessage = "{0} is required.")]
    [Display(Name = "Account name")]
    public string Name { get; set; } = "";
    [Display(Name = "OIDC profile")]
    public int? OidcProfileId { get; set; }
    [Display(Name = "Grant type")]
    public string GrantType { get; set; } = AccountGrantTypes.ClientCredentials;
    [Display(Name = "Scope")]
    public string Scope { get; set; } = FunctionalAccountDefaults.Scope;
    [Display(Name = "User name")]
    public string? Username { get; set; }
    [Display(Name = "Password")]
    public string? Password { get; set; }
    [Display(Name = "Remove the stored password")]
    public bool ClearPassword { get; set; }
    [Display(Name = "Resources")]
    public string? Resources { get; set; }
    [Display(Name = "Resource parameter name")]
    public string ResourceParameterName { get; set; } = FunctionalAccountDefaults.ResourceParameterName;
    [Display(Name = "Send resources")]
    public bool ResourcePerParameter { get; set; } = true;
    [Display(Name = "Token type handed out")]
    public string TokenType { get; set; } = AccountTokenTypes.AccessToken;
    [Display(Name = "Refresh token lifetime (days)")]
    public int? RefreshTokenLifetimeDays { get; set; }
    [Display(Name = "The lifetime starts again with each use (sliding): the updater uses an idle refresh token before it expires")]
    public bool RefreshTokenSliding { get; set; }
    [Display(Name = "Valid")]
    public bool Valid { get; set; } = true;
    [Display(Name = "Share through the API (callers with the tokens.broker role may fetch its token)")]
    public bool SharedThroughApi { get; set; }
    public string? Version { get; set; }
    [Display(Name = "Client authentication")]
    public string ClientAuthentication { get; set; } = ClientAuthentications.Automatic;
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

    // JWT bearer grant (RFC 7523 section 2.1).
    [Display(Name = "Mailbox to act as")]
    public string? AssertionSubject { get; set; }
    [Display(Name = "Service account key (JSON)")]
    public IFormFile? ServiceAccountKeyFile { get; set; }
    [Display(Name = "Remove the stored service account key")]
    public bool ClearServiceAccountKey { get; set; }
    // Consent and sign-in (authorization code): set fields win over nothing else here, accounts have no extra parameters.
    [Display(Name = "Prompt")]
    public string? Prompt { get; set; }
    [Display(Name = "Login hint")]
    public string? LoginHint { get; set; }
    [Display(Name = "Domain hint")]
    public string? DomainHint { get; set; }

    /// <summary>The form field of a message of <see cref="FunctionalAccountService"/> ("" for the whole form).</summary>
    public static string FieldOf(string key) => key switch
    {
        "ClientCertificate" => nameof(ClientCertificateFile),
        "ServiceAccountKey" => nameof(ServiceAccountKeyFile),
        _ => key,
    };

    public static FunctionalAccountInput From(FunctionalAccount a) => new()
    {
        AssertionSubject = a.AssertionSubject,
        Name = a.Name, OidcProfileId = a.OidcProfileId, GrantType = a.GrantType, Scope = a.Scope, Username = a.Username,
        Resources = a.Resources, ResourceParameterName = a.ResourceParameterName, ResourcePerParameter = a.ResourcePerParameter,
        TokenType = a.TokenType, RefreshTokenLifetimeDays = a.RefreshTokenLifetimeDays, RefreshTokenSliding = a.RefreshTokenSliding, Valid = a.Valid, SharedThroughApi = a.SharedThroughApi, Version = a.Version,
        ClientAuthentication = a.ClientAuthentication, ClientAssertionAlgorithm = a.ClientAssertionAlgorithm, ClientAssertionAudience = a.ClientAssertionAudience,
        Prompt = a.SignIn.Prompt, LoginHint = a.SignIn.LoginHint, DomainHint = a.SignIn.DomainHint,
    };
}

public sealed record FunctionalAccountSaveResult(Dictionary<string, string> Errors, FunctionalAccount? Account = null)
{
    public bool Succeeded => Errors.Count == 0;
}

/// <summary>Creates, changes and deletes functional accounts: validated, audited, the password encrypted; deletion refused while in use.</summary>
public sealed class FunctionalAccountService(
    TokenAdminDb db, ISecretProtector protector, Oidc.OidcProfileRuntime profiles, IEnumerable<ITokenSourceUsage> usages, TokenStateEvents events, TimeProvider time)
{
    public Task<List<FunctionalAccount>> ListAsync(CancellationToken cancellationToken) =>
        db.FunctionalAccounts.AsNoTracking().Include(a => a.Profile).Include(a => a.State).OrderBy(a => a.NormalizedName).ToListAsync(cancellationToken);

    public Task<FunctionalAccount?> FindAsync(int id, CancellationToken cancellationToken) =>
        db.FunctionalAccounts.Include(a => a.Profile).Include(a => a.State).SingleOrDefaultAsync(a => a.Id == id, cancellationToken);

    public Task<FunctionalAccount?> FindByNameAsync(string name, CancellationToken cancellationToken) =>
        db.FunctionalAccounts.Include(a => a.Profile).Include(a => a.State).SingleOrDefaultAsync(a => a.NormalizedName == FunctionalAccount.Normalize(name), cancellationToken);

    public async Task<FunctionalAccountSaveResult> CreateAsync(FunctionalAccountInput input, string actor, CancellationToken cancellationToken)
    {
        var account = new FunctionalAccount();
        var errors = await ApplyAsync(account, input, cancellationToken);
        if (errors.Count > 0)
        {
            return new FunctionalAccountSaveResult(errors);
        }

        var now = time.GetUtcNow().UtcDateTime;
        account.CreatedAt = account.ChangedAt = now;
        account.CreatedBy = account.ChangedBy = actor;
        db.FunctionalAccounts.Add(account);
        AuditLog.Add(db, time, actor, "functional-account.created", account.Name, $"grant {account.GrantType}, token {account.TokenType}{(account.SharedThroughApi ? ", shared through the API" : "")}");
        await db.SaveChangesAsync(cancellationToken);
        return new FunctionalAccountSaveResult(errors, account);
    }

    public async Task<FunctionalAccountSaveResult> UpdateAsync(int id, FunctionalAccountInput input, string actor, CancellationToken cancellationToken)
    {
        var account = await FindAsync(id, cancellationToken);
        if (account is null)
        {
            return new FunctionalAccountSaveResult(new() { [""] = "This functional account no longer exists." });
        }

        if (input.Version is not null && input.Version != account.Version)
        {
            return new FunctionalAccountSaveResult(new() { [""] = $"'{account.Name}' was changed by {account.ChangedBy} at {account.ChangedAt:yyyy-MM-dd HH:mm:ss} UTC while you edited it. Reload the page and make your change again." });
        }

        var sharedBefore = account.SharedThroughApi;
        var grantBefore = (account.OidcProfileId, account.GrantType, account.Scope, account.Username, account.Resources, account.ResourceParameterName, account.ResourcePerParameter, account.AssertionSubject, account.ServiceAccountKey.PrivateKeyId);
        var errors = await ApplyAsync(account, input, cancellationToken);
        if (errors.Count > 0)
        {
            db.ChangeTracker.Clear();
            return new FunctionalAccountSaveResult(errors);
        }

        var grantChanged = grantBefore != (account.OidcProfileId, account.GrantType, account.Scope, account.Username, account.Resources, account.ResourceParameterName, account.ResourcePerParameter, account.AssertionSubject, account.ServiceAccountKey.PrivateKeyId)
            || input.Password is { Length: > 0 } || input.ClearPassword;
        if (grantChanged && account.State is { } state)
        {
            // Tokens got for another profile, grant or scope are not this account's any more.
            db.TokenStates.Remove(state);
            account.State = null;
        }

        account.ChangedAt = time.GetUtcNow().UtcDateTime;
        account.ChangedBy = actor;
        var details = new List<string>();
        if (grantChanged)
        {
            details.Add("grant changed: stored tokens dropped");
        }

        if (input.ClientCertificateFile is { Length: > 0 } || input.ClearClientCertificate)
        {
            details.Add(input.ClientCertificateFile is { Length: > 0 } ? $"client certificate changed ({account.Certificate.Thumbprint})" : "client certificate removed");
        }

        if (input.ServiceAccountKeyFile is { Length: > 0 } || input.ClearServiceAccountKey)
        {
            details.Add(input.ServiceAccountKeyFile is { Length: > 0 } ? $"service account key changed ({account.ServiceAccountKey.ClientEmail}, {account.ServiceAccountKey.PrivateKeyId})" : "service account key removed");
        }

        if (sharedBefore != account.SharedThroughApi)
        {
            details.Add(account.SharedThroughApi ? "shared through the API" : "no longer shared through the API");
        }

        AuditLog.Add(db, time, actor, "functional-account.changed", account.Name, string.Join("; ", details));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            return new FunctionalAccountSaveResult(new() { [""] = "The account was changed meanwhile by someone else. Reload the page and make your change again." });
        }

        events.AccountTokensChanged(account.Id);
        return new FunctionalAccountSaveResult(errors, account);
    }

    /// <summary>
    /// Every problem of the input, nothing saved: the form shows them together with the fields the binder could not
    /// read, so that all mistakes show at once.
    /// </summary>
    public async Task<FunctionalAccountSaveResult> ValidateAsync(int? id, FunctionalAccountInput input, CancellationToken cancellationToken)
    {
        var account = id is null ? new FunctionalAccount() : await FindAsync(id.Value, cancellationToken);
        if (account is null)
        {
            return new FunctionalAccountSaveResult(new() { [""] = "This functional account no longer exists." });
        }

        var errors = await ApplyAsync(account, input, cancellationToken);
        db.ChangeTracker.Clear();
        return new FunctionalAccountSaveResult(errors);
    }

    /// <summary>What still uses the account (mail accounts, web services): shown on its delete page before the button.</summary>
    public async Task<IReadOnlyList<string>> UsesAsync(int id, CancellationToken cancellationToken)
    {
        var uses = new List<string>();
        foreach (var usage in usages)
        {
            uses.AddRange(await usage.FindUsesAsync(TokenSource.Account(id), cancellationToken));
        }

        return uses;
    }

    public async Task<string?> DeleteAsync(int id, string actor, CancellationToken cancellationToken)
    {
        var account = await FindAsync(id, cancellationToken);
        if (account is null)
        {
            return "This functional account no longer exists.";
        }

        var uses = new List<string>();
        foreach (var usage in usages)
        {
            uses.AddRange(await usage.FindUsesAsync(TokenSource.Account(id), cancellationToken));
        }

        if (uses.Count > 0)
        {
            return $"'{account.Name}' is in use by {string.Join(", ", uses.Take(10))}{(uses.Count > 10 ? $" and {uses.Count - 10} more" : "")}. Change those first.";
        }

        db.FunctionalAccounts.Remove(account);
        AuditLog.Add(db, time, actor, "functional-account.deleted", account.Name);
        await db.SaveChangesAsync(cancellationToken);
        events.AccountTokensChanged(id);
        return null;
    }

    /// <summary>
    /// The grant checked against the grant types the provider's discovery document lists. A provider that cannot be
    /// reached now is not held against the account: Renew will say what is wrong.
    /// </summary>
    private async Task<string?> UnsupportedGrantAsync(int profileId, string grantType, CancellationToken cancellationToken)
    {
        var profile = await db.OidcProfiles.AsNoTracking().SingleAsync(p => p.Id == profileId, cancellationToken);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            var supported = (await profiles.MetadataFor(profile).GetAsync(timeout.Token)).GrantTypesSupported;
            return supported.Count == 0 || supported.Contains(AccountGrantTypes.OAuthName(grantType))
                ? null
                : $"Grant type: the provider of profile '{profile.Name}' does not offer {AccountGrantTypes.OAuthName(grantType)}; its discovery document lists {string.Join(", ", supported)}.";
        }
        catch (Exception ex) when (ex is InvalidOperationException or Oidc.ProfileTlsException or OperationCanceledException or SecretUnreadableException
            && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private async Task<Dictionary<string, string>> ApplyAsync(FunctionalAccount account, FunctionalAccountInput input, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        var name = input.Name?.Trim() ?? "";
        if (name.Length == 0)
        {
            errors[nameof(input.Name)] = "Account name is required.";
        }
        else if (name.Length > 200)
        {
            errors[nameof(input.Name)] = "Account name: at most 200 characters.";
        }
        else if (name.Any(char.IsControl))
        {
            errors[nameof(input.Name)] = "Account name: no control characters (line breaks, tabs, escapes).";
        }
        else if (await db.FunctionalAccounts.AnyAsync(a => a.NormalizedName == FunctionalAccount.Normalize(name) && a.Id != account.Id, cancellationToken))
        {
            errors[nameof(input.Name)] = $"Account name: an account named '{name}' exists already.";
        }

        if (input.OidcProfileId is not { } profileId || !await db.OidcProfiles.AnyAsync(p => p.Id == profileId, cancellationToken))
        {
            errors[nameof(input.OidcProfileId)] = input.OidcProfileId is null
                ? "OIDC profile is required: choose one (add one under OIDC profiles first)."
                : "OIDC profile: the chosen profile no longer exists; choose another.";
        }

        if (!AccountGrantTypes.All.Contains(input.GrantType))
        {
            errors[nameof(input.GrantType)] = $"Grant type: one of {string.Join(", ", AccountGrantTypes.All)}.";
        }

        if (!AccountTokenTypes.All.Contains(input.TokenType))
        {
            errors[nameof(input.TokenType)] = $"Token type: one of {string.Join(", ", AccountTokenTypes.All)}.";
        }

        var scope = string.Join(' ', (input.Scope ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        if (scope.Length > 2000 || scope.Any(c => c is '"' or '\\' || char.IsControl(c)))
        {
            errors[nameof(input.Scope)] = "Scope: space-separated scope names (no quotes or backslashes), at most 2000 characters.";
        }
        else if (input.TokenType == AccountTokenTypes.IdToken && !scope.Split(' ').Contains("openid"))
        {
            errors[nameof(input.Scope)] = "Scope: an account that hands out ID tokens needs the scope openid.";
        }

        var signIn = new SignInOptions { Prompt = input.Prompt, LoginHint = input.LoginHint, DomainHint = input.DomainHint }.Normalized();
        foreach (var (field, message) in signIn.Check())
        {
            errors[char.ToUpperInvariant(field[0]) + field[1..]] = message;
        }

        var username = input.Username?.Trim();
        var hasPassword = input.Password is { Length: > 0 } || (!input.ClearPassword && account.PasswordProtected is not null);
        if (input.GrantType == AccountGrantTypes.Password)
        {
            if (string.IsNullOrEmpty(username))
            {
                errors[nameof(input.Username)] = "User name is required for the password grant.";
            }

            if (!hasPassword)
            {
                errors[nameof(input.Password)] = "Password is required for the password grant.";
            }
        }

        if (input.RefreshTokenLifetimeDays is < 1 or > 3650)
        {
            errors[nameof(input.RefreshTokenLifetimeDays)] = "Refresh token lifetime: a number of days from 1 to 3650, or empty when unknown.";
        }
        else if (input.RefreshTokenSliding && input.RefreshTokenLifetimeDays is null)
        {
            errors[nameof(input.RefreshTokenLifetimeDays)] = "Refresh token lifetime is required when the lifetime slides (starts again with each use).";
        }

        var resources = (input.Resources ?? "").Split([' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (resources.Any(r => !Uri.TryCreate(r, UriKind.Absolute, out _)))
        {
            errors[nameof(input.Resources)] = "Resources: space-separated absolute URIs (for example api://my-api or https://graph.microsoft.com).";
        }

        var parameterName = input.ResourceParameterName?.Trim() ?? "";
        if (parameterName.Length is 0 or > 100 || !parameterName.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
        {
            errors[nameof(input.ResourceParameterName)] = "Resource parameter name: letters, digits, _ - . (default: resource).";
        }
        else if (parameterName is "grant_type" or "client_id" or "client_secret" or "client_assertion" or "client_assertion_type" or "scope" or "username"
            or "password" or "refresh_token" or "code" or "code_verifier" or "redirect_uri" or "state" or "nonce" or "response_type" or "code_challenge" or "code_challenge_method")
        {
            errors[nameof(input.ResourceParameterName)] = $"Resource parameter name: '{parameterName}' is a parameter of the grant itself.";
        }

        var method = input.ClientAuthentication?.Trim() ?? "";
        var algorithm = string.IsNullOrWhiteSpace(input.ClientAssertionAlgorithm) ? null : input.ClientAssertionAlgorithm.Trim();
        ClientCertificate? certificate = null;
        if (await ClientCredentialInputs.UploadAsync(input, cancellationToken) is { } upload)
        {
            (certificate, var certificateError) = ClientCertificates.Read(upload, protector, time.GetUtcNow().UtcDateTime);
            if (certificateError is not null)
            {
                errors["ClientCertificate"] = "Client certificate: " + certificateError;
            }
        }

        var keptCertificate = certificate ?? (!input.ClearClientCertificate && account.Certificate.Present ? account.Certificate : null);
        if (!ClientAuthentications.All.Contains(method))
        {
            errors[nameof(input.ClientAuthentication)] = $"Client authentication: one of {string.Join(", ", ClientAuthentications.All)}.";
        }
        else if (method == ClientAuthentications.PrivateKeyJwt && keptCertificate is null)
        {
            errors.TryAdd("ClientCertificate", "Client certificate: private_key_jwt needs a client certificate with its private key; upload one (PEM or PFX).");
        }

        var audience = string.IsNullOrWhiteSpace(input.ClientAssertionAudience) || input.ClientAssertionAudience == ClientAssertion.AudienceTokenEndpoint
            ? null : input.ClientAssertionAudience.Trim();
        if (audience is not null && !ClientAssertion.Audiences.Contains(audience))
        {
            errors[nameof(input.ClientAssertionAudience)] = $"Client assertion audience: one of {string.Join(", ", ClientAssertion.Audiences)}.";
        }

        if (ClientAssertion.AlgorithmProblem(algorithm, keptCertificate?.KeyType) is { } algorithmProblem)
        {
            errors[nameof(input.ClientAssertionAlgorithm)] = "Signing algorithm: " + algorithmProblem;
        }

        // JWT bearer grant (RFC 7523 section 2.1): a service-account key, or the client certificate, signs the assertion.
        ServiceAccountKey? serviceAccountKey = null;
        if (await JwtBearerGrant.UploadAsync(input, cancellationToken) is { } keyFile)
        {
            (serviceAccountKey, var keyError) = JwtBearerGrant.Read(keyFile, protector);
            if (keyError is not null)
            {
                errors["ServiceAccountKey"] = "Service account key: " + keyError;
            }
        }

        var assertionSubject = string.IsNullOrWhiteSpace(input.AssertionSubject) ? null : input.AssertionSubject.Trim();
        if (assertionSubject is not null && (assertionSubject.Length > 320 || assertionSubject.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))))
        {
            errors[nameof(input.AssertionSubject)] = "Mailbox to act as: one address or user name without spaces, at most 320 characters.";
        }

        var keptKey = serviceAccountKey ?? (!input.ClearServiceAccountKey && account.ServiceAccountKey.Present ? account.ServiceAccountKey : null);
        if (input.GrantType == AccountGrantTypes.JwtBearer && keptKey is null && keptCertificate is null)
        {
            errors.TryAdd("ServiceAccountKey", "Service account key: the JWT bearer grant needs the service account's JSON key file (or a client certificate) to sign its assertion; upload one.");
        }

        if (errors.Count == 0 && await UnsupportedGrantAsync(input.OidcProfileId!.Value, input.GrantType, cancellationToken) is { } unsupported)
        {
            errors[nameof(input.GrantType)] = unsupported;
        }

        if (errors.Count > 0)
        {
            return errors;
        }

        account.Name = name;
        account.NormalizedName = FunctionalAccount.Normalize(name);
        account.OidcProfileId = input.OidcProfileId!.Value;
        account.GrantType = input.GrantType;
        account.Scope = scope;
        account.SignIn = signIn;
        account.Username = input.GrantType == AccountGrantTypes.Password ? username : null;
        if (input.GrantType != AccountGrantTypes.Password || input.ClearPassword)
        {
            account.PasswordProtected = null;
        }
        else if (input.Password is { Length: > 0 } password)
        {
            account.PasswordProtected = protector.Protect(password);
        }

        account.Resources = resources.Length == 0 ? null : string.Join(' ', resources);
        account.ResourceParameterName = parameterName;
        account.ResourcePerParameter = input.ResourcePerParameter;
        account.TokenType = input.TokenType;
        account.RefreshTokenLifetimeDays = input.RefreshTokenLifetimeDays;
        account.RefreshTokenSliding = input.RefreshTokenSliding;
        account.Valid = input.Valid;
        account.SharedThroughApi = input.SharedThroughApi;
        account.ClientAuthentication = method;
        account.ClientAssertionAlgorithm = algorithm;
        account.ClientAssertionAudience = audience;
        if (certificate is not null)
        {
            account.Certificate.CopyFrom(certificate);
        }
        else if (input.ClearClientCertificate)
        {
            account.Certificate.Clear();
        }

        account.AssertionSubject = input.GrantType == AccountGrantTypes.JwtBearer ? assertionSubject : null;
        if (serviceAccountKey is not null)
        {
            account.ServiceAccountKey.CopyFrom(serviceAccountKey);
        }
        else if (input.ClearServiceAccountKey)
        {
            account.ServiceAccountKey.Clear();
        }

        return errors;
    }
}
