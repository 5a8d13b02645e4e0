using Microsoft.EntityFrameworkCore;
using TokenAdmin.Admin;
using TokenAdmin.Data;
using TokenAdmin.Providers;
using TokenAdmin.Secrets;

namespace TokenAdmin.Tokens;

public sealed record TokenConfigSecrets(string? ClientSecret = null, string? Password = null, bool ClearClientSecret = false, bool ClearPassword = false)
{
    /// <summary>A client certificate (with its key) uploaded now; read and checked when the config is saved.</summary>
    public ClientCertificateUpload? Certificate { get; init; }

    public bool ClearCertificate { get; init; }

    /// <summary>An already read certificate (an import carries it encrypted); wins over <see cref="Certificate"/>.</summary>
    public ClientCertificate? ReadCertificate { get; init; }

    // JWT bearer grant (RFC 7523 section 2.1).
    /// <summary>A service account's JSON key file uploaded now; read and checked when the config is saved.</summary>
    public byte[]? ServiceAccountKeyFile { get; init; }

    public bool ClearServiceAccountKey { get; init; }

    /// <summary>An already read key (an import checked it first); wins over <see cref="ServiceAccountKeyFile"/>.</summary>
    public ServiceAccountKey? ReadServiceAccountKey { get; init; }
}

public sealed record TokenConfigSaveResult(Dictionary<string, string> Errors, TokenConfig? Config = null)
{
    public bool Succeeded => Errors.Count == 0;
    public static TokenConfigSaveResult Fail(string field, string message) => new(new Dictionary<string, string> { [field] = message });
}

