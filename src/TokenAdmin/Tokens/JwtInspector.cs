using System.Buffers.Text;
using System.Text.Json;
using TokenAdmin.Providers;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace TokenAdmin.Tokens;

/// <summary>Reads the header and claims of a JWT for display and expiry; never checks the signature, never returns the token.</summary>
public static class JwtInspector
{
    public sealed record Decoded(IReadOnlyList<KeyValuePair<string, string>> Header, IReadOnlyList<KeyValuePair<string, string>> Claims, DateTime? ExpiresAt);

    /// <summary>Null when the token is not a JWT (opaque tokens are normal: Google's access tokens are).</summary>
    public static Decoded? TryDecode(string? token)
    {
        if (token is null)
        {
            return null;
        }

        try
        {
            // Note: IdentityModel reads the parts (and tells a JWE by its five); the JSON is read here as it is, so
            // arrays and numbers show the way the provider wrote them.
            var jwt = new JsonWebToken(token);
            using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(jwt.EncodedHeader));
            if (jwt.IsEncrypted)
            {
                // An encrypted JWT (JWE): only its header is readable.
                return new Decoded(Flatten(header.RootElement), [], null);
            }

            using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(jwt.EncodedPayload));
            DateTime? exp = payload.RootElement.TryGetProperty("exp", out var e) ? NumericDate.ToDateTime(e) : null;
            return new Decoded(Flatten(header.RootElement), Flatten(payload.RootElement), exp);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or ArgumentException or SecurityTokenMalformedException)
        {
            return null;
        }
    }

    private static List<KeyValuePair<string, string>> Flatten(JsonElement element) =>
        element.ValueKind != JsonValueKind.Object
            ? []
            : element.EnumerateObject().Select(p => new KeyValuePair<string, string>(p.Name, Show(p.Name, p.Value))).ToList();

    private static string Show(string name, JsonElement value)
    {
        if (name is "exp" or "iat" or "nbf" or "auth_time" && NumericDate.Seconds(value) is { } seconds)
        {
            return $"{seconds} ({DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC)";
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString() ?? "",
            JsonValueKind.Array => string.Join(", ", value.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText())),
            _ => value.GetRawText(),
        };
    }
}
