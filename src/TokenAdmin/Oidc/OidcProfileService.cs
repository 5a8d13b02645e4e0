using System.Globalization;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Admin;
using TokenAdmin.Data;
using TokenAdmin.Providers;
using TokenAdmin.Secrets;
using TokenAdmin.Settings;

namespace TokenAdmin.Oidc;

/// <summary>What an admin enters for a profile. Secrets are write-only: empty keeps the stored one.</summary>
public sealed class OidcProfileInput
{
    public string Name { get; set; } = "";
    public string DiscoveryUrl { get; set; } = "";
    public string ClientId { get; set; } = "";
    public string? ClientSecret { get; set; }
    public bool ClearClientSecret { get; set; }
    /// <summary>yyyy-MM-dd (an input of type date), or empty.</summary>
    public string? ClientSecretExpires { get; set; }
    public string DiscoveryCacheSeconds { get; set; } = OidcProfileDefaults.DiscoveryCacheSeconds.ToString(CultureInfo.InvariantCulture);
    public string? CaCertificatePath { get; set; }
    public string? ClientCertificatePath { get; set; }
    public string? ClientKeyPath { get; set; }
    public string? ClientKeyPassword { get; set; }
    public bool ClearClientKeyPassword { get; set; }
    public bool VerifyHostname { get; set; } = true;
    public bool VerifyCertificate { get; set; } = true;
    public bool UseNonce { get; set; } = true;
    public string RandLength { get; set; } = OidcProfileDefaults.RandLength.ToString(CultureInfo.InvariantCulture);
    public string RandTtlSeconds { get; set; } = OidcProfileDefaults.RandTtlSeconds.ToString(CultureInfo.InvariantCulture);
    public string LeewaySeconds { get; set; } = OidcProfileDefaults.LeewaySeconds.ToString(CultureInfo.InvariantCulture);
    public string UidClaim { get; set; } = OidcProfileDefaults.UidClaim;
    public string? RoleMapYaml { get; set; }
    public string? UserMapYaml { get; set; }
    public bool AcceptIncomingTokens { get; set; }
    public string IncomingOrder { get; set; } = "0";
    public bool CreateApiUsers { get; set; }
    public string? RestrictUserLogin { get; set; }
    public string? RestrictScope { get; set; }
    public string? RestrictAudience { get; set; }
    public string? RestrictAuthorizedParty { get; set; }
    public string? Version { get; set; }

    public static OidcProfileInput From(OidcProfile p) => new()
    {
        Name = p.Name, DiscoveryUrl = p.DiscoveryUrl, ClientId = p.ClientId,
        ClientSecretExpires = p.ClientSecretExpiresAt?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DiscoveryCacheSeconds = p.DiscoveryCacheSeconds.ToString(CultureInfo.InvariantCulture),
        CaCertificatePath = p.CaCertificatePath, ClientCertificatePath = p.ClientCertificatePath, ClientKeyPath = p.ClientKeyPath,
        VerifyHostname = p.VerifyHostname, VerifyCertificate = p.VerifyCertificate, UseNonce = p.UseNonce,
        RandLength = p.RandLength.ToString(CultureInfo.InvariantCulture), RandTtlSeconds = p.RandTtlSeconds.ToString(CultureInfo.InvariantCulture),
        LeewaySeconds = p.LeewaySeconds.ToString(CultureInfo.InvariantCulture), UidClaim = p.UidClaim,
        RoleMapYaml = p.RoleMapYaml, UserMapYaml = p.UserMapYaml, AcceptIncomingTokens = p.AcceptIncomingTokens, CreateApiUsers = p.CreateApiUsers,
        IncomingOrder = p.IncomingOrder.ToString(CultureInfo.InvariantCulture), RestrictUserLogin = p.RestrictUserLogin,
        RestrictScope = p.RestrictScope, RestrictAudience = p.RestrictAudience, RestrictAuthorizedParty = p.RestrictAuthorizedParty,
        Version = p.Version,
    };
}

