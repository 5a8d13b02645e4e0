using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;
using TokenAdmin.Oidc;
using TokenAdmin.Providers;
using TokenAdmin.Tokens;

namespace TokenAdmin.FunctionalAccounts;

/// <summary>
/// Functional accounts as token sources: the client, its TLS settings and the provider's endpoints and keys come from
/// the account's OIDC profile (discovery, cached for the profile's TTL); the grant, scope and resources from the account.
/// </summary>
public sealed class FunctionalAccountSources(OidcProfileRuntime runtime, ClientCertificateHttp certificateHttp) : ITokenSourceKind
{
    public TokenSourceKind Kind => TokenSourceKind.FunctionalAccount;

    public string Noun => "functional account";

    public string ReauthorizeHint => "an admin must sign in at the provider again (Request token)";

    public string PagePath(int id) => $"/FunctionalAccounts/Edit/{id.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    public string AuditAction(string grantType, bool failed) =>
        grantType == TokenStateWriter.AuthorizationRefused ? "functional-account.authorization-refused"
        : failed ? "functional-account.token-failed" : "functional-account.token-renewed";

    public Task<bool> ExistsAsync(TokenAdminDb db, int id, CancellationToken cancellationToken) =>
        db.FunctionalAccounts.AnyAsync(e => e.Id == id, cancellationToken);

    public async Task<IReadOnlyList<TokenSourceWatch>> WatchAsync(TokenAdminDb db, CancellationToken cancellationToken)
    {
        // The token an account hands out (access or ID token) is the one that must not run out.
        var accounts = await db.FunctionalAccounts.AsNoTracking()
            .OrderBy(a => a.NormalizedName)
            .Select(a => new
            {
                a.Id,
                a.Name,
                a.Valid,
                a.GrantType,
                a.TokenType,
                a.RefreshTokenLifetimeDays,
                a.RefreshTokenSliding,
                HasAccessToken = a.State != null && a.State.AccessTokenProtected != null,
                AccessTokenExpiresAt = a.State != null ? a.State.AccessTokenExpiresAt : null,
                IdTokenExpiresAt = a.State != null ? a.State.IdTokenExpiresAt : null,
                HasRefreshToken = a.State != null && a.State.RefreshTokenProtected != null,
                RefreshTokenExpiresAt = a.State != null ? a.State.RefreshTokenExpiresAt : null,
                Estimated = a.State != null && a.State.RefreshTokenExpiryEstimated,
                RevokedAt = a.State != null ? a.State.RefreshTokenRevokedAt : null,
                ObtainedAt = a.State != null ? a.State.ObtainedAt : null,
                LastRefreshAt = a.State != null ? a.State.LastRefreshAt : null,
            })
            .ToListAsync(cancellationToken);
        return accounts.ConvertAll(a => new TokenSourceWatch(
            a.Id, $"{a.Name} (functional account)", a.Valid,
            a.GrantType == AccountGrantTypes.AuthorizationCode ? TokenFlows.AuthorizationCode : a.GrantType == AccountGrantTypes.DeviceCode ? TokenFlows.DeviceCode : TokenFlows.ClientCredentials,
            a.HasAccessToken, a.TokenType == AccountTokenTypes.IdToken ? a.IdTokenExpiresAt : a.AccessTokenExpiresAt,
            a.HasRefreshToken, a.RefreshTokenExpiresAt, a.Estimated, a.RevokedAt, a.ObtainedAt, a.LastRefreshAt,
            a.RefreshTokenLifetimeDays, a.RefreshTokenSliding, TokenSourceKind.FunctionalAccount));
    }

    public async Task<IReadOnlyList<TokenSourceChoice>> ChoicesAsync(TokenAdminDb db, CancellationToken cancellationToken) =>
        (await db.FunctionalAccounts.AsNoTracking().OrderBy(a => a.Name).Select(a => new { a.Id, a.Name, a.TokenType }).ToListAsync(cancellationToken))
            .ConvertAll(a => new TokenSourceChoice(TokenSource.Account(a.Id).Key, $"Functional account {a.Name} ({a.TokenType})"));

    public async Task<TokenSourceDefinition?> LoadAsync(TokenAdminDb db, int id, bool tracking, CancellationToken cancellationToken)
    {
        var account = await db.FunctionalAccounts.AsNoTracking().Include(a => a.Profile).Include(a => a.State).Where(a => a.Id == id).SingleOrDefaultAsync(cancellationToken);
        if (tracking && account is not null)
        {
            account.State = TokenStates.Track(db, account.State);
        }

        return account is null ? null : Define(account);
    }

    public async Task<IReadOnlyList<TokenSourceDefinition>> LoadManyAsync(TokenAdminDb db, IReadOnlyCollection<int> ids, CancellationToken cancellationToken)
    {
        // Note: only the states are tracked (a batch changes nothing else; see TokenStates.Track).
        var accounts = await db.FunctionalAccounts.AsNoTracking().Include(a => a.Profile).Include(a => a.State).Where(a => ids.Contains(a.Id)).ToListAsync(cancellationToken);
        foreach (var account in accounts)
        {
            account.State = TokenStates.Track(db, account.State);
        }

        return [.. accounts.Select(Define)];
    }