/// <summary>Creates, changes and deletes token configs: validated, audited, secrets encrypted.</summary>
public sealed class TokenConfigService(
    TokenAdminDb db,
    ISecretProtector protector,
    OidcDiscoveryReader discovery,
    IEnumerable<ITokenSourceUsage> usages,
    TokenStateEvents events,
    TimeProvider time)
{
    public async Task<(TokenConfig Config, TokenConfigDocument Document)?> LoadAsync(int id, CancellationToken cancellationToken)
    {
        var config = await db.TokenConfigs.Include(c => c.State).SingleOrDefaultAsync(c => c.Id == id, cancellationToken);
        return config is null ? null : (config, TokenConfigYaml.Parse(config.Yaml));
    }

    public Task<TokenConfig?> FindByNameAsync(string name, CancellationToken cancellationToken) =>
        db.TokenConfigs.Include(c => c.State).SingleOrDefaultAsync(c => c.NormalizedName == TokenConfig.Normalize(name), cancellationToken);

    public async Task<TokenConfigSaveResult> CreateAsync(TokenConfigDocument document, TokenConfigSecrets secrets, string actor, CancellationToken cancellationToken)
    {
        var certificate = ReadCertificate(secrets, out var certificateError);
        var serviceAccountKey = ReadServiceAccountKey(secrets, out var keyError);
        var errors = await PrepareAsync(document, secrets.ClientSecret is { Length: > 0 }, secrets.Password is { Length: > 0 }, null, cancellationToken,
            hasCertificate: certificate is not null, certificate?.KeyType, hasServiceAccountKey: serviceAccountKey is not null);
        AddCertificateError(errors, certificateError);
        AddServiceAccountKeyError(errors, keyError);
        if (errors.Count > 0)
        {
            return new TokenConfigSaveResult(errors);
        }

        var config = AddChecked(document, secrets, certificate, serviceAccountKey, actor);
        await db.SaveChangesAsync(cancellationToken);
        events.Changed(config.Id);
        return new TokenConfigSaveResult([], config);
    }

    /// <summary>
    /// Saves a checked document (<see cref="PrepareAsync"/> found nothing) into the context, as a new config
    /// (<paramref name="current"/> null) or over <paramref name="current"/>, tracked; the caller saves the context and
    /// announces the change (<see cref="Announce"/>). The import writes many this way, in batches.
    /// </summary>
    internal TokenConfig ApplyChecked(TokenConfig? current, TokenConfigDocument document, TokenConfigSecrets secrets, string actor)
    {
        var certificate = ReadCertificate(secrets, out _);
        var serviceAccountKey = ReadServiceAccountKey(secrets, out _);
        if (current is null)
        {
            return AddChecked(document, secrets, certificate, serviceAccountKey, actor);
        }

        UpdateChecked(current, document, secrets, certificate, serviceAccountKey, actor);
        return current;
    }

    /// <summary>Tells the refresh schedule and the banners that these configs changed (after they were saved).</summary>
    internal void Announce(IEnumerable<int> tokenConfigIds)
    {
        foreach (var id in tokenConfigIds)
        {
            events.Changed(id);
        }
    }

    private TokenConfig AddChecked(TokenConfigDocument document, TokenConfigSecrets secrets, ClientCertificate? certificate, ServiceAccountKey? serviceAccountKey, string actor)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var config = new TokenConfig
        {
            Name = document.Name,
            NormalizedName = TokenConfig.Normalize(document.Name),
            Template = document.Template,
            Flow = document.Flow,
            Valid = document.Valid,
            SharedThroughApi = document.SharedThroughApi,
            Yaml = TokenConfigYaml.Write(document),
            ExpiringSoonDays = document.Notifications.ExpiringSoonDays,
            ClientSecretExpiresAt = CredentialExpiry.StartOf(document.ClientSecretExpires),
            CreatedAt = now,
            CreatedBy = actor,
            ChangedAt = now,
            ChangedBy = actor,
        };
        ApplySecrets(config, secrets, certificate);
        ApplyServiceAccountKey(config, secrets, serviceAccountKey);
        db.TokenConfigs.Add(config);
        AuditLog.Add(db, time, actor, "token-config.created", config.Name, $"template {config.Template}, flow {config.Flow}");
        return config;
    }

    /// <summary>Changes a config. <paramref name="version"/> is the one the admin edited; a newer one is a conflict, not a lost update.</summary>
    public async Task<TokenConfigSaveResult> UpdateAsync(
        int id, string version, TokenConfigDocument document, TokenConfigSecrets secrets, string actor, CancellationToken cancellationToken)
    {
        var config = await db.TokenConfigs.Include(c => c.State).SingleOrDefaultAsync(c => c.Id == id, cancellationToken);
        if (config is null)
        {
            return TokenConfigSaveResult.Fail("", "This token config no longer exists.");
        }

        if (config.Version != version)
        {
            return TokenConfigSaveResult.Fail("", $"{config.ChangedBy} changed this token config at {config.ChangedAt:yyyy-MM-dd HH:mm:ss} UTC while you were editing. Reload it and make your change again.");
        }

        if (document.Template != config.Template)
        {
            return TokenConfigSaveResult.Fail("template", $"The template is fixed once saved: this config stays '{config.Template}'. Create a new config for another template.");
        }

        var hasSecret = secrets.ClientSecret is { Length: > 0 } || (!secrets.ClearClientSecret && config.ClientSecretProtected is not null);
        var hasPassword = secrets.Password is { Length: > 0 } || (!secrets.ClearPassword && config.PasswordProtected is not null);
        var certificate = ReadCertificate(secrets, out var certificateError);
        var keptCertificate = !secrets.ClearCertificate && config.Certificate.Present ? config.Certificate : null;
        var serviceAccountKey = ReadServiceAccountKey(secrets, out var keyError);
        var keptKey = serviceAccountKey ?? (!secrets.ClearServiceAccountKey && config.ServiceAccountKey.Present ? config.ServiceAccountKey : null);
        var errors = await PrepareAsync(document, hasSecret, hasPassword, id, cancellationToken,
            hasCertificate: (certificate ?? keptCertificate) is not null, (certificate ?? keptCertificate)?.KeyType, hasServiceAccountKey: keptKey is not null);
        AddCertificateError(errors, certificateError);
        AddServiceAccountKeyError(errors, keyError);
        if (errors.Count > 0)
        {
            return new TokenConfigSaveResult(errors);
        }

        UpdateChecked(config, document, secrets, certificate, serviceAccountKey, actor);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return TokenConfigSaveResult.Fail("", "Someone changed this token config at the same moment. Reload it and make your change again.");
        }

        events.Changed(config.Id);
        return new TokenConfigSaveResult([], config);
    }

    private void UpdateChecked(TokenConfig config, TokenConfigDocument document, TokenConfigSecrets secrets, ClientCertificate? certificate, ServiceAccountKey? serviceAccountKey, string actor)
    {
        var before = TokenConfigYaml.Parse(config.Yaml);
        config.Name = document.Name;
        config.NormalizedName = TokenConfig.Normalize(document.Name);
        config.Flow = document.Flow;
        config.Valid = document.Valid;
        config.SharedThroughApi = document.SharedThroughApi;
        config.Yaml = TokenConfigYaml.Write(document);
        config.ExpiringSoonDays = document.Notifications.ExpiringSoonDays;
        config.ClientSecretExpiresAt = CredentialExpiry.StartOf(document.ClientSecretExpires);
        config.ChangedAt = time.GetUtcNow().UtcDateTime;
        config.ChangedBy = actor;
        ApplySecrets(config, secrets, certificate);
        ApplyServiceAccountKey(config, secrets, serviceAccountKey);
        if ((secrets.ClientSecret is { Length: > 0 } || certificate is not null) && config.State is { RefreshTokenRevokedAt: not null, LastErrorCode: "invalid_client" } state)
        {
            // The provider refused the client, not the refresh token: with the new secret it may be good again.
            state.RefreshTokenRevokedAt = null;
        }

        AuditLog.Add(db, time, actor, "token-config.updated", config.Name, Describe(before, document, secrets));
    }

    /// <summary>What still uses the config (mail accounts, web services): shown on its delete page before the button.</summary>
    public async Task<IReadOnlyList<string>> UsesAsync(int id, CancellationToken cancellationToken)
    {
        var uses = new List<string>();
        foreach (var usage in usages)
        {
            uses.AddRange(await usage.FindUsesAsync(TokenSource.Config(id), cancellationToken));
        }

        return uses;
    }

    public async Task<(bool Deleted, string Message)> DeleteAsync(int id, string actor, CancellationToken cancellationToken)
    {
        var config = await db.TokenConfigs.SingleOrDefaultAsync(c => c.Id == id, cancellationToken);
        if (config is null)
        {
            return (false, "This token config no longer exists.");
        }

        var uses = new List<string>();
        foreach (var usage in usages)
        {
            uses.AddRange(await usage.FindUsesAsync(TokenSource.Config(config.Id), cancellationToken));
        }

        if (uses.Count > 0)
        {
            return (false, $"'{config.Name}' is still used by {string.Join(", ", uses)}. Change those to another token first.");
        }

        db.TokenConfigs.Remove(config);
        AuditLog.Add(db, time, actor, "token-config.deleted", config.Name);
        await db.SaveChangesAsync(cancellationToken);
        events.Changed(config.Id);
        return (true, $"Token config '{config.Name}' was deleted.");
    }

    public string? ClientSecret(TokenConfig config) => config.ClientSecretProtected is null ? null : protector.Unprotect(config.ClientSecretProtected);

    public string? Password(TokenConfig config) => config.PasswordProtected is null ? null : protector.Unprotect(config.PasswordProtected);

    /// <summary>Normalizes and validates; for the OIDC template reads issuer and endpoints from discovery.</summary>
    internal async Task<Dictionary<string, string>> PrepareAsync(
        TokenConfigDocument document, bool hasClientSecret, bool hasPassword, int? existingId, CancellationToken cancellationToken,
        bool hasCertificate = false, string? certificateKeyType = null, bool hasServiceAccountKey = false, Func<string, bool>? nameTaken = null)
    {
        document.Name = document.Name?.Trim() ?? "";
        document.ClientId = document.ClientId?.Trim() ?? "";
        document.Scope = string.Join(' ', (document.Scope ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries));
        document.Tenant = string.IsNullOrWhiteSpace(document.Tenant) ? null : document.Tenant.Trim();
        document.Endpoints.Authorization = NullIfBlank(document.Endpoints.Authorization);
        document.Endpoints.Refresh = NullIfBlank(document.Endpoints.Refresh);
        document.Endpoints.Token = document.Endpoints.Token?.Trim() ?? "";
        document.Issuer = NullIfBlank(document.Issuer);
        document.DiscoveryUrl = NullIfBlank(document.DiscoveryUrl);
        document.Username = NullIfBlank(document.Username);
        document.AssertionSubject = NullIfBlank(document.AssertionSubject);

        var errors = new Dictionary<string, string>();
        var discoveryUrlProblem = TokenConfigValidator.DiscoveryUrlProblem(document);
        if (discoveryUrlProblem is not null)
        {
            errors["discoveryUrl"] = discoveryUrlProblem;
        }
        else if (document.Template == TokenTemplates.Oidc && document.DiscoveryUrl is not null)
        {
            var read = await discovery.ReadAsync(document.DiscoveryUrl, cancellationToken);
            if (read.Error is not null)
            {
                errors["discoveryUrl"] = read.Error;
            }
            else
            {
                document.Issuer = read.Issuer;
                document.Endpoints.Authorization = read.AuthorizationEndpoint;
                document.Endpoints.Token = read.TokenEndpoint ?? "";
            }
        }

        foreach (var (field, message) in TokenConfigValidator.Validate(document, hasClientSecret, hasPassword, hasCertificate, certificateKeyType, hasServiceAccountKey))
        {
            // Endpoints that discovery should have filled in are not a separate mistake when discovery failed.
            if (!(errors.ContainsKey("discoveryUrl") && field.StartsWith("endpoints.", StringComparison.Ordinal)))
            {
                errors.TryAdd(field, message);
            }
        }

        var normalized = TokenConfig.Normalize(document.Name);
        // Note: an import passes nameTaken, answered from the names it loaded once, instead of one query per entry.
        if (!errors.ContainsKey("name") && (nameTaken is not null
                ? nameTaken(normalized)
                : await db.TokenConfigs.AnyAsync(c => c.NormalizedName == normalized && c.Id != existingId, cancellationToken)))
        {
            errors["name"] = $"A token config named '{document.Name}' already exists.";
        }

        return errors;
    }

    /// <summary>The certificate the save brings (read from an upload, or carried by an import); null when none, or when it is refused.</summary>
    private ClientCertificate? ReadCertificate(TokenConfigSecrets secrets, out string? error)
    {
        error = null;
        if (secrets.ReadCertificate is { Present: true } read)
        {
            return read;
        }

        if (secrets.Certificate is not { } upload)
        {
            return null;
        }

        (var certificate, error) = ClientCertificates.Read(upload, protector, time.GetUtcNow().UtcDateTime);
        return certificate;
    }

    private static void AddCertificateError(Dictionary<string, string> errors, string? error)
    {
        if (error is not null)
        {
            // The upload's own problem replaces "needs a certificate": it says what is wrong with the one given.
            errors["clientCertificate"] = "Client certificate: " + error;
        }
    }

    /// <summary>The service-account key the save brings (read from an upload, or carried by an import); null when none, or when it is refused.</summary>
    private ServiceAccountKey? ReadServiceAccountKey(TokenConfigSecrets secrets, out string? error)
    {
        error = null;
        if (secrets.ReadServiceAccountKey is { Present: true } read)
        {
            return read;
        }

        if (secrets.ServiceAccountKeyFile is not { } file)
        {
            return null;
        }

        (var key, error) = JwtBearerGrant.Read(file, protector);
        return key;
    }

    private static void AddServiceAccountKeyError(Dictionary<string, string> errors, string? error)
    {
        if (error is not null)
        {
            errors["serviceAccountKey"] = "Service account key: " + error;
        }
    }

    private static void ApplyServiceAccountKey(TokenConfig config, TokenConfigSecrets secrets, ServiceAccountKey? key)
    {
        if (key is not null)
        {
            config.ServiceAccountKey.CopyFrom(key);
        }
        else if (secrets.ClearServiceAccountKey)
        {
            config.ServiceAccountKey.Clear();
        }
    }

    private void ApplySecrets(TokenConfig config, TokenConfigSecrets secrets, ClientCertificate? certificate)
    {
        if (secrets.ClientSecret is { Length: > 0 } secret)
        {
            config.ClientSecretProtected = protector.Protect(secret);
        }
        else if (secrets.ClearClientSecret)
        {
            config.ClientSecretProtected = null;
        }

        if (certificate is not null)
        {
            config.Certificate.CopyFrom(certificate);
        }
        else if (secrets.ClearCertificate)
        {
            config.Certificate.Clear();
        }

        if (secrets.Password is { Length: > 0 } password)
        {
            config.PasswordProtected = protector.Protect(password);
        }
        else if (secrets.ClearPassword)
        {
            config.PasswordProtected = null;
        }
    }

    private static string Describe(TokenConfigDocument before, TokenConfigDocument after, TokenConfigSecrets secrets)
    {
        var changes = new List<string>();
        var a = TokenConfigYaml.Write(before).Split('\n');
        var b = TokenConfigYaml.Write(after).Split('\n');
        if (!a.SequenceEqual(b))
        {
            changes.Add("settings: " + string.Join(", ", b.Except(a).Select(l => l.Trim().Split(':')[0]).Where(k => k.Length > 0).Distinct().Take(10)));
        }

        // A value typed in wins over a ticked "remove" (ApplySecrets stores it), and the audit says what happened.
        if (secrets.ClientSecret is { Length: > 0 } || secrets.ClearClientSecret)
        {
            changes.Add(secrets.ClientSecret is { Length: > 0 } ? "client secret changed" : "client secret removed");
        }

        if (secrets.Password is { Length: > 0 } || secrets.ClearPassword)
        {
            changes.Add(secrets.Password is { Length: > 0 } ? "password changed" : "password removed");
        }

        if (secrets.Certificate is not null || secrets.ReadCertificate is not null || secrets.ClearCertificate)
        {
            changes.Add(secrets.Certificate is not null || secrets.ReadCertificate is not null ? "client certificate changed" : "client certificate removed");
        }

        if (secrets.ServiceAccountKeyFile is not null || secrets.ReadServiceAccountKey is not null || secrets.ClearServiceAccountKey)
        {
            changes.Add(secrets.ServiceAccountKeyFile is not null || secrets.ReadServiceAccountKey is not null ? "service account key changed" : "service account key removed");
        }

        return changes.Count == 0 ? "no change" : string.Join("; ", changes);
    }

    private static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
