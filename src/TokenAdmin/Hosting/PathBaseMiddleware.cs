using TokenAdmin.Settings;

namespace TokenAdmin.Hosting;

/// <summary>
/// Serves TokenAdmin below the PathBase setting (a reverse proxy forwarding /tokenadmin/...), read from the
/// cached settings so a change needs no restart. Requests without the prefix still work, as with UsePathBase.
/// </summary>
internal sealed class PathBaseMiddleware(RequestDelegate next, SettingsStore settings)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var pathBase = (await settings.GetAsync(context.RequestAborted)).Get(PublicUrlSettings.PathBase);
        if (pathBase.Length > 0 && context.Request.Path.StartsWithSegments(pathBase, out var matched, out var remaining))
        {
            var originalBase = context.Request.PathBase;
            var originalPath = context.Request.Path;
            context.Request.PathBase = originalBase.Add(matched);
            context.Request.Path = remaining;
            try
            {
                await next(context);
            }
            finally
            {
                context.Request.PathBase = originalBase;
                context.Request.Path = originalPath;
            }

            return;
        }

        await next(context);
    }
}