    public TokenSourceDefinition Define(FunctionalAccount account)
    {
        var profile = account.Profile!;
        var resources = (account.Resources ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return new TokenSourceDefinition
        {
            Source = TokenSource.Account(account.Id),
            Name = account.Name,
            Valid = account.Valid,
            Flow = account.GrantType switch
            {
                AccountGrantTypes.AuthorizationCode => TokenFlows.AuthorizationCode,
                AccountGrantTypes.Password => TokenFlows.Password,
                AccountGrantTypes.JwtBearer => TokenFlows.JwtBearer,
                AccountGrantTypes.DeviceCode => TokenFlows.DeviceCode,
                _ => TokenFlows.ClientCredentials,
            },
            ClientId = profile.ClientId,
            ClientSecretProtected = profile.ClientSecretProtected,
            ClientAuthentication = account.ClientAuthentication,
            ClientAssertionAlgorithm = account.ClientAssertionAlgorithm,
            ClientAssertionAudience = account.ClientAssertionAudience ?? ClientAssertion.AudienceTokenEndpoint,
            Certificate = account.Certificate,
            ServiceAccountKey = account.ServiceAccountKey,
            AssertionSubject = account.AssertionSubject,
            Username = account.Username,
            PasswordProtected = account.PasswordProtected,
            Scope = account.Scope,
            SignIn = account.SignIn,
            // Sent the same way in the authorization request and every token request: one parameter each, or space-joined.
            Resources = resources.Length == 0 ? []
                : account.ResourcePerParameter ? [.. resources.Select(r => new KeyValuePair<string, string>(account.ResourceParameterName, r))]
                : [new(account.ResourceParameterName, string.Join(' ', resources))],
            RefreshTokenLifetimeDays = account.RefreshTokenLifetimeDays,
            RefreshTokenSliding = account.RefreshTokenSliding,
            HandsOutIdToken = account.TokenType == AccountTokenTypes.IdToken,
            StateLength = profile.RandLength,
            AuthorizationLifetime = TimeSpan.FromSeconds(profile.RandTtlSeconds),
            UseNonce = profile.UseNonce,
            State = account.State,
            Entity = account,
            Kind = this,
        };
    }

    public async Task<ProviderEndpoints> ResolveAsync(TokenSourceDefinition source, CancellationToken cancellationToken)
    {
        var profile = ((FunctionalAccount)source.Entity).Profile!;
        ProviderMetadata metadata;
        Microsoft.IdentityModel.Protocols.OpenIdConnect.OpenIdConnectConfiguration configuration;
        try
        {
            metadata = runtime.MetadataFor(profile);
            configuration = await metadata.GetAsync(cancellationToken);
        }
        catch (ProfileTlsException ex)
        {
            throw new ProviderConfigurationException($"The TLS settings of profile '{profile.Name}' cannot be used: {ex.Field}: {ex.Message}");
        }
        catch (InvalidOperationException ex)
        {
            throw new ProviderConfigurationException($"Profile '{profile.Name}': {ex.Message} Use Test on the profile for details.", unreachable: true);
        }

        var tokenEndpoint = configuration.TokenEndpoint;
        if (string.IsNullOrEmpty(tokenEndpoint))
        {
            throw new ProviderConfigurationException($"The provider of profile '{profile.Name}' publishes no token_endpoint.");
        }

        if (ProviderHttp.RequiresHttps(tokenEndpoint) && !tokenEndpoint.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            throw new ProviderConfigurationException($"The provider of profile '{profile.Name}' names a token endpoint with plain http ({tokenEndpoint}); the client secret would travel unencrypted, so it is not used. Fix the provider's public URL (behind a proxy: its forwarded-headers setting).");
        }

        var authorization = configuration.AuthorizationEndpoint;
        if (!string.IsNullOrEmpty(authorization) && ProviderHttp.RequiresHttps(authorization) && !authorization.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            throw new ProviderConfigurationException($"The provider of profile '{profile.Name}' names an authorization endpoint with plain http ({authorization}); the sign-in would travel unencrypted. Fix the provider's public URL.");
        }

        var supported = configuration.TokenEndpointAuthMethodsSupported;
        var method = ClientAuthentications.Resolve(source.ClientAuthentication, supported, source.Certificate.Present);
        HttpClient http;
        try
        {
            // Mutual TLS presents the account's own certificate, over the profile's CA and verification settings; without
            // one, the profile's client certificate (already on the profile's client) is presented.
            http = method == ClientAuthentications.TlsClientAuth && source.Certificate.Present
                ? certificateHttp.For(source.Certificate, $"profile {profile.Id} {profile.Version}", () => runtime.TlsOptionsFor(profile))
                : runtime.HttpClientFor(profile);
        }
        catch (ProfileTlsException ex)
        {
            throw new ProviderConfigurationException($"The TLS settings of profile '{profile.Name}' cannot be used: {ex.Field}: {ex.Message}");
        }

        if (method == ClientAuthentications.TlsClientAuth && !source.Certificate.Present && string.IsNullOrWhiteSpace(profile.ClientCertificatePath))
        {
            throw new ProviderConfigurationException($"{source.Title} uses tls_client_auth, but neither the account nor profile '{profile.Name}' has a client certificate: upload one on the account's Edit page.");
        }

        return new ProviderEndpoints(
            tokenEndpoint,
            tokenEndpoint,
            string.IsNullOrEmpty(authorization) ? null : authorization,
            configuration.Issuer,
            method,
            http,
            new IdTokenChecker(metadata, profile.ClientId, TimeSpan.FromSeconds(profile.LeewaySeconds)))
        {
            DeviceAuthorizationEndpoint = string.IsNullOrEmpty(configuration.DeviceAuthorizationEndpoint) ? null : configuration.DeviceAuthorizationEndpoint,
        };
    }

    public Expression<Func<TokenState, bool>> StateRow(int id) => s => s.FunctionalAccountId == id;

    public Expression<Func<TokenState, bool>> StateRows(IReadOnlyCollection<int> ids) => s => s.FunctionalAccountId != null && ids.Contains(s.FunctionalAccountId.Value);

    public TokenState NewState(int id) => new() { FunctionalAccountId = id };

    public void Changed(TokenStateEvents events, int id) => events.AccountTokensChanged(id);
}
