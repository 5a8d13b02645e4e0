namespace TokenAdmin.Settings;

/// <summary>Where appsettings.json and wwwroot are, so the app and its console verbs read the same configuration.</summary>
public static class ContentRoot
{
    /// <summary>
    /// The current directory when it holds appsettings.json (`dotnet run`, a service started in its folder);
    /// otherwise the folder of the executable (a published TokenAdmin started from elsewhere). Null = framework default.
    /// </summary>
    public static string? Find() =>
        File.Exists(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json")) || !File.Exists(Path.Combine(AppContext.BaseDirectory, "appsettings.json"))
            ? null
            : AppContext.BaseDirectory;

    /// <summary>The web host reads ASPNETCORE_ENVIRONMENT; the console verbs must pick the same appsettings.{Environment}.json.</summary>
    public static string? Environment() =>
        System.Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? System.Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT");
}