public sealed record OidcProfileSaveResult(Dictionary<string, string> Errors, OidcProfile? Profile = null)
{
    public bool Succeeded => Errors.Count == 0;
}

/// <summary>Creates, changes and deletes OIDC profiles: validated field by field, audited, secrets encrypted.</summary>
public sealed class OidcProfileService(TokenAdminDb db, ISecretProtector protector, SettingsStore settings, OidcProfileRuntime runtime, TimeProvider time)
{
    public Task<List<OidcProfile>> ListAsync(CancellationToken cancellationToken) =>
        db.OidcProfiles.AsNoTracking().OrderBy(p => p.NormalizedName).ToListAsync(cancellationToken);

    public Task<OidcProfile?> FindAsync(int id, CancellationToken cancellationToken) =>
        db.OidcProfiles.SingleOrDefaultAsync(p => p.Id == id, cancellationToken);

    public Task<OidcProfile?> FindByNameAsync(string name, CancellationToken cancellationToken) =>
        db.OidcProfiles.SingleOrDefaultAsync(p => p.NormalizedName == OidcProfile.Normalize(name), cancellationToken);

    /// <summary>A new profile's form, prefilled from the admin OIDC sign-in settings when those exist (never the secret).</summary>
    public async Task<OidcProfileInput> NewInputAsync(CancellationToken cancellationToken)
    {
        var snapshot = await settings.GetAsync(cancellationToken);
        return new OidcProfileInput
        {
            DiscoveryUrl = snapshot.Get(AdminOidcSettings.MetadataAddress),
            ClientId = snapshot.Get(AdminOidcSettings.ClientId),
        };
    }

    public async Task<OidcProfileSaveResult> CreateAsync(OidcProfileInput input, string actor, CancellationToken cancellationToken)
    {
        var profile = new OidcProfile();
        var errors = await ApplyAsync(profile, input, cancellationToken);
        if (errors.Count > 0)
        {
            return new OidcProfileSaveResult(errors);
        }

        var now = time.GetUtcNow().UtcDateTime;
        profile.CreatedAt = profile.ChangedAt = now;
        profile.CreatedBy = profile.ChangedBy = actor;
        db.OidcProfiles.Add(profile);
        AuditLog.Add(db, time, actor, "oidc-profile.created", profile.Name, profile.DiscoveryUrl);
        await db.SaveChangesAsync(cancellationToken);
        runtime.ProfilesChanged();
        return new OidcProfileSaveResult(errors, profile);
    }

    public async Task<OidcProfileSaveResult> UpdateAsync(int id, OidcProfileInput input, string actor, CancellationToken cancellationToken)
    {
        var profile = await FindAsync(id, cancellationToken);
        if (profile is null)
        {
            return new OidcProfileSaveResult(new() { [""] = "This profile no longer exists." });
        }

        if (input.Version is not null && input.Version != profile.Version)
        {
            return new OidcProfileSaveResult(new() { [""] = $"'{profile.Name}' was changed by {profile.ChangedBy} at {profile.ChangedAt:yyyy-MM-dd HH:mm:ss} UTC while you edited it. Reload the page and make your change again." });
        }

        var errors = await ApplyAsync(profile, input, cancellationToken);
        if (errors.Count > 0)
        {
            db.ChangeTracker.Clear();
            return new OidcProfileSaveResult(errors);
        }

        profile.ChangedAt = time.GetUtcNow().UtcDateTime;
        profile.ChangedBy = actor;
        AuditLog.Add(db, time, actor, "oidc-profile.changed", profile.Name, profile.TlsVerificationOff ? "TLS verification off" : "");
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            return new OidcProfileSaveResult(new() { [""] = "The profile was changed meanwhile by someone else. Reload the page and make your change again." });
        }

