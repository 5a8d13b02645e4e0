using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Primitives;

namespace TokenAdmin.TestIdentityProvider.Internal;

/// <summary>
/// Runs before OpenIddict: counts token-endpoint requests and answers the simulated faults.
/// </summary>
internal sealed class FaultInjectionMiddleware(ProviderState state, IHostApplicationLifetime lifetime)
{
    public const string TokenPath = "/connect/token";
    public const string DiscoveryPath = "/.well-known/openid-configuration";
    public const string DevicePath = "/connect/device";

    private const string ServerErrorHtml =
        "<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head>" +
        "<body><h1>Internal Server Error</h1><p>Simulated failure (TokenAdmin test identity provider).</p></body></html>";

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var path = context.Request.Path;
        if (path.Equals(TokenPath, StringComparison.OrdinalIgnoreCase))
        {
            state.CountTokenRequest(await ReadGrantTypeAsync(context.Request));

            var fault = state.Faults.TakeTokenEndpointFault(out var hangDuration, out var retryAfterSeconds);
            switch (fault)
            {
                case TokenEndpointFault.None:
                    break;

                case TokenEndpointFault.Hang:
                    if (!await HangAsync(context, hangDuration))
                    {
                        return;
                    }

                    break;

                case TokenEndpointFault.ServerError500:
                    await WriteHtmlAsync(context, StatusCodes.Status500InternalServerError, ServerErrorHtml);
                    return;

                case TokenEndpointFault.InvalidGrant:
                    await WriteOAuthErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_grant",
                        "The grant is invalid (simulated by the test identity provider).");
                    return;

                case TokenEndpointFault.InvalidClient:
                    context.Response.Headers.WWWAuthenticate = "Basic realm=\"TokenAdmin.TestIdentityProvider\"";
                    await WriteOAuthErrorAsync(context, StatusCodes.Status401Unauthorized, "invalid_client",
                        "Client authentication failed (simulated by the test identity provider).");
                    return;

                case TokenEndpointFault.TemporarilyUnavailable503:
                    SetRetryAfter(context, retryAfterSeconds);
                    await WriteOAuthErrorAsync(context, StatusCodes.Status503ServiceUnavailable, "temporarily_unavailable",
                        "The server is temporarily unavailable (simulated by the test identity provider).");
                    return;

                case TokenEndpointFault.SlowDown:
                    await WriteOAuthErrorAsync(context, StatusCodes.Status400BadRequest, "slow_down",
                        "Poll less often (simulated by the test identity provider).");
                    return;

                case TokenEndpointFault.ExpiredToken:
                    await WriteOAuthErrorAsync(context, StatusCodes.Status400BadRequest, "expired_token",
                        "The device code has expired (simulated by the test identity provider).");
                    return;

                case TokenEndpointFault.TooManyRequests429:
                    SetRetryAfter(context, retryAfterSeconds);
                    context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                    context.Response.ContentType = "text/plain; charset=utf-8";
                    await context.Response.WriteAsync("Too many requests (simulated by the test identity provider).", context.RequestAborted);
                    return;

                default:
                    throw new InvalidOperationException($"Unknown token endpoint fault {fault}.");
            }
        }
        else if (path.Equals(DiscoveryPath, StringComparison.OrdinalIgnoreCase) && state.Faults.DiscoveryServerError500)
        {
            await WriteHtmlAsync(context, StatusCodes.Status500InternalServerError, ServerErrorHtml);
            return;
        }
        else if (path.Equals(DiscoveryPath, StringComparison.OrdinalIgnoreCase) && state.Faults.DiscoveryNotJson)
        {
            await WriteHtmlAsync(context, StatusCodes.Status200OK, "<!DOCTYPE html><html><body><p>Please sign in to the network.</p></body></html>");
            return;
        }

        else if (path.Equals(DiscoveryPath, StringComparison.OrdinalIgnoreCase) && (state.Faults.AdvertisedIssuer is not null || state.Faults.HideDeviceAuthorizationEndpoint))
        {
            await RewriteDiscoveryAsync(context, next, state.Faults.AdvertisedIssuer, state.Faults.HideDeviceAuthorizationEndpoint);
            return;
        }
        else if (path.Equals(DevicePath, StringComparison.OrdinalIgnoreCase) && state.Faults.DeviceAuthorizationBody is { } body)
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = state.Faults.DeviceAuthorizationContentType;
            await context.Response.WriteAsync(body, context.RequestAborted);
            return;
        }

        await next(context);
    }

    private static async Task RewriteDiscoveryAsync(HttpContext context, RequestDelegate next, string? issuer, bool hideDevice)
    {
        var original = context.Response.Body;
        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = original;
        }

        var document = System.Text.Json.Nodes.JsonNode.Parse(buffer.ToArray())!.AsObject();
        if (issuer is not null)
        {
            document["issuer"] = issuer;
        }

        if (hideDevice)
        {
            document.Remove("device_authorization_endpoint");
        }

        var bytes = System.Text.Encoding.UTF8.GetBytes(document.ToJsonString());
        context.Response.ContentLength = bytes.Length;
        await original.WriteAsync(bytes, context.RequestAborted);
    }

    private async Task<string> ReadGrantTypeAsync(HttpRequest request)
    {
        if (!HttpMethods.IsPost(request.Method) || !request.HasFormContentType)
        {
            return "(none)";
        }

        try
        {
            // The form is buffered on the request, so OpenIddict reads the same values afterwards.
            var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
            state.RecordTokenRequest(form.SelectMany(field => field.Value.Select(value => new KeyValuePair<string, string>(field.Key, value ?? ""))).ToList());
            var grantType = form["grant_type"];
            return StringValues.IsNullOrEmpty(grantType) ? "(none)" : grantType.ToString();
        }
        catch (Exception exception) when (exception is InvalidDataException or IOException or BadHttpRequestException)
        {
            return "(unreadable)";
        }
    }

    /// <returns><see langword="true"/> to go on with the request, <see langword="false"/> when it was aborted.</returns>
    private async Task<bool> HangAsync(HttpContext context, TimeSpan duration)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(
            context.RequestAborted, lifetime.ApplicationStopping);
        try
        {
            await Task.Delay(duration, cancellation.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            // The client gave up or the server is shutting down: never hold up DisposeAsync.
            context.Abort();
            return false;
        }
    }

    private static void SetRetryAfter(HttpContext context, int? retryAfterSeconds)
    {
        if (retryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }
    }

    private static async Task WriteHtmlAsync(HttpContext context, int statusCode, string html)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(html, context.RequestAborted);
    }

    private static async Task WriteOAuthErrorAsync(HttpContext context, int statusCode, string error, string description)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json;charset=UTF-8";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Pragma = "no-cache";

        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        writer.WriteString("error", error);
        writer.WriteString("error_description", description);
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }
}
