using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using TokenAdmin.TestIdentityProvider.Internal;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace TokenAdmin.TestIdentityProvider;

/// <summary>
/// A real OpenID Connect provider (OpenIddict server on Kestrel, HTTP on 127.0.0.1) for tests and local trials.
/// </summary>
public sealed class TestIdentityProviderServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ProviderState _state;
    private readonly SigningKeyRing _keys;
    private readonly OpenIddictServerOptions _serverOptions;
    private readonly string _connectionString;
    private readonly string? _temporaryDatabasePath;
    private readonly SemaphoreSlim _clientRegistration = new(1, 1);
    private int _disposed;

    private TestIdentityProviderServer(
        WebApplication app, ProviderState state, SigningKeyRing keys, OpenIddictServerOptions serverOptions,
        Uri issuer, string connectionString, string? temporaryDatabasePath)
    {
        _app = app;
        _state = state;
        _keys = keys;
        _serverOptions = serverOptions;
        _connectionString = connectionString;
        _temporaryDatabasePath = temporaryDatabasePath;
        Issuer = issuer;
        MetadataAddress = issuer.AbsoluteUri + ".well-known/openid-configuration";
        JwksUri = issuer.AbsoluteUri + ".well-known/jwks";
        AuthorizationEndpoint = issuer.AbsoluteUri + "connect/authorize";
        TokenEndpoint = issuer.AbsoluteUri + "connect/token";
        IntrospectionEndpoint = issuer.AbsoluteUri + "connect/introspect";
        UserInfoEndpoint = issuer.AbsoluteUri + "connect/userinfo";
        EndSessionEndpoint = issuer.AbsoluteUri + "connect/logout";
        RevocationEndpoint = issuer.AbsoluteUri + "connect/revoke";
        DeviceAuthorizationEndpoint = issuer.AbsoluteUri + "connect/device";
        VerificationEndpoint = issuer.AbsoluteUri + "connect/verify";
    }

    /// <summary>The device authorization endpoint (RFC 8628); clients need <see cref="DeviceCodeGrantType"/> in their allowed grant types.</summary>
    public string DeviceAuthorizationEndpoint { get; }

    /// <summary>The end-user verification endpoint of the device flow: a form (GET) and its POST (user_code, username, password, action=approve|deny).</summary>
    public string VerificationEndpoint { get; }

    /// <summary>The grant type of the device authorization grant (RFC 8628).</summary>
    public const string DeviceCodeGrantType = OpenIddictConstants.GrantTypes.DeviceCode;

    /// <summary>Lifetime of device and user codes issued after the change (OpenIddict's default: 10 minutes).</summary>
    public TimeSpan DeviceCodeLifetime
    {
        get => _serverOptions.DeviceCodeLifetime ?? TimeSpan.Zero;
        set
        {
            _serverOptions.DeviceCodeLifetime = Positive(value);
            _serverOptions.UserCodeLifetime = value;
        }
    }

    /// <summary>
    /// Answers a device sign-in as <paramref name="userName"/> would in a browser: posts the user code and the user's
    /// credentials to the verification endpoint, approving or denying. Returns the HTTP status (302 when the answer was
    /// taken; 400 with a page for an unknown code or wrong credentials).
    /// </summary>
    public async Task<HttpStatusCode> AnswerUserCodeAsync(string userCode, string userName, string password, bool approve, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };
        using var response = await http.PostAsync(VerificationEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["user_code"] = userCode,
            ["username"] = userName,
            ["password"] = password,
            ["action"] = approve ? "approve" : "deny",
        }), cancellationToken);
        return response.StatusCode;
    }

    /// <summary>The issuer, e.g. <c>http://127.0.0.1:41234/</c> (with trailing slash).</summary>
    public Uri Issuer { get; }

    /// <summary>The discovery document address (issuer + <c>.well-known/openid-configuration</c>).</summary>
    public string MetadataAddress { get; }

    /// <summary>The JSON Web Key Set address.</summary>
    public string JwksUri { get; }

    /// <summary>The authorization endpoint (login page).</summary>
    public string AuthorizationEndpoint { get; }

    /// <summary>The token endpoint.</summary>
    public string TokenEndpoint { get; }

    /// <summary>The introspection endpoint (confidential clients only).</summary>
    public string IntrospectionEndpoint { get; }

    /// <summary>The userinfo endpoint.</summary>
    public string UserInfoEndpoint { get; }

    /// <summary>The end session (logout) endpoint.</summary>
    public string EndSessionEndpoint { get; }

    /// <summary>The revocation endpoint.</summary>
    public string RevocationEndpoint { get; }

    /// <summary>Faults injected before OpenIddict handles a request.</summary>
    public TestIdentityProviderFaults Faults => _state.Faults;

    /// <summary>Lifetime of access tokens issued after the change (default 1 hour).</summary>
    public TimeSpan AccessTokenLifetime
    {
        get => _serverOptions.AccessTokenLifetime ?? TimeSpan.Zero;
        set => _serverOptions.AccessTokenLifetime = Positive(value);
    }

    /// <summary>Lifetime of refresh tokens issued after the change (default 14 days).</summary>
    public TimeSpan RefreshTokenLifetime
    {
        get => _serverOptions.RefreshTokenLifetime ?? TimeSpan.Zero;
        set => _serverOptions.RefreshTokenLifetime = Positive(value);
    }

    /// <summary>
    /// When true, token responses with a refresh token carry <c>refresh_token_expires_in</c> = <see cref="RefreshTokenLifetime"/>
    /// in seconds (as Google states it, 7 days for an app in "Testing" mode); default false (OpenIddict states none).
    /// </summary>
    public bool StateRefreshTokenLifetime
    {
        get => _state.StatedRefreshTokenLifetime is not null;
        set => _state.StatedRefreshTokenLifetime = value ? RefreshTokenLifetime : null;
    }

    /// <summary>Lifetime of identity tokens issued after the change (default 20 minutes).</summary>
    public TimeSpan IdentityTokenLifetime
    {
        get => _serverOptions.IdentityTokenLifetime ?? TimeSpan.Zero;
        set => _serverOptions.IdentityTokenLifetime = Positive(value);
    }

    /// <summary>The <c>kid</c> of the key that signs new tokens.</summary>
    public string CurrentSigningKeyId => _keys.CurrentKeyId;

    /// <summary>The <c>kid</c>s published in the JWKS (newest first).</summary>
    public IReadOnlyList<string> PublishedSigningKeyIds => _keys.PublishedKeyIds;

    /// <summary>Requests that reached the token endpoint, faulted ones included.</summary>
    public int TokenRequestCount => _state.TokenRequestCount;

    /// <summary>Token-endpoint requests per <c>grant_type</c> (a snapshot; "(none)" when the form had none).</summary>
    public IReadOnlyDictionary<string, int> TokenRequestsByGrantType => _state.TokenRequestsByGrantType;

    /// <summary>Refresh requests rejected because the refresh token had already been redeemed (the chain is then revoked).</summary>
    public int RefreshTokenReuseCount => _state.RefreshTokenReuseCount;

    /// <summary>The form fields of the last token request, repeated names (resource indicators) included.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> LastTokenRequest => _state.LastTokenRequest;

    /// <summary>Starts a provider on <c>http://127.0.0.1:{options.Port}</c> (0 = a free port).</summary>
    public static async Task<TestIdentityProviderServer> StartAsync(
        TestIdentityProviderOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new TestIdentityProviderOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Port, IPEndPoint.MaxPort);
        if (options.TlsClientAuthenticationCa is not null && (options.ServerCertificate is null || options.RequireClientCertificateFrom is not null))
        {
            throw new ArgumentException("TlsClientAuthenticationCa needs ServerCertificate and cannot be combined with RequireClientCertificateFrom.", nameof(options));
        }

        var temporaryDatabasePath = options.DatabasePath is null
            ? Path.Combine(Path.GetTempPath(), $"tokenadmin-test-idp-{Guid.NewGuid():N}.db")
            : null;
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.GetFullPath(options.DatabasePath ?? temporaryDatabasePath!),
        }.ToString();

        var state = new ProviderState(options);
        var keys = new SigningKeyRing();
        WebApplication? app = null;
        TestIdentityProviderServer? server = null;
        try
        {
            app = BuildApplication(options, state, keys, connectionString);

            await using (var scope = app.Services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<IdentityProviderDbContext>();
                await db.Database.EnsureCreatedAsync(cancellationToken);
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            }

            var serverOptions = app.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue;
            keys.Attach(serverOptions);

            await app.StartAsync(cancellationToken);

            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>()
                .Addresses.Select(static address => new Uri(address)).First();
            var issuer = new Uri($"{(options.ServerCertificate is null ? "http" : "https")}://{options.PublicHost ?? "127.0.0.1"}:{address.Port}/");

            // OpenIddict reads the issuer for every request, so it can be set once the port is known.
            serverOptions.Issuer = issuer;

            server = new TestIdentityProviderServer(
                app, state, keys, serverOptions, issuer, connectionString, temporaryDatabasePath);

            foreach (var user in options.Users)
            {
                server.AddUser(user);
            }

            foreach (var client in options.Clients)
            {
                await server.AddClientAsync(client, cancellationToken);
            }

            return server;
        }
        catch
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
            else
            {
                if (app is not null)
                {
                    await app.DisposeAsync();
                }

                keys.Dispose();
                DeleteDatabase(connectionString, temporaryDatabasePath);
            }

            throw;
        }
    }

    /// <summary>Registers (or updates) a client through OpenIddict's application manager.</summary>
    public async Task AddClientAsync(TestClient client, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

        var descriptor = ClientRegistration.CreateDescriptor(client, _state.Options.RequirePkce);
        await _clientRegistration.WaitAsync(ct);
        try
        {
            await using var scope = _app.Services.CreateAsyncScope();
            var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
            var existing = await manager.FindByClientIdAsync(client.ClientId, ct);
            if (existing is null)
            {
                await manager.CreateAsync(descriptor, ct);
            }
            else
            {
                await manager.UpdateAsync(existing, descriptor, ct);
            }

            _state.Clients[client.ClientId] = client;
        }
        finally
        {
            _clientRegistration.Release();
        }
    }

    /// <summary>Adds (or replaces) a user; users are kept in memory.</summary>
    public void AddUser(TestUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentException.ThrowIfNullOrWhiteSpace(user.UserName);
        _state.Users[user.UserName] = user;
    }

    /// <summary>
    /// Registers a public key that may sign JWT bearer grant assertions (RFC 7523 section 2.1) of <paramref name="issuer"/>
    /// (a service account's client_email, or a client ID) with header kid <paramref name="keyId"/>. The provider checks
    /// the signature, iss, aud (the token endpoint), exp (at most one hour after iat) and issues a token for the
    /// assertion's sub. Clients that send the grant need <see cref="JwtBearerGrantType"/> in their allowed grant types.
    /// </summary>
    public void AddJwtBearerKey(string issuer, string keyId, Microsoft.IdentityModel.Tokens.SecurityKey publicKey)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(issuer);
        ArgumentException.ThrowIfNullOrWhiteSpace(keyId);
        ArgumentNullException.ThrowIfNull(publicKey);
        _state.JwtBearerKeys.GetOrAdd(issuer, static _ => new(StringComparer.Ordinal))[keyId] = publicKey;
    }

    /// <summary>The grant type of the JWT bearer grant (RFC 7523 section 2.1).</summary>
    public const string JwtBearerGrantType = ProviderEndpoints.JwtBearerGrantType;

    /// <summary>Removes a user: the login page and the password grant no longer accept it.</summary>
    public bool RemoveUser(string userName) => _state.Users.TryRemove(userName, out _);

    /// <summary>
    /// Creates a new RSA key (new <c>kid</c>) that signs every token from now on. The JWKS publishes the new key,
    /// plus the previous ones when <paramref name="keepOldKeyInJwks"/> is set. Codes and refresh tokens signed
    /// with an older key stay redeemable here either way.
    /// </summary>
    public void RotateSigningKey(bool keepOldKeyInJwks = true) => _keys.Rotate(keepOldKeyInJwks);

    /// <summary>
    /// Test-only: the credentials (RSA private key, <c>kid</c>, RS256) that sign this provider's tokens now. Tests use
    /// them to craft tokens the provider would never issue (other issuers, audiences, lifetimes, header fields).
    /// </summary>
    public Microsoft.IdentityModel.Tokens.SigningCredentials SigningCredentials => _keys.Current;

    /// <summary>
    /// Test-only mint: a JWT signed with <paramref name="credentials"/> (default: this provider's current key), with
    /// <paramref name="claims"/> as its payload as given (no claim is added: set iss, aud, exp, ... yourself) and
    /// <paramref name="header"/> merged into its header (typ, nonce, ...).
    /// </summary>
    public string MintToken(
        IDictionary<string, object> claims, IDictionary<string, object>? header = null,
        Microsoft.IdentityModel.Tokens.SigningCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(claims);
        var handler = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        var descriptor = new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object>(claims),
            SigningCredentials = credentials ?? _keys.Current,
            AdditionalHeaderClaims = header is null ? null : new Dictionary<string, object>(header),
        };
        return handler.CreateToken(descriptor);
    }

    /// <summary>Same as the <see cref="RefreshTokenReuseCount"/> property (kept async for callers that expect a query).</summary>
    public Task<int> CountRefreshTokenReuseAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(_state.RefreshTokenReuseCount);
    }

    /// <summary>Resets <see cref="TokenRequestCount"/>, <see cref="TokenRequestsByGrantType"/> and <see cref="RefreshTokenReuseCount"/>.</summary>
    public void ResetCounters() => _state.ResetCounters();

    /// <summary>Stops Kestrel and deletes the temporary database.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _app.StopAsync();
        }
        finally
        {
            await _app.DisposeAsync();
            _keys.Dispose();
            _clientRegistration.Dispose();
            DeleteDatabase(_connectionString, _temporaryDatabasePath);
        }
    }

    private static WebApplication BuildApplication(
        TestIdentityProviderOptions options, ProviderState state, SigningKeyRing keys, string connectionString)
    {
        // The empty builder reads no appsettings.json or environment variables, so a host test project's
        // configuration (Kestrel endpoints, logging, ASPNETCORE_URLS) cannot leak into the provider.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(TestIdentityProviderServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });

        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, options.Port, listen =>
            {
                if (options.ServerCertificate is { } certificate)
                {
                    listen.UseHttps(https =>
                    {
                        https.ServerCertificate = certificate;
                        if (options.TlsClientAuthenticationCa is not null)
                        {
                            // RFC 8705: the handshake only carries the certificate; OpenIddict judges it at the token
                            // endpoint (chain to the CA, subject DN of the client), so a refusal is a proper invalid_client.
                            https.ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.AllowCertificate;
                            https.AllowAnyClientCertificate();
                        }
                        else if (options.RequireClientCertificateFrom is { } clientCa)
                        {
                            https.ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.RequireCertificate;
                            https.ClientCertificateValidation = (client, _, _) =>
                            {
                                using var chain = new System.Security.Cryptography.X509Certificates.X509Chain();
                                chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                                chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
                                chain.ChainPolicy.CustomTrustStore.Add(clientCa);
                                return chain.Build(client);
                            };
                        }
                    });
                }
            });
        });

        builder.Logging.SetMinimumLevel(options.MinimumLogLevel);
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
        if (options.ConfigureLogging is { } configureLogging)
        {
            configureLogging(builder.Logging);
        }
        else
        {
            builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
        }

        var services = builder.Services;
        services.AddRouting();

        // Nothing here needs persistent Data Protection keys: keep the key ring in memory so the provider writes
        // nothing to the user profile (the "no XML encryptor" warning is moot then, hence the log filter).
        services.Configure<KeyManagementOptions>(keyManagement => keyManagement.XmlRepository = new InMemoryXmlRepository());
        services.AddSingleton<IHostLifetime>(new NoopHostLifetime());
        services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));
        services.AddSingleton(state);
        services.AddSingleton(keys);
        services.AddSingleton(static provider => new FaultInjectionMiddleware(
            provider.GetRequiredService<ProviderState>(), provider.GetRequiredService<IHostApplicationLifetime>()));

        services.AddDbContext<IdentityProviderDbContext>(db =>
        {
            db.UseSqlite(connectionString);
            db.UseOpenIddict();
        });

        services.AddOpenIddict()
            .AddCore(core =>
            {
                core.UseEntityFrameworkCore().UseDbContext<IdentityProviderDbContext>();
                if (options.TlsClientAuthenticationCa is not null)
                {
                    core.ReplaceApplicationManager(typeof(TlsClientAuthApplicationManager<>));
                }
            })
            .AddServer(server =>
            {
                // Relative endpoint URIs resolve against the issuer.
                server.SetAuthorizationEndpointUris("connect/authorize")
                    .SetTokenEndpointUris("connect/token")
                    .SetIntrospectionEndpointUris("connect/introspect")
                    .SetUserInfoEndpointUris("connect/userinfo")
                    .SetEndSessionEndpointUris("connect/logout")
                    .SetRevocationEndpointUris("connect/revoke")
                    .SetDeviceAuthorizationEndpointUris("connect/device")
                    .SetEndUserVerificationEndpointUris("connect/verify");

                server.AllowAuthorizationCodeFlow()
                    .AllowRefreshTokenFlow()
                    .AllowClientCredentialsFlow()
                    .AllowCustomFlow(ProviderEndpoints.JwtBearerGrantType)
                    .AllowDeviceAuthorizationFlow();
                if (options.AllowPasswordFlow)
                {
                    server.AllowPasswordFlow();
                }

                if (options.RequirePkce)
                {
                    server.RequireProofKeyForCodeExchange();
                }

                if (options.TlsClientAuthenticationCa is { } tlsClientCa)
                {
                    // OpenIddict's RFC 8705 PKI method: certificates must chain to this CA (TlsClientAuthApplicationManager
                    // adds the client's registered subject DN). OpenIddict takes the CA without its private key only.
                    // The test CA publishes no revocation list.
                    server.EnablePublicKeyInfrastructureTlsClientAuthentication(
                        new System.Security.Cryptography.X509Certificates.X509Certificate2Collection(
                            System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(tlsClientCa.RawData)),
                        policy => policy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck);
                }

                server.RegisterScopes(
                    Scopes.OpenId, Scopes.Profile, Scopes.Email, Scopes.Roles, Scopes.OfflineAccess, "api", "mail");
                server.RegisterClaims(
                    Claims.Subject, Claims.Name, Claims.PreferredUsername, Claims.Email, PrincipalFactory.RolesClaimType);

                // Any scope a client is permitted (Permissions.Prefixes.Scope + name) is accepted, so the scope
                // store does not have to know custom scopes.
                server.DisableScopeValidation();

                // Ephemeral in-memory keys only. Access tokens are plain signed JWTs so resource servers can
                // validate them with the JWKS; codes and refresh tokens stay encrypted.
                server.AddEphemeralEncryptionKey()
                    .AddSigningCredentials(keys.Current)
                    .DisableAccessTokenEncryption();
                if (options.OpaqueAccessTokens)
                {
                    server.UseReferenceAccessTokens();
                }

                server.SetAccessTokenLifetime(TimeSpan.FromHours(1))
                    .SetRefreshTokenLifetime(TimeSpan.FromDays(14))
                    .SetIdentityTokenLifetime(TimeSpan.FromMinutes(20))
                    .SetRefreshTokenReuseLeeway(options.RefreshTokenReuseLeeway);

                server.Configure(serverOptions =>
                {
                    // PKCE with S256 only.
                    serverOptions.CodeChallengeMethods.Remove(CodeChallengeMethods.Plain);
                });

                server.AddEventHandler<OpenIddictServerEvents.ApplyTokenResponseContext>(handler => handler
                    .UseInlineHandler(context =>
                    {
                        if (state.StatedRefreshTokenLifetime is { } lifetime && context.Response.RefreshToken is not null)
                        {
                            context.Response["refresh_token_expires_in"] = (long)lifetime.TotalSeconds;
                        }

                        return ValueTask.CompletedTask;
                    })
                    .SetOrder(int.MinValue));

                server.AddEventHandler<OpenIddictServerEvents.ProcessErrorContext>(handler => handler
                    .UseInlineHandler(context =>
                    {
                        // OpenIddict rejects a redeemed refresh token with ID2012 (and revokes the token chain).
                        if (context.EndpointType == OpenIddictServerEndpointType.Token &&
                            context.Request?.IsRefreshTokenGrantType() == true &&
                            context.ErrorUri?.EndsWith("ID2012", StringComparison.Ordinal) == true)
                        {
                            state.CountRefreshTokenReuse();
                        }

                        return ValueTask.CompletedTask;
                    })
                    .SetOrder(int.MinValue));

                server.UseAspNetCore()
                    .DisableTransportSecurityRequirement()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .EnableUserInfoEndpointPassthrough()
                    .EnableEndSessionEndpointPassthrough()
                    .EnableEndUserVerificationEndpointPassthrough();
            });

        var app = builder.Build();

        // Faults and counters come before OpenIddict, which runs inside the authentication middleware.
        var faults = app.Services.GetRequiredService<FaultInjectionMiddleware>();
        app.Use((context, next) => faults.InvokeAsync(context, next));
        if (options.RequireClientCertificateFrom is not null)
        {
            // The TLS handshake already demanded and checked the client certificate. OpenIddict would take it for RFC 8705
            // client authentication, which these clients are not registered for; the client secret authenticates them.
            app.Use((context, next) =>
            {
                context.Connection.ClientCertificate = null;
                return next(context);
            });
        }
        app.UseRouting();
        app.UseAuthentication();
        ProviderEndpoints.Map(app);
        return app;
    }

    private static TimeSpan Positive(TimeSpan value)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
        return value;
    }

    private static void DeleteDatabase(string connectionString, string? temporaryDatabasePath)
    {
        using (var connection = new SqliteConnection(connectionString))
        {
            SqliteConnection.ClearPool(connection);
        }

        if (temporaryDatabasePath is null)
        {
            return;
        }

        foreach (var path in new[] { temporaryDatabasePath, temporaryDatabasePath + "-wal", temporaryDatabasePath + "-shm" })
        {
            try
            {
                File.Delete(path);
            }
            catch (IOException)
            {
                // Best effort: the file lives in the temp folder.
            }
            catch (UnauthorizedAccessException)
            {
                // Best effort: the file lives in the temp folder.
            }
        }
    }
}
