using TokenAdmin.Settings;

namespace TokenAdmin.WebServices;

/// <summary>How long and how much the web service debugger keeps.</summary>
public static class DebuggerSettings
{
    public const string RetentionDays = "Debugger.RetentionDays";
    public const string BodyLimit = "Debugger.BodyLimit";
    public const string MaxSizeMb = "Debugger.MaxSizeMB";
    public const string GroupName = "Web service debugger";

    public static SettingGroup Group { get; } = new(GroupName,
    [
        new(RetentionDays, GroupName, "Retention (days)",
            "How long the debugger keeps recorded web service calls (1 to 3650 days); older ones are purged every hour.",
            "14", Validate: v => SettingValues.CheckNumber(v, 1, 3650, "Retention")),
        new(BodyLimit, GroupName, "Body limit (characters)",
            "Request and response bodies are cut at this length in the debugger (1024 to 1048576), after secrets are redacted.",
            "16384", Validate: v => SettingValues.CheckNumber(v, 1024, 1024 * 1024, "Body limit")),
        new(MaxSizeMb, GroupName, "Total size (MB)",
            "The most text the debugger keeps in all (1 to 100000 MB, counted in characters); when a new call goes beyond it, the oldest calls are removed first.",
            "100", Validate: v => SettingValues.CheckNumber(v, 1, 100_000, "Total size")),
    ]);
}
