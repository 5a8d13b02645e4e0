using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;
using TokenAdmin.FunctionalAccounts;
using TokenAdmin.Oidc;
using TokenAdmin.TestIdentityProvider;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.WebServices.Api;

namespace TokenAdmin.Tests.Api;

public sealed class IncomingTokenTests : ApiTestBase
{
    private static readonly string[] NobodyRoles = ["nobody"];
    private static readonly string[] RefresherRoles = ["refresher"];

    [Fact]
    public async Task BadTokens_AreRefused_WithTheRightStatusAndChallenge()
    {
        // Arrange: a profile with every restriction, and a second provider whose profile does not accept API tokens.
        await CreateApiProfileAsync(p =>
        {
            p.RestrictScope = "api";
            p.RestrictAuthorizedParty = "caller-app";
            p.RestrictUserLogin = "robot, agent";
        });
        await using var other = await TestIdentityProviderServer.StartAsync();
        await other.AddClientAsync(new TestClient("tokenadmin", ClientSecret, ["http://localhost:5080/oauth2/callback"]));
        await CreateProfileAsync("other-idp", p => p.AcceptIncomingTokens = false, other.MetadataAddress);

        var good = Mint();
        var response = await GetTokensAsync(good);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var current = Idp.SigningCredentials;
        var publicPem = ((RsaSecurityKey)current.Key).Rsa.ExportSubjectPublicKeyInfoPem();
        var hmacWithPublicKey = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(publicPem)) { KeyId = current.Key.KeyId }, SecurityAlgorithms.HmacSha256);
        var cases = new (string Name, string? Token, HttpStatusCode Status, string Error, string Says)[]
        {
            ("alg none", UnsignedToken(Claims()), HttpStatusCode.Unauthorized, "invalid_token", "not signed"),
            ("bad signature", Mint(credentials: ForeignKey(current.Key.KeyId!)), HttpStatusCode.Unauthorized, "invalid_token", "signature does not verify"),
            ("unknown kid", Mint(credentials: ForeignKey("never-published")), HttpStatusCode.Unauthorized, "invalid_token", "does not publish"),
            ("expired", Mint(c => { c["iat"] = now - 3600; c["nbf"] = now - 3600; c["exp"] = now - 600; }), HttpStatusCode.Unauthorized, "invalid_token", "expired"),
            ("nbf in the future", Mint(c => c["nbf"] = now + 600), HttpStatusCode.Unauthorized, "invalid_token", "not valid before"),
            ("wrong issuer", Mint(c => c["iss"] = "http://127.0.0.1:9/elsewhere/"), HttpStatusCode.Unauthorized, "invalid_token", "issuer"),
            ("wrong audience", Mint(c => c["aud"] = "some-other-api"), HttpStatusCode.Unauthorized, "invalid_token", "audience"),
            ("missing scope", Mint(c => c["scope"] = "profile"), HttpStatusCode.Forbidden, "insufficient_scope", "lacks the scope api"),
            ("wrong azp", Mint(c => c["azp"] = "intruder-app"), HttpStatusCode.Unauthorized, "invalid_token", "authorized party"),
            ("wrong UserLogin", Mint(c => c["sub"] = "mallory"), HttpStatusCode.Unauthorized, "invalid_token", "may not use this API"),
            ("malformed", "this.is-not-a.jwt", HttpStatusCode.Unauthorized, "invalid_token", "not a JWT"),
            ("malformed, one part", "garbage", HttpStatusCode.Unauthorized, "invalid_token", "not a JWT"),
            ("malformed, header not JSON", Base64UrlEncoder.Encode("not json") + "." + Base64UrlEncoder.Encode("{}") + ".c2ln", HttpStatusCode.Unauthorized, "invalid_token", "not a JWT"),
            ("oversized", new string('a', 40_000), HttpStatusCode.Unauthorized, "invalid_token", "longer than"),
            ("HS256 signed with the public key", Mint(credentials: hmacWithPublicKey), HttpStatusCode.Unauthorized, "invalid_token", "HS256"),
            ("profile that does not accept incoming tokens", Mint(c => c["iss"] = other.Issuer.AbsoluteUri, idp: other), HttpStatusCode.Unauthorized, "invalid_token", "not accepted here"),
            ("another provider's key under this issuer", Mint(idp: other), HttpStatusCode.Unauthorized, "invalid_token", "does not publish"),
            ("Graph token (nonce header)", Mint(header: new Dictionary<string, object> { ["nonce"] = "graph-nonce" }), HttpStatusCode.Unauthorized, "invalid_token", "Microsoft Graph"),
            ("not a bearer scheme", null, HttpStatusCode.Unauthorized, "invalid_token", "Bearer"),
        };

        // Act + Assert
        var failures = new List<string>();
        foreach (var (name, token, status, error, says) in cases)
        {
            HttpResponseMessage answer;
            if (name == "not a bearer scheme")
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/tokens");
                request.Headers.TryAddWithoutValidation("Authorization", "Basic cm9ib3Q6cHc=");
                answer = await Api.SendAsync(request);
            }
            else
            {
                answer = await GetTokensAsync(token);
            }

            var body = await answer.Content.ReadAsStringAsync();
            var challenge = Challenge(answer);
            if (answer.StatusCode != status || !challenge.Contains($"error=\"{error}\"", StringComparison.Ordinal)
                || !body.Contains(says, StringComparison.Ordinal) || answer.Content.Headers.ContentType?.MediaType != "application/problem+json")
            {
                failures.Add($"{name}: {(int)answer.StatusCode} {challenge} {body}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(HttpStatusCode.OK, (await GetTokensAsync(good)).StatusCode);

        // Every refused call is in the debugger, in order, with its status, as anonymous, without the token.
        var entries = await App.WithDbAsync(db => db.CallLogEntries.AsNoTracking()
            .Where(e => e.Direction == TokenAdmin.WebServices.CallDirection.Incoming).OrderBy(e => e.Id).ToListAsync());
        Assert.Equal(cases.Length + 2, entries.Count);
        Assert.Equal(cases.Select(c => (int)c.Status), entries.Skip(1).Take(cases.Length).Select(e => e.StatusCode ?? 0));
        Assert.All(entries.Skip(1).Take(cases.Length), e => Assert.Equal("anonymous", e.Caller));
        Assert.Equal("robot", entries[^1].Caller);
        var signature = good.Split('.')[2];
        Assert.All(entries, e => Assert.DoesNotContain(signature, e.RequestHeaders + e.ResponseHeaders + e.ResponseBody + e.Url, StringComparison.Ordinal));
    }

    [Fact]
    public async Task NoToken_Is401_WithBearerChallenge_AndNoRedirectToTheSignInPage()
    {
        await CreateApiProfileAsync();

        var response = await GetTokensAsync(null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("Bearer", Challenge(response), StringComparison.Ordinal);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task ValidToken_CreatesApiUserThroughRoleMapAndUserMap()
    {
        await CreateApiProfileAsync();

        var response = await GetTokensAsync(Mint(c => { c["sub"] = "agent"; c["email"] = "agent@example.test"; }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var user = await App.WithDbAsync(db => db.ApiUsers.AsNoTracking().SingleAsync(u => u.NormalizedLogin == "AGENT"));
        Assert.Equal([ApiRoles.TokensRead], user.Roles);
        Assert.Equal("agent@example.test", user.Email);
        Assert.True(await App.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "api-user.created" && a.Target == "agent")));
    }

    [Fact]
    public async Task ProfileWithoutUserCreation_KnowsOnlyExistingUsers()
    {
        await CreateApiProfileAsync(p => p.CreateApiUsers = false);

        var unknown = await GetTokensAsync(Mint());

        Assert.Equal(HttpStatusCode.Forbidden, unknown.StatusCode);
        Assert.Contains("error=\"insufficient_scope\"", Challenge(unknown), StringComparison.Ordinal);
        Assert.False(await App.WithDbAsync(db => db.ApiUsers.AnyAsync()));
    }

    [Fact]
    public async Task DisabledApiUser_IsRefused_EvenWithRoles()
    {
        var profile = await CreateApiProfileAsync(p => p.CreateApiUsers = false);
        await App.WithDbAsync(async db =>
        {
            db.ApiUsers.Add(new ApiUser { Login = "robot", NormalizedLogin = "ROBOT", ManualRoles = ApiRoles.TokensRead, Valid = false, CreatedBy = "test", ChangedBy = "test", OidcProfileId = profile.Id });
            return await db.SaveChangesAsync();
        });

        var response = await GetTokensAsync(Mint());

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("disabled", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenMatchingNoRoleMapRule_IsRefusedAndCreatesNoUser()
    {
        await CreateApiProfileAsync();

        var response = await GetTokensAsync(Mint(c => c["roles"] = NobodyRoles));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("no RoleMap rule", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(await App.WithDbAsync(db => db.ApiUsers.AnyAsync()));
    }

    [Fact]
    public async Task RoleMissingForEndpoint_Is403InsufficientScope()
    {
        await CreateApiProfileAsync();

        var response = await CallAsync(HttpMethod.Post, "/api/v1/token-configs/anything/refresh", Mint());

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("error=\"insufficient_scope\"", Challenge(response), StringComparison.Ordinal);
        Assert.Contains("tokens.refresh", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyRotationAtTheProvider_IsAcceptedWithoutRestart()
    {
        await CreateApiProfileAsync();
        Assert.Equal(HttpStatusCode.OK, (await GetTokensAsync(Mint())).StatusCode);

        Idp.RotateSigningKey(keepOldKeyInJwks: false);
        var response = await GetTokensAsync(Mint(c => c["jti"] = "after-rotation"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ProviderDown_Is503_NotA500()
    {
        await CreateApiProfileAsync();
        var profile = await App.WithDbAsync(db => db.OidcProfiles.SingleAsync());
        App.Services.GetRequiredService<TokenAdmin.Oidc.OidcProfileRuntime>().Forget(profile.Id);
        Idp.Faults.DiscoveryServerError500 = true;

        var response = await GetTokensAsync(Mint());

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("could not be reached", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RealAccessToken_FromTheTestProvider_PassesEndToEnd()
    {
        var options = new TestIdentityProviderOptions();
        options.AccessTokenAudiences.Add(Audience);
        await using var issuing = await TestIdentityProviderServer.StartAsync(options);
        await issuing.AddClientAsync(new TestClient("tokenadmin", ClientSecret, ["http://localhost:5080/oauth2/callback"]));
        await CreateApiProfileAsync(p => p.RoleMapYaml = "sub:\n  tokenadmin: tokens.read", discoveryUrl: issuing.MetadataAddress);
        using var http = new HttpClient();
        using var tokenResponse = await http.PostAsync(issuing.TokenEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = "tokenadmin", ["client_secret"] = ClientSecret, ["scope"] = "api",
        }));
        var accessToken = (await JsonAsync(tokenResponse)).GetProperty("access_token").GetString();

        var response = await GetTokensAsync(accessToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(await App.WithDbAsync(db => db.ApiUsers.AnyAsync(u => u.NormalizedLogin == "TOKENADMIN")));
    }

    [Fact]
    public async Task ProfilesAreTriedInOrder_TheFirstThatAcceptsWins()
    {
        // Two profiles of the same provider: the first wants another audience, the second accepts the token.
        await CreateApiProfileAsync(p => { p.RestrictAudience = "not-this-api"; p.IncomingOrder = "1"; }, name: "first");
        await CreateApiProfileAsync(p => p.IncomingOrder = "2", name: "second");

        var response = await GetTokensAsync(Mint());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var user = await App.WithDbAsync(db => db.ApiUsers.AsNoTracking().SingleAsync());
        var second = await App.WithDbAsync(db => db.OidcProfiles.SingleAsync(p => p.Name == "second"));
        Assert.Equal(second.Id, user.OidcProfileId);
    }

    [Fact]
    public async Task AcceptedToken_IsRememberedByHash_ButNotPastTheProfileChange()
    {
        await CreateApiProfileAsync();
        var token = Mint();
        Assert.Equal(HttpStatusCode.OK, (await GetTokensAsync(token)).StatusCode);

        // The profile stops accepting tokens: the remembered token must not outlive that.
        var profile = await App.WithDbAsync(db => db.OidcProfiles.SingleAsync());
        using (var scope = App.Services.CreateScope())
        {
            var service = scope.ServiceProvider.GetRequiredService<TokenAdmin.Oidc.OidcProfileService>();
            var input = TokenAdmin.Oidc.OidcProfileInput.From(profile);
            input.AcceptIncomingTokens = false;
            var result = await service.UpdateAsync(profile.Id, input, "test", default);
            Assert.True(result.Succeeded, string.Join("; ", result.Errors.Values));
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await GetTokensAsync(token)).StatusCode);
    }

    [Fact]
    public async Task EveryHmacAlgorithm_IsRefused_BeforeAnyKeyLookup()
    {
        await CreateApiProfileAsync();
        var key = new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(64)) { KeyId = Idp.SigningCredentials.Key.KeyId };
        foreach (var algorithm in new[] { SecurityAlgorithms.HmacSha256, SecurityAlgorithms.HmacSha384, SecurityAlgorithms.HmacSha512 })
        {
            var response = await GetTokensAsync(Mint(credentials: new SigningCredentials(key, algorithm)));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Contains("shared-secret", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ApiUser_BelongsToOneProfile_AnotherProfileNeitherUsesNorTakesItOver_HandMadeUsersNeedALink()
    {
        var first = await CreateApiProfileAsync();
        await using var other = await TestIdentityProviderServer.StartAsync();
        await other.AddClientAsync(new TestClient("tokenadmin", ClientSecret, ["http://localhost:5080/oauth2/callback"]));
        await CreateApiProfileAsync(name: "other-api", discoveryUrl: other.MetadataAddress);
        await App.WithDbAsync(async db =>
        {
            db.ApiUsers.Add(new ApiUser { Login = "handmade", NormalizedLogin = "HANDMADE", ManualRoles = ApiRoles.TokensRead, CreatedBy = "test", ChangedBy = "test" });
            return await db.SaveChangesAsync();
        });

        var own = await GetTokensAsync(Mint());
        var foreign = await GetTokensAsync(Mint(c => { c["iss"] = other.Issuer.AbsoluteUri; c["roles"] = RefresherRoles; }, idp: other));
        var handMade = await GetTokensAsync(Mint(c => c["sub"] = "handmade"));

        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
        Assert.Contains("another OIDC profile", await foreign.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, handMade.StatusCode);
        Assert.Contains("import-user --profile", await handMade.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var robot = await App.WithDbAsync(db => db.ApiUsers.AsNoTracking().SingleAsync(u => u.NormalizedLogin == "ROBOT"));
        Assert.Equal(first.Id, robot.OidcProfileId);
        Assert.Equal(ApiRoles.TokensRead, robot.MappedRoles);
        Assert.Null((await App.WithDbAsync(db => db.ApiUsers.AsNoTracking().SingleAsync(u => u.NormalizedLogin == "HANDMADE"))).OidcProfileId);
    }

    [Fact]
    public async Task DisablingAUserOrTakingItsRole_TakesEffectOnTheNextCall_EvenForARememberedToken()
    {
        await CreateApiProfileAsync(p => p.CreateApiUsers = false);
        var profile = await App.WithDbAsync(db => db.OidcProfiles.SingleAsync());
        await App.WithDbAsync(async db =>
        {
            db.ApiUsers.Add(new ApiUser { Login = "robot", NormalizedLogin = "ROBOT", ManualRoles = ApiRoles.TokensRead, CreatedBy = "test", ChangedBy = "test", OidcProfileId = profile.Id });
            return await db.SaveChangesAsync();
        });
        var token = Mint();
        Assert.Equal(HttpStatusCode.OK, (await GetTokensAsync(token)).StatusCode);

        var removed = await ConsoleVerbs.RunAsync(App.DataDirectory, "", "api-users", "roles", "robot", "--remove", ApiRoles.TokensRead);
        Assert.Equal(0, removed.Exit);
        var withoutRole = await GetTokensAsync(token);
        await ConsoleVerbs.RunAsync(App.DataDirectory, "", "api-users", "roles", "robot", "--add", ApiRoles.TokensRead);
        var roleBack = await GetTokensAsync(token);
        await App.WithDbAsync(db => db.ApiUsers.ExecuteUpdateAsync(u => u.SetProperty(x => x.Valid, false)));
        var disabled = await GetTokensAsync(token);

        Assert.Equal(HttpStatusCode.Forbidden, withoutRole.StatusCode);
        Assert.Equal(HttpStatusCode.OK, roleBack.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, disabled.StatusCode);
        Assert.Contains("disabled", await disabled.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task IdTokens_AreRefused_AsApiAccessTokens()
    {
        await CreateApiProfileAsync();

        var withNonce = await GetTokensAsync(Mint(c => c["nonce"] = "n-0S6_WzA2Mj"));
        var withAtHash = await GetTokensAsync(Mint(c => c["at_hash"] = "77QmUPtjPfzWtF2AnpK9RQ"));
        var keycloakId = await GetTokensAsync(Mint(c => c["typ"] = "ID"));
        var access = await GetTokensAsync(Mint());

        foreach (var refused in new[] { withNonce, withAtHash, keycloakId })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Contains("ID token", Challenge(refused), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.OK, access.StatusCode);
    }

    [Fact]
    public async Task HugeTokenValues_DoNotBlowUpTheChallenge()
    {
        await CreateApiProfileAsync();
        var audiences = Enumerable.Range(0, 150).Select(i => $"https://api-{i}.example.test/a/rather/long/audience/value").ToArray();

        var response = await GetTokensAsync(Mint(c => c["aud"] = audiences));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = Challenge(response);
        Assert.Contains("audience", challenge, StringComparison.Ordinal);
        Assert.True(challenge.Length < 500, $"challenge of {challenge.Length} characters");
        Assert.True((await response.Content.ReadAsStringAsync()).Length < 1000);
    }

    [Fact]
    public async Task DatabaseError_WhileReadingTheApiUser_Is503WithRetryAfter()
    {
        await CreateApiProfileAsync(p => p.CreateApiUsers = false);
        await App.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("ALTER TABLE ApiUsers RENAME TO ApiUsersGone"));

        var response = await GetTokensAsync(Mint());

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Contains("database", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
