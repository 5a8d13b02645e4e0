using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace TokenAdmin.Providers;

/// <summary>A checked token: its claims and expiry, or why it was refused (in words for an admin).</summary>
/// <summary>A token check; <see cref="ProviderUnreachable"/> says the provider's keys could not be fetched (try again later, not a bad token).</summary>
public sealed record TokenCheck(bool Valid, string? Error, DateTime? ExpiresAt = null, JsonElement Claims = default, bool ProviderUnreachable = false);

/// <summary>
/// Checks JWTs a profile's provider issued: signature with the provider's published keys (an unknown key id refetches
/// them once), issuer, audience, lifetime with the profile's leeway, an allow-list of asymmetric algorithms; for ID
/// tokens also iat, azp and the nonce. Never logs or returns the token.
/// </summary>
public static class ProviderTokenValidator
{
    /// <summary>Asymmetric algorithms only: "none" and HMAC (a provider's public key used as an HMAC secret) are refused.</summary>
    public static readonly IReadOnlyList<string> Algorithms =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];

    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    /// <summary>
    /// The one set of rules for a provider's JWT: issuer (the provider's, added by <see cref="ValidateAsync"/>), a
    /// signature with an allowed asymmetric algorithm, lifetime with <paramref name="leeway"/>, and the audience when
    /// <paramref name="audiences"/> names any (none: the audience is not checked, which the caller must say).
    /// </summary>
    public static TokenValidationParameters Parameters(IReadOnlyCollection<string> audiences, TimeSpan leeway, bool requireExpiry = true) => new()
    {
        ValidateIssuer = true,
        ValidateAudience = audiences.Count > 0,
        ValidAudiences = audiences,
        ValidateLifetime = true,
        RequireExpirationTime = requireExpiry,
        RequireSignedTokens = true,
        ValidAlgorithms = Algorithms,
        ClockSkew = leeway,
    };

    /// <summary>An ID token from a provider for <paramref name="clientId"/> (OpenID Connect Core 3.1.3.7).</summary>
    public static async Task<TokenCheck> ValidateIdTokenAsync(
        string idToken, string clientId, TimeSpan leeway, ProviderMetadata provider, string? expectedNonce, DateTime now)
    {
        var check = await ValidateAsync(idToken, Parameters([clientId], leeway), provider, "ID token");
        if (!check.Valid)
        {
            return check;
        }

        var claims = check.Claims;
        if (!claims.TryGetProperty("sub", out var sub) || sub.ValueKind != JsonValueKind.String || sub.GetString() is not { Length: > 0 })
        {
            return check with { Valid = false, Error = "The ID token has no sub (subject) claim." };
        }

        if (!claims.TryGetProperty("iat", out var iat) || NumericDate.Seconds(iat) is not { } issuedAt)
        {
            return check with { Valid = false, Error = "The ID token has no iat (issued at) claim." };
        }

        if (DateTimeOffset.FromUnixTimeSeconds(issuedAt).UtcDateTime - leeway > now)
        {
            return check with { Valid = false, Error = $"The ID token claims to be issued in the future ({DateTimeOffset.FromUnixTimeSeconds(issuedAt):u}); check the clocks or the Leeway." };
        }

        var audiences = claims.TryGetProperty("aud", out var aud) && aud.ValueKind == JsonValueKind.Array ? aud.GetArrayLength() : 1;
        var azp = claims.TryGetProperty("azp", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
        if (audiences > 1 && azp is null)
        {
            return check with { Valid = false, Error = "The ID token has several audiences but no azp (authorized party) claim." };
        }

        if (azp is not null && azp != clientId)
        {
            return check with { Valid = false, Error = $"The ID token's authorized party (azp) '{Cut(azp)}' is not this client's id." };
        }

        if (expectedNonce is not null)
        {
            var nonce = claims.TryGetProperty("nonce", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
            if (nonce != expectedNonce)
            {
                return check with { Valid = false, Error = "The ID token's nonce does not match the request: the answer was not for this sign-in." };
            }
        }

        return check;
    }

    /// <summary>
    /// Validates with <paramref name="parameters"/> and the issuer and keys of the provider's discovery document; a
    /// token signed with a key id the cached keys do not have makes the keys be fetched again once (key rotation).
    /// Turns every refusal into a sentence that names the cause.
    /// </summary>
    public static async Task<TokenCheck> ValidateAsync(
        string token, TokenValidationParameters parameters, ProviderMetadata provider, string what)
    {
        if (!Handler.CanReadToken(token))
        {
            return new TokenCheck(false, $"The {what} is not a JWT (three base64url parts, at most {Handler.MaximumTokenSizeInBytes / 1024} KB).");
        }

        TokenValidationResult result;
        try
        {
            result = await Handler.ValidateTokenAsync(token, WithProvider(parameters, await provider.GetAsync(CancellationToken.None)));
            if (!result.IsValid && result.Exception is SecurityTokenSignatureKeyNotFoundException)
            {
                // Note: the refetch is rate-limited, so a stream of forged key ids cannot hammer the provider.
                result = await Handler.ValidateTokenAsync(token, WithProvider(parameters, await provider.RefetchAsync(CancellationToken.None)));
            }
        }
        catch (InvalidOperationException ex)
        {
            // The discovery document or keys could not be fetched.
            return new TokenCheck(false, $"The provider's keys could not be fetched to check the {what}: {Unwrap(ex)}", ProviderUnreachable: true);
        }

        if (!result.IsValid)
        {
            return new TokenCheck(false, Describe(result.Exception, (JsonWebToken?)result.SecurityToken ?? TryRead(token), what));
        }

        var jwt = (JsonWebToken)result.SecurityToken;
        using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(jwt.EncodedPayload));
        return new TokenCheck(true, null, jwt.ValidTo == DateTime.MinValue ? null : jwt.ValidTo, payload.RootElement.Clone());
    }

    private static TokenValidationParameters WithProvider(TokenValidationParameters parameters, OpenIdConnectConfiguration provider)
    {
        var copy = parameters.Clone();
        copy.ValidIssuer = provider.Issuer;
        copy.IssuerSigningKeys = provider.SigningKeys;
        return copy;
    }

    private static JsonWebToken? TryRead(string token)
    {
        try
        {
            return Handler.ReadJsonWebToken(token);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>A value taken from the token, cut: a crafted token must not blow up a message or a WWW-Authenticate header.</summary>
    private static string? Cut(string? value) => value is null || value.Length <= 100 ? value : value[..100] + "…";

    private static string Describe(Exception? exception, JsonWebToken? token, string what) => exception switch
    {
        SecurityTokenSignatureKeyNotFoundException => $"The {what} is signed with key id '{Cut(token?.Kid)}', which the provider does not publish (its keys were fetched again to be sure).",
        SecurityTokenInvalidSignatureException => $"The {what}'s signature does not verify with the provider's keys.",
        SecurityTokenInvalidAlgorithmException => $"The {what} is signed with '{Cut(token?.Alg)}'; allowed: {string.Join(", ", Algorithms)}.",
        SecurityTokenExpiredException => $"The {what} expired at {token?.ValidTo:u}.",
        SecurityTokenNotYetValidException => $"The {what} is not valid before {token?.ValidFrom:u} (nbf).",
        SecurityTokenNoExpirationException => $"The {what} has no exp (expiry) claim.",
        SecurityTokenInvalidIssuerException => $"The {what}'s issuer '{Cut(token?.Issuer)}' is not this profile's provider.",
        SecurityTokenInvalidAudienceException => $"The {what}'s audience ({Cut(string.Join(", ", token?.Audiences ?? []))}) is not accepted.",
        SecurityTokenMalformedException => $"The {what} is malformed.",
        SecurityTokenInvalidLifetimeException => $"The {what}'s lifetime is invalid (nbf after exp).",
        null => $"The {what} was refused.",
        _ => $"The {what} was refused: {exception.GetType().Name.Replace("SecurityToken", "", StringComparison.Ordinal).Replace("Exception", "", StringComparison.Ordinal)}.",
    };

    private static string Unwrap(Exception exception)
    {
        var message = new StringBuilder();
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (message.Length > 0)
            {
                message.Append(' ');
            }

            message.Append(e.Message);
        }

        return message.ToString();
    }
}
