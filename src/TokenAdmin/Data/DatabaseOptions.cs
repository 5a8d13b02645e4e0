namespace TokenAdmin.Data;

/// <summary>Where the data lives. Bound from the "TokenAdmin" configuration section.</summary>
public sealed class DatabaseOptions
{
    /// <summary>Folder for the SQLite file and the master key; relative paths are under the content root.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Overrides the SQLite connection string; by default the file tokenadmin.db in the data directory.</summary>
    public string? ConnectionString { get; set; }
}
