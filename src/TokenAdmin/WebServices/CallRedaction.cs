using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace TokenAdmin.WebServices;

/// <summary>
/// Takes secrets out of what the debugger stores: credentials in headers, secret fields in JSON and form bodies and
/// query strings, anything that looks like a JWT or a bearer credential, and every value known to be secret for the
/// call (the token that was sent, the basic password, secret header values) wherever it turns up, e.g. echoed back.
/// </summary>
public static partial class CallRedaction
{
    public const string Mask = "[redacted]";

    private static readonly HashSet<string> SecretFieldNames = new(StringComparer.Ordinal)
    {
        "accesstoken", "refreshtoken", "idtoken", "clientsecret", "password", "passwd", "pwd", "code", "assertion",
        "clientassertion", "secret", "apikey", "token", "subjecttoken", "actortoken", "codeverifier", "authorization",
        "sessionid", "privatekey", "otp",
    };

    private static readonly HashSet<string> CredentialHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Authorization", "Proxy-Authorization", "WWW-Authenticate-Token",
    };

    private static readonly HashSet<string> CookieHeaders = new(StringComparer.OrdinalIgnoreCase) { "Cookie", "Set-Cookie" };

    private static readonly JsonSerializerOptions JsonOutput = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A JSON key or form/query parameter whose value is a secret (access_token, clientSecret, x-api-key ...).</summary>
    public static bool IsSecretField(string name)
    {
        var key = NormalizeKey(name);
        return SecretFieldNames.Contains(key) || key.Contains("password", StringComparison.Ordinal) || key.Contains("secret", StringComparison.Ordinal)
            || key.EndsWith("token", StringComparison.Ordinal) || key.EndsWith("apikey", StringComparison.Ordinal);
    }

    /// <summary>A header that carries a credential by its name alone.</summary>
    public static bool IsSecretHeader(string name, IReadOnlySet<string>? secretHeaders = null)
    {
        if (CredentialHeaders.Contains(name) || CookieHeaders.Contains(name) || secretHeaders?.Contains(name) == true)
        {
            return true;
        }

        var key = NormalizeKey(name);
        return key.Contains("token", StringComparison.Ordinal) || key.Contains("secret", StringComparison.Ordinal)
            || key.Contains("password", StringComparison.Ordinal) || key.Contains("apikey", StringComparison.Ordinal);
    }

    /// <summary>
    /// The values that are secret in this call's request headers (the bearer token, the basic password and its base64
    /// form, secret header values), so that they can be removed wherever else they appear.
    /// </summary>
    public static IReadOnlyList<string> KnownSecrets(IEnumerable<KeyValuePair<string, string>> headers, IReadOnlySet<string>? secretHeaders)
    {
        var secrets = new List<string>();
        foreach (var (name, value) in headers)
        {
            if (!IsSecretHeader(name, secretHeaders) || string.IsNullOrWhiteSpace(value))
            {
                continue;
            }

            var space = value.IndexOf(' ', StringComparison.Ordinal);
            if (CredentialHeaders.Contains(name) && space > 0)
            {
                var credential = value[(space + 1)..].Trim();
                secrets.Add(credential);
                if (value[..space].Equals("Basic", StringComparison.OrdinalIgnoreCase) && TryDecodeBasic(credential) is { } decoded)
                {
                    var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                    if (colon >= 0 && colon < decoded.Length - 1)
                    {
                        secrets.Add(decoded[(colon + 1)..]);
                    }
                }
            }
            else if (CookieHeaders.Contains(name))
            {
                foreach (var part in value.Split(';'))
                {
                    var eq = part.IndexOf('=', StringComparison.Ordinal);
                    if (eq >= 0)
                    {
                        secrets.Add(part[(eq + 1)..].Trim());
                    }
                }
            }
            else
            {
                secrets.Add(value.Trim());
            }
        }

        // Note: very short values would blank out ordinary text; they are still masked in their own header.
        return [.. secrets.Where(s => s.Length >= 4).Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length)];
    }

    public static string RedactHeaders(IEnumerable<KeyValuePair<string, string>> headers, IReadOnlySet<string>? secretHeaders, IReadOnlyList<string> knownSecrets)
    {
        var text = new StringBuilder();
        foreach (var (name, shown) in RedactHeaderList(headers, secretHeaders, knownSecrets))
        {
            text.Append(SingleLine(name)).Append(": ").Append(SingleLine(shown)).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The headers with credentials, cookies, secret headers and known secrets masked, one pair per value.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> RedactHeaderList(
        IEnumerable<KeyValuePair<string, string>> headers, IReadOnlySet<string>? secretHeaders, IReadOnlyList<string> knownSecrets)
    {
        var list = new List<KeyValuePair<string, string>>();
        foreach (var (name, value) in headers)
        {
            string shown;
            if (CredentialHeaders.Contains(name))
            {
                // The scheme helps debugging (Bearer or Basic); the credential never shows.
                var space = value.IndexOf(' ', StringComparison.Ordinal);
                shown = space > 0 ? value[..space] + " " + Mask : Mask;
            }
            else if (IsSecretHeader(name, secretHeaders))
            {
                shown = Mask;
            }
            else
            {
                shown = RedactText(value, knownSecrets);
            }

            list.Add(new(name, shown));
        }

        return list;
    }

    /// <summary>A URL with secret query parameters, JWTs and known secrets masked.</summary>
    public static string RedactUrl(string url, IReadOnlyList<string> knownSecrets) => RedactText(FormFields(url), knownSecrets);

    /// <summary>A body: secret fields of JSON or form content masked, then JWTs, bearer credentials and known secrets anywhere.</summary>
    public static string RedactBody(string body, IReadOnlyList<string> knownSecrets)
    {
        var trimmed = body.TrimStart();
        if (trimmed.StartsWith('{') || trimmed.StartsWith('['))
        {
            body = RedactJson(body);
        }

        // Form bodies, and URLs anywhere in a body (an echoed request line, a link with ?code=...).
        return RedactText(FormFields(body), knownSecrets);
    }

    /// <summary>Cuts <paramref name="text"/> at <paramref name="limit"/> characters, saying so.</summary>
    public static string Cut(string text, int limit) =>
        text.Length <= limit ? text : string.Concat(text.AsSpan(0, limit), $"\n… [cut at {limit} of {text.Length} characters]");

    private static string RedactText(string text, IReadOnlyList<string> knownSecrets)
    {
        foreach (var secret in knownSecrets)
        {
            text = text.Replace(secret, Mask, StringComparison.Ordinal);
            // Echoed in a JSON string or a URL, the same secret may be escaped.
            var escaped = Uri.EscapeDataString(secret);
            if (escaped != secret)
            {
                text = text.Replace(escaped, Mask, StringComparison.Ordinal);
            }

            var json = JsonSerializer.Serialize(secret, JsonOutput)[1..^1];
            if (json != secret)
            {
                text = text.Replace(json, Mask, StringComparison.Ordinal);
            }
        }

        text = JwtRegex().Replace(text, "[redacted JWT]");
        return CredentialRegex().Replace(text, m => m.Groups[1].Value + " " + Mask);
    }

    private static string RedactJson(string body)
    {
        try
        {
            var node = JsonNode.Parse(body);
            if (node is not null && RedactNode(node))
            {
                return node.ToJsonString(JsonOutput);
            }

            return body;
        }
        catch (JsonException)
        {
            // Not well-formed (or cut by the sender): mask "secret": "value" pairs textually.
            return JsonPairRegex().Replace(body, m => IsSecretField(m.Groups[1].Value) ? $"\"{m.Groups[1].Value}\":\"{Mask}\"" : m.Value);
        }
    }

    private static bool RedactNode(JsonNode node)
    {
        var changed = false;
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj.ToList())
                {
                    if (value is not null && IsSecretField(key) && !(NormalizeKey(key) == "code" && value.GetValueKind() != JsonValueKind.String))
                    {
                        obj[key] = Mask;
                        changed = true;
                    }
                    else if (value is JsonValue text && text.TryGetValue<string>(out var inner) && RedactEmbeddedJson(inner) is { } redacted)
                    {
                        // JSON carried as a string (an echoed request, a message payload) is redacted too.
                        obj[key] = redacted;
                        changed = true;
                    }
                    else if (value is not null)
                    {
                        changed |= RedactNode(value);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    if (item is not null)
                    {
                        changed |= RedactNode(item);
                    }
                }

                break;
        }

        return changed;
    }

    private static string? RedactEmbeddedJson(string text)
    {
        var trimmed = text.TrimStart();
        if (!(trimmed.StartsWith('{') || trimmed.StartsWith('[')))
        {
            return null;
        }

        var redacted = RedactJson(text);
        return redacted == text ? null : redacted;
    }

    private static string FormFields(string text) =>
        FormFieldRegex().Replace(text, m => IsSecretField(Uri.UnescapeDataString(m.Groups[2].Value.Replace('+', ' ')))
            ? m.Groups[1].Value + m.Groups[2].Value + "=" + Mask
            : m.Value);

    private static string NormalizeKey(string name)
    {
        var key = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            if (char.IsLetterOrDigit(c))
            {
                key.Append(char.ToLowerInvariant(c));
            }
        }

        return key.ToString();
    }

    private static string? TryDecodeBasic(string credential)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(credential));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    public static string SingleLine(string value) => value.Replace('\r', ' ').Replace('\n', ' ');

    // Three base64url parts, the first a JSON header ("eyJ" is base64 of '{"'): signed JWTs and unsigned ones alike.
    [GeneratedRegex(@"eyJ[A-Za-z0-9_\-]{2,}\.[A-Za-z0-9_\-]{2,}\.[A-Za-z0-9_\-]*")]
    private static partial Regex JwtRegex();

    [GeneratedRegex(@"\b(Bearer|Basic)\s+(?!\[redacted)[A-Za-z0-9\-._~+/]{8,}=*", RegexOptions.IgnoreCase)]
    private static partial Regex CredentialRegex();

    // key=value in a form body or query string, at its start or after ? & ;
    [GeneratedRegex(@"(^|[?&;])([^=&?;#\s""'<>]+)=([^&#\s""'<>]*)")]
    private static partial Regex FormFieldRegex();

    [GeneratedRegex("\"([^\"\\\\]{1,100})\"\\s*:\\s*\"(?:[^\"\\\\]|\\\\.)*\"?")]
    private static partial Regex JsonPairRegex();
}
