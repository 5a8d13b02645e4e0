using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;
using TokenAdmin.Providers;

namespace TokenAdmin.Tokens;

/// <summary>
/// Token configs as token sources: everything comes from the YAML document (endpoints written down, {tenant}
/// filled in); the ID token is checked against the issuer's (or discovery URL's) published keys.
/// </summary>
public sealed class TokenConfigSources(ProviderMetadataCache metadata, ClientCertificateHttp certificateHttp) : ITokenSourceKind
{
    /// <summary>Clock skew allowed when an ID token of a token config is checked.</summary>
    public static readonly TimeSpan IdTokenLeeway = TimeSpan.FromSeconds(60);

    public TokenSourceKind Kind => TokenSourceKind.TokenConfig;

    public string Noun => "token config";

    public string ReauthorizeHint => "an admin must request a token (Request token)";

    public string PagePath(int id) => $"/Tokens/Details/{id.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    public string AuditAction(string grantType, bool failed) => grantType == TokenStateWriter.AuthorizationRefused ? "token.authorization-refused" : (grantType switch
    {
        "refresh_token" => "token.refreshed",
        "authorization_code" => "token.authorized",
        _ => "token.requested",
    }) + (failed ? "-failed" : "");

    public Task<bool> ExistsAsync(TokenAdminDb db, int id, CancellationToken cancellationToken) =>
        db.TokenConfigs.AnyAsync(e => e.Id == id, cancellationToken);

    public async Task<IReadOnlyList<TokenSourceWatch>> WatchAsync(TokenAdminDb db, CancellationToken cancellationToken)
    {
        var rows = await db.TokenConfigs.AsNoTracking()
            .OrderBy(c => c.NormalizedName)
            .Select(c => new
            {
                c.Id,
                c.Name,
                c.Valid,
                c.Flow,
                c.Yaml,
                HasAccessToken = c.State != null && c.State.AccessTokenProtected != null,
                AccessTokenExpiresAt = c.State != null ? c.State.AccessTokenExpiresAt : null,
                HasRefreshToken = c.State != null && c.State.RefreshTokenProtected != null,
                RefreshTokenExpiresAt = c.State != null ? c.State.RefreshTokenExpiresAt : null,
                Estimated = c.State != null && c.State.RefreshTokenExpiryEstimated,
                RevokedAt = c.State != null ? c.State.RefreshTokenRevokedAt : null,
                ObtainedAt = c.State != null ? c.State.ObtainedAt : null,
                LastRefreshAt = c.State != null ? c.State.LastRefreshAt : null,
            })
            .ToListAsync(cancellationToken);
        return rows.ConvertAll(r =>
        {
            // Only the refresh token policy is read from the YAML, and only where it matters.
            var policy = r.HasRefreshToken && r.Valid ? TokenConfigYaml.ParseShared(r.Yaml).RefreshToken : null;
            return new TokenSourceWatch(r.Id, r.Name, r.Valid, r.Flow, r.HasAccessToken, r.AccessTokenExpiresAt, r.HasRefreshToken,
                r.RefreshTokenExpiresAt, r.Estimated, r.RevokedAt, r.ObtainedAt, r.LastRefreshAt, policy?.LifetimeDays, policy?.Sliding ?? false);
        });
    }

    public async Task<IReadOnlyList<TokenSourceChoice>> ChoicesAsync(TokenAdminDb db, CancellationToken cancellationToken) =>
        (await db.TokenConfigs.AsNoTracking().OrderBy(c => c.Name).Select(c => new { c.Id, c.Name }).ToListAsync(cancellationToken))
            .ConvertAll(c => new TokenSourceChoice(TokenSource.Config(c.Id).Key, "Token config " + c.Name));

    public async Task<TokenSourceDefinition?> LoadAsync(TokenAdminDb db, int id, bool tracking, CancellationToken cancellationToken)
    {
        var config = await db.TokenConfigs.AsNoTracking().Include(c => c.State).Where(c => c.Id == id).SingleOrDefaultAsync(cancellationToken);
        if (tracking && config is not null)
        {
            config.State = TokenStates.Track(db, config.State);
        }

        return config is null ? null : Define(config);
    }

    public async Task<IReadOnlyList<TokenSourceDefinition>> LoadManyAsync(TokenAdminDb db, IReadOnlyCollection<int> ids, CancellationToken cancellationToken)
    {
        // Note: only the states are tracked (a batch changes nothing else): tracking the configs, with their complex
        // properties, made each save's scan for changes cost more than the rest of the batch's database work.
        var configs = await db.TokenConfigs.AsNoTracking().Include(c => c.State).Where(c => ids.Contains(c.Id)).ToListAsync(cancellationToken);
        foreach (var config in configs)
        {
            config.State = TokenStates.Track(db, config.State);
        }

        var definitions = new List<TokenSourceDefinition>(configs.Count);
        foreach (var config in configs)
        {
            try
            {
                definitions.Add(Define(config));
            }
            catch (TokenSourceUnreadableException)
            {
                // Left to the one-by-one path, which reports it.
            }
        }

        return definitions;
    }

    /// <exception cref="TokenSourceUnreadableException">the stored YAML cannot be read</exception>
    public TokenSourceDefinition Define(TokenConfig config)
    {
        TokenConfigDocument document;
        try
        {
            document = TokenConfigYaml.ParseShared(config.Yaml);
        }
        catch (TokenConfigYamlException ex)
        {
            throw new TokenSourceUnreadableException($"Token config '{config.Name}' cannot be read: {ex.Message}");
        }

        return new TokenSourceDefinition
        {
            Source = TokenSource.Config(config.Id),
            Name = config.Name,
            Valid = config.Valid,
            Flow = document.Flow,
            ClientId = document.ClientId,
            ClientSecretProtected = config.ClientSecretProtected,
            ClientAuthentication = document.ClientAuthentication,
            ClientAssertionAlgorithm = document.ClientAssertionAlgorithm,
            ClientAssertionAudience = document.ClientAssertionAudience ?? ClientAssertion.AudienceTokenEndpoint,
            Certificate = config.Certificate,
            ServiceAccountKey = config.ServiceAccountKey,
            AssertionSubject = document.AssertionSubject,
            Username = document.Username,
            PasswordProtected = config.PasswordProtected,
            Scope = document.Scope,
            AuthorizationParameters = document.Parameters.Authorization,
            SignIn = document.SignIn ?? new SignInOptions(),
            TokenParameters = document.Parameters.Token,
            RefreshParameters = document.Parameters.Refresh,
            LeadTime = document.LeadTimeSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
            RefreshTokenLifetimeDays = document.RefreshToken.LifetimeDays,
            RefreshTokenSliding = document.RefreshToken.Sliding,
            State = config.State,
            Entity = (config, document),
            Kind = this,
        };
    }

    public async Task<ProviderEndpoints> ResolveAsync(TokenSourceDefinition source, CancellationToken cancellationToken)
    {
        var (_, document) = ((TokenConfig, TokenConfigDocument))source.Entity;
        var token = EndpointUrl(document.Endpoints.Token, document);
        var issuer = string.IsNullOrWhiteSpace(document.Issuer) ? null : Fill(document.Issuer, document);
        var discovery = ProviderMetadataCache.DiscoveryAddress(document.DiscoveryUrl, issuer);
        ICollection<string>? supported = null;
        if (document.ClientAuthentication == ClientAuthentications.Automatic && discovery is not null)
        {
            try
            {
                supported = (await metadata.For(discovery).GetAsync(cancellationToken)).TokenEndpointAuthMethodsSupported;
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException && !cancellationToken.IsCancellationRequested)
            {
                // Metadata out of reach: the defaults of RFC 6749 (and a certificate's private_key_jwt) apply.
            }
        }

        var method = ClientAuthentications.Resolve(document.ClientAuthentication, supported, source.Certificate.Present);
        HttpClient? http = null;
        if (method == ClientAuthentications.TlsClientAuth)
        {
            http = source.Certificate.Present
                ? certificateHttp.For(source.Certificate, "config")
                : throw new ProviderConfigurationException($"{source.Title} uses tls_client_auth but has no client certificate: upload one on its Edit page.");
        }

        string? device = null;
        if (source.Flow == TokenFlows.DeviceCode)
        {
            // Note: the endpoint written down wins; else the provider's metadata names it (device_authorization_endpoint).
            if (document.Endpoints.DeviceAuthorization is { Length: > 0 } written)
            {
                device = EndpointUrl(written, document);
            }
            else if (discovery is not null)
            {
                try
                {
                    device = (await metadata.For(discovery).GetAsync(cancellationToken)).DeviceAuthorizationEndpoint is { Length: > 0 } published ? published : null;
                }
                catch (InvalidOperationException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new ProviderConfigurationException($"{source.Title}: the provider's metadata (for its device authorization endpoint) cannot be read: {ex.Message}", unreachable: true);
                }
            }
        }

        return new ProviderEndpoints(
            token,
            document.Endpoints.Refresh is { Length: > 0 } refresh ? EndpointUrl(refresh, document) : token,
            document.Endpoints.Authorization is { Length: > 0 } authorization ? EndpointUrl(authorization, document) : null,
            issuer,
            method,
            http,
            discovery is null ? null : new IdTokenChecker(metadata.For(discovery), document.ClientId, IdTokenLeeway))
        {
            DeviceAuthorizationEndpoint = device,
        };
    }

    public Expression<Func<TokenState, bool>> StateRow(int id) => s => s.TokenConfigId == id;

    public Expression<Func<TokenState, bool>> StateRows(IReadOnlyCollection<int> ids) => s => s.TokenConfigId != null && ids.Contains(s.TokenConfigId.Value);

    public TokenState NewState(int id) => new() { TokenConfigId = id };

    public void Changed(TokenStateEvents events, int id) => events.Changed(id);

    public static string EndpointUrl(string url, TokenConfigDocument document) =>
        url.Replace("{tenant}", Uri.EscapeDataString(document.Tenant ?? ""), StringComparison.Ordinal);

    private static string Fill(string value, TokenConfigDocument document) =>
        value.Replace("{tenant}", document.Tenant ?? "", StringComparison.Ordinal);
}