        runtime.Forget(profile.Id);
        return new OidcProfileSaveResult(errors, profile);
    }

    /// <summary>Refused while a functional account uses the profile; API users keep their roles but lose the link.</summary>
    /// <summary>What still uses the profile (its functional accounts), named for the delete page; empty when it can go.</summary>
    public async Task<IReadOnlyList<string>> UsesAsync(int id, CancellationToken cancellationToken)
    {
        var users = await db.FunctionalAccounts.Where(a => a.OidcProfileId == id).OrderBy(a => a.NormalizedName).Select(a => a.Name).Take(11).ToListAsync(cancellationToken);
        var uses = users.Take(10).Select(n => $"functional account '{n}'").ToList();
        if (users.Count > 10)
        {
            uses.Add($"{await db.FunctionalAccounts.CountAsync(a => a.OidcProfileId == id, cancellationToken) - 10} more functional accounts");
        }

        return uses;
    }

    public async Task<string?> DeleteAsync(int id, string actor, CancellationToken cancellationToken)
    {
        var profile = await FindAsync(id, cancellationToken);
        if (profile is null)
        {
            return "This profile no longer exists.";
        }

        var users = await UsesAsync(id, cancellationToken);
        if (users.Count > 0)
        {
            return $"'{profile.Name}' is used by {string.Join(", ", users)}. Move or delete them first.";
        }

        db.OidcProfiles.Remove(profile);
        AuditLog.Add(db, time, actor, "oidc-profile.deleted", profile.Name);
        await db.SaveChangesAsync(cancellationToken);
        runtime.Forget(id);
        return null;
    }

    private async Task<Dictionary<string, string>> ApplyAsync(OidcProfile profile, OidcProfileInput input, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        var name = input.Name?.Trim() ?? "";
        if (name.Length is 0 or > 200)
        {
            errors[nameof(input.Name)] = "Name: required, at most 200 characters.";
        }
        else if (name.Any(char.IsControl))
        {
            errors[nameof(input.Name)] = "Name: no control characters (line breaks, tabs, escapes).";
        }
        else if (await db.OidcProfiles.AnyAsync(p => p.NormalizedName == OidcProfile.Normalize(name) && p.Id != profile.Id, cancellationToken))
        {
            errors[nameof(input.Name)] = $"Name: a profile named '{name}' exists already.";
        }

        var url = input.DiscoveryUrl?.Trim() ?? "";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
        {
            errors[nameof(input.DiscoveryUrl)] = "Discovery URL: an absolute https URL ending in /.well-known/openid-configuration.";
        }
        else if (!uri.AbsolutePath.EndsWith("/.well-known/openid-configuration", StringComparison.Ordinal))
        {
            errors[nameof(input.DiscoveryUrl)] = "Discovery URL: must end in /.well-known/openid-configuration (the provider's discovery document).";
        }
        else if (uri.Scheme == "http" && ProviderHttp.RequiresHttps(url))
        {
            errors[nameof(input.DiscoveryUrl)] = "Discovery URL: plain http is only allowed for a provider on this machine (localhost); use https.";
        }

        var clientId = input.ClientId?.Trim() ?? "";
        if (clientId.Length is 0 or > 500)
        {
            errors[nameof(input.ClientId)] = "Client ID: required, at most 500 characters.";
        }

        DateTime? secretExpires = null;
        if (!string.IsNullOrWhiteSpace(input.ClientSecretExpires))
        {
            if (DateOnly.TryParseExact(input.ClientSecretExpires.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) && day.Year is >= 2000 and <= 2200)
            {
                secretExpires = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
            }
            else
            {
                errors[nameof(input.ClientSecretExpires)] = $"Client secret expires on: '{input.ClientSecretExpires.Trim()}' is not a date (YYYY-MM-DD).";
            }
        }

        var ttl = Number(input.DiscoveryCacheSeconds, 60, 86_400, "Discovery cache TTL (seconds)", nameof(input.DiscoveryCacheSeconds), errors);
        var randLength = Number(input.RandLength, 16, 128, "Length of state and nonce", nameof(input.RandLength), errors);
        var randTtl = Number(input.RandTtlSeconds, 60, 3_600, "Time a sign-in at the provider may take (seconds)", nameof(input.RandTtlSeconds), errors);
        var leeway = Number(input.LeewaySeconds, 0, 300, "Allowed clock difference (seconds)", nameof(input.LeewaySeconds), errors);
        var order = Number(input.IncomingOrder, 0, 1000, "Order", nameof(input.IncomingOrder), errors);
        var uid = input.UidClaim?.Trim() ?? "";
        if (uid.Length is 0 or > 200 || uid.Any(char.IsWhiteSpace))
        {
            errors[nameof(input.UidClaim)] = "UID claim: required, one claim name such as sub, preferred_username or oid.";
        }

        try
        {
            ClaimMaps.ParseRoleMap(input.RoleMapYaml);
        }
        catch (ClaimMapException ex)
        {
            errors[nameof(input.RoleMapYaml)] = ex.Message;
        }

        try
        {
            ClaimMaps.ParseUserMap(input.UserMapYaml);
        }
        catch (ClaimMapException ex)
        {
            errors[nameof(input.UserMapYaml)] = ex.Message;
        }

        var audiences = Lines(input.RestrictAudience);
        if (audiences.Any(a => a.Length > 500))
        {
            errors[nameof(input.RestrictAudience)] = "Audience: one audience per line, each at most 500 characters.";
        }
        else if (input.AcceptIncomingTokens && audiences.Count == 0)
        {
            // Note: no default to the client id: that is exactly the audience of the provider's ID tokens for this client.
            errors[nameof(input.RestrictAudience)] = "Audience: required to accept incoming tokens. Enter the audience your API's access tokens carry (e.g. api://tokenadmin or the API's identifier at the provider), not the client ID of a sign-in app.";
        }

        // TLS files are checked now, with the password as it will be stored, so a broken profile is never saved.
        var password = input.ClearClientKeyPassword ? null
            : input.ClientKeyPassword is { Length: > 0 } entered ? entered
            : profile.ClientKeyPasswordProtected is { } stored ? TryUnprotect(stored) : null;
        var candidate = new OidcProfile
        {
            CaCertificatePath = Blank(input.CaCertificatePath), ClientCertificatePath = Blank(input.ClientCertificatePath),
            ClientKeyPath = Blank(input.ClientKeyPath), VerifyHostname = input.VerifyHostname, VerifyCertificate = input.VerifyCertificate,
        };
        try
        {
            ProfileTls.Options(candidate, password);
        }
        catch (ProfileTlsException ex)
        {
            var field = ex.Field switch
            {
                ProfileTls.CaField => nameof(input.CaCertificatePath),
                ProfileTls.ClientCertificateField => nameof(input.ClientCertificatePath),
                _ => nameof(input.ClientKeyPath),
            };
            errors[field] = $"{ex.Field}: {ex.Message}";
        }

        if (errors.Count > 0)
        {
            return errors;
        }

        // Note: the provider is asked before anything is saved: an unreachable or wrong discovery URL, or a client
        // secret the provider refuses, is a field error now rather than a failure at the first token.
        candidate.Id = profile.Id;
        candidate.DiscoveryUrl = url;
        candidate.ClientId = clientId;
        candidate.ClientKeyPasswordProtected = password is null ? null : protector.Protect(password);
        var probeSecret = input.ClearClientSecret ? null
            : input.ClientSecret is { Length: > 0 } enteredSecret ? enteredSecret
            : profile.ClientSecretProtected is { } storedSecret ? TryUnprotect(storedSecret) : null;
        var report = await runtime.TestAsync(candidate, cancellationToken, probeSecret);
        if (!report.Succeeded)
        {
            errors[report.SecretRefused ? nameof(input.ClientSecret) : nameof(input.DiscoveryUrl)] = report.SecretRefused
                ? report.Error!
                : $"Discovery URL: {report.Error}";
            return errors;
        }

        if (input.AcceptIncomingTokens && IsTenantTemplate(report.Issuer)
            && string.IsNullOrWhiteSpace(input.RestrictAuthorizedParty) && string.IsNullOrWhiteSpace(input.RestrictUserLogin))
        {
            // Note: with a {tenantid} issuer any Entra tenant's app or user can get a token for this API; the RoleMap alone
            // does not stop that (a foreign tenant's token can carry the same role values).
            errors[nameof(input.RestrictAuthorizedParty)] = "Restrict: AuthorizedParty: the provider's issuer is a multi-tenant template ({tenantid}), so every tenant can get tokens for this API. "
                + "Set Restrict: AuthorizedParty (the calling app's client ID) or Restrict: UserLogin before accepting incoming tokens, or use the discovery document of your own tenant.";
            return errors;
        }

        profile.Name = name;
        profile.NormalizedName = OidcProfile.Normalize(name);
        profile.DiscoveryUrl = url;
        profile.ClientId = clientId;
        profile.ClientSecretExpiresAt = input.ClearClientSecret ? null : secretExpires;
        if (input.ClearClientSecret)
        {
            profile.ClientSecretProtected = null;
        }
        else if (input.ClientSecret is { Length: > 0 } secret)
        {
            profile.ClientSecretProtected = protector.Protect(secret);
        }

        if (input.ClearClientKeyPassword)
        {
            profile.ClientKeyPasswordProtected = null;
        }
        else if (input.ClientKeyPassword is { Length: > 0 } keyPassword)
        {
            profile.ClientKeyPasswordProtected = protector.Protect(keyPassword);
        }

        profile.DiscoveryCacheSeconds = ttl;
        profile.CaCertificatePath = candidate.CaCertificatePath;
        profile.ClientCertificatePath = candidate.ClientCertificatePath;
        profile.ClientKeyPath = candidate.ClientKeyPath;
        profile.VerifyHostname = input.VerifyHostname;
        profile.VerifyCertificate = input.VerifyCertificate;
        profile.UseNonce = input.UseNonce;
        profile.RandLength = randLength;
        profile.RandTtlSeconds = randTtl;
        profile.LeewaySeconds = leeway;
        profile.UidClaim = uid;
        profile.RoleMapYaml = Blank(input.RoleMapYaml);
        profile.UserMapYaml = Blank(input.UserMapYaml);
        profile.AcceptIncomingTokens = input.AcceptIncomingTokens;
        profile.IncomingOrder = order;
        profile.CreateApiUsers = input.CreateApiUsers;
        profile.RestrictUserLogin = Blank(input.RestrictUserLogin);
        profile.RestrictScope = Blank(input.RestrictScope);
        profile.RestrictAudience = audiences.Count == 0 ? null : string.Join('\n', audiences);
        profile.RestrictAuthorizedParty = Blank(input.RestrictAuthorizedParty);
        return errors;
    }

    private string? TryUnprotect(string stored)
    {
        try
        {
            return protector.Unprotect(stored);
        }
        catch (SecretUnreadableException)
        {
            return null;
        }
    }

    /// <summary>An issuer that stands for many tenants (Entra's common/organizations documents).</summary>
    public static bool IsTenantTemplate(string? issuer) => issuer?.Contains("{tenantid}", StringComparison.OrdinalIgnoreCase) == true;

    public static IReadOnlyList<string> Lines(string? text) =>
        [.. (text ?? "").Split(['\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal)];

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static int Number(string? text, int min, int max, string label, string field, Dictionary<string, string> errors)
    {
        if (int.TryParse(text?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        errors[field] = $"{label}: a whole number from {min} to {max}; '{text}' is not.";
        return min;
    }
}
