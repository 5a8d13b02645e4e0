using System.Text.Json;
using TokenAdmin.Providers;

namespace TokenAdmin.Tokens;

/// <summary>
/// A device authorization answer (RFC 8628 section 3.2). <see cref="DeviceCode"/> is a secret: it is kept in memory by
/// the one poller of the sign-in and never shown, logged or stored; <see cref="ToString"/> leaves it out.
/// </summary>
public sealed class DeviceAuthorization(string deviceCode, string userCode, string verificationUri, string? verificationUriComplete, int expiresIn, int? interval)
{
    public string DeviceCode { get; } = deviceCode;
    public string UserCode { get; } = userCode;
    public string VerificationUri { get; } = verificationUri;
    public string? VerificationUriComplete { get; } = verificationUriComplete;

    /// <summary>Seconds the codes are valid (capped at <see cref="DeviceCodeGrant.MaxLifetime"/>).</summary>
    public int ExpiresIn { get; } = expiresIn;

    /// <summary>Seconds to wait between polls as the provider asked; null = not stated (then 5, RFC 8628 section 3.5).</summary>
    public int? Interval { get; } = interval;

    public override string ToString() => $"user code {UserCode} at {VerificationUri}, {ExpiresIn} s";
}

/// <summary>The device authorization grant (RFC 8628): the request, the strict reading of its answer and the poll errors.</summary>
public static class DeviceCodeGrant
{
    public const string GrantType = "urn:ietf:params:oauth:grant-type:device_code";

    /// <summary>The longest a device sign-in is polled, whatever expires_in says (Microsoft: 15 minutes, Google: 30).</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(1);

    /// <summary>The longest interval between two polls TokenAdmin accepts from a provider.</summary>
    public const int MaxIntervalSeconds = 300;

    /// <summary>Answers that mean "ask again": authorization_pending (the user has not finished), slow_down (ask less often).</summary>
    public static bool KeepPolling(TokenFailure failure) => failure.Code is "authorization_pending" or "slow_down";

    /// <summary>Reads a device authorization answer strictly; anything unusable is a failure in words for an admin.</summary>
    /// <param name="body">null: the answer was larger than the cap</param>
    public static (DeviceAuthorization?, TokenFailure?) Read(HttpResponseMessage response, string? body, Uri endpoint)
    {
        const string what = "The device authorization endpoint";
        if (ProviderHttp.IsRedirect(response.StatusCode))
        {
            return (null, new TokenFailure(TokenFailureKind.Rejected, "redirect",
                $"{what} answered {ProviderHttp.DescribeRedirect(response, endpoint)}; TokenAdmin follows no redirects from a provider. Enter the final device authorization endpoint URL if it is right."));
        }

        if (body is null)
        {
            return (null, new TokenFailure(TokenFailureKind.Unavailable, "invalid_response", $"{what}'s answer is larger than 1 MiB; TokenAdmin reads no more from a provider."));
        }

        var answer = TokenEndpointClient.JsonObject(body);
        var isJson = answer is not null;
        var json = answer.GetValueOrDefault();

        if (isJson && TokenEndpointClient.String(json, "error") is { } error)
        {
            var description = TokenEndpointClient.String(json, "error_description") ?? "";
            var kind = ProviderHttp.IsServerError(response.StatusCode) || error is "temporarily_unavailable" or "server_error" ? TokenFailureKind.Unavailable : TokenFailureKind.Rejected;
            return (null, new TokenFailure(kind, TokenEndpointClient.Cut(error, 100), TokenEndpointClient.Cut(description, 1000)));
        }

        if (!response.IsSuccessStatusCode)
        {
            return (null, new TokenFailure(ProviderHttp.IsServerError(response.StatusCode) ? TokenFailureKind.Unavailable : TokenFailureKind.Rejected,
                $"http_{(int)response.StatusCode}", $"{what} answered HTTP {(int)response.StatusCode} {response.ReasonPhrase} without an OAuth2 error."));
        }

        if (!isJson)
        {
            return (null, Invalid($"{what} did not answer with a JSON object."));
        }

        var deviceCode = TokenEndpointClient.String(json, "device_code");
        var userCode = TokenEndpointClient.String(json, "user_code");
        // Note: Google names it verification_url (as in its older documentation).
        var verification = TokenEndpointClient.String(json, "verification_uri") ?? TokenEndpointClient.String(json, "verification_url");
        var complete = TokenEndpointClient.String(json, "verification_uri_complete");
        var expiresIn = TokenEndpointClient.Number(json, "expires_in");
        var interval = TokenEndpointClient.Number(json, "interval");
        var missing = new[] { ("device_code", deviceCode is { Length: > 0 }), ("user_code", userCode is { Length: > 0 }), ("verification_uri", verification is { Length: > 0 }), ("expires_in", expiresIn is not null) }
            .Where(f => !f.Item2).Select(f => f.Item1).ToList();
        if (missing.Count > 0)
        {
            return (null, Invalid($"{what}'s answer has no {string.Join(", no ", missing)}; nothing was started."));
        }

        if (deviceCode!.Length > 8192 || !TokenEndpointClient.IsVisibleAscii(deviceCode))
        {
            return (null, Invalid($"{what}'s device_code is longer than 8192 characters or has invalid characters; nothing was started."));
        }

        if (userCode!.Length > 64 || userCode.Any(char.IsControl))
        {
            return (null, Invalid($"{what}'s user_code is longer than 64 characters or has control characters; nothing was started."));
        }

        if (!WebAddress(verification!))
        {
            return (null, Invalid($"{what}'s verification_uri is not an http(s) address; nothing was started."));
        }

        if (complete is not null && !WebAddress(complete))
        {
            // Note: only the optional shortcut is wrong: the user can still type the code at verification_uri.
            complete = null;
        }

        var lifetime = (int)Math.Min(expiresIn!.Value, MaxLifetime.TotalSeconds);
        return (new DeviceAuthorization(deviceCode, userCode, verification!, complete, lifetime, interval is > 0 ? Math.Min(interval.Value, MaxIntervalSeconds) : null), null);
    }

    private static bool WebAddress(string value) =>
        value.Length <= 2000 && Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http" && uri.UserInfo.Length == 0;

    private static TokenFailure Invalid(string description) => new(TokenFailureKind.Unavailable, "invalid_response", description);
}
