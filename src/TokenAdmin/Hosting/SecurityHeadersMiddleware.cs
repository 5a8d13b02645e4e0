namespace TokenAdmin.Hosting;

/// <summary>Headers that keep the admin pages out of frames, scripts from elsewhere and URLs out of referrers.</summary>
internal sealed class SecurityHeadersMiddleware(RequestDelegate next)
{
    // Note: no form-action here: "Request token" and OIDC sign-in post to TokenAdmin, which then redirects the
    // browser to a provider, and browsers apply form-action to that redirect too.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(static state =>
        {
            var context = (HttpContext)state;
            var headers = context.Response.Headers;
            if (context.Request.IsHttps)
            {
                headers.StrictTransportSecurity = "max-age=31536000";
            }

            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = headers["Referrer-Policy"].Count > 0 ? headers["Referrer-Policy"] : "same-origin";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()";
            return Task.CompletedTask;
        }, context);
        return next(context);
    }
}
