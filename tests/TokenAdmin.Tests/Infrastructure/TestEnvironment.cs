using System.Runtime.CompilerServices;

namespace TokenAdmin.Tests.Infrastructure;

internal static class TestEnvironment
{
    /// <summary>
    /// Many hosts start in one test process (each test class has its own app, each console verb its own host).
    /// Each file watcher (appsettings.json reload, wwwroot for asp-append-version) costs an inotify instance, and
    /// Linux allows 128 per user: so no reload, and file providers poll instead of watching.
    /// </summary>
    [ModuleInitializer]
    internal static void Initialize()
    {
        Environment.SetEnvironmentVariable("DOTNET_hostBuilder__reloadConfigOnChange", "false");
        Environment.SetEnvironmentVariable("DOTNET_USE_POLLING_FILE_WATCHER", "true");
    }
}
