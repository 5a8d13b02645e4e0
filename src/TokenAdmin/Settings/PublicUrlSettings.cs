using System.Text.RegularExpressions;

namespace TokenAdmin.Settings;

/// <summary>How browsers and providers reach TokenAdmin: the base of every link and of the redirect URI.</summary>
public static partial class PublicUrlSettings
{
    public const string HttpType = "HttpType";
    public const string Fqdn = "FQDN";
    public const string PathBase = "PathBase";
    public const string GroupName = "Public URL";

    public static SettingGroup Group { get; } = new(GroupName,
    [
        new(HttpType, GroupName, "HTTP type", "The scheme admins and providers use to reach TokenAdmin. Production systems must use https.",
            "http", SettingKind.Choice, ["http", "https"]),
        new(Fqdn, GroupName, "Fully qualified domain name", "Host name, optionally with :port, as browsers reach TokenAdmin (no scheme, no path). Example: tokenadmin.example.com",
            "localhost:5080", Validate: CheckFqdn),
        new(PathBase, GroupName, "Path base", "Leave empty, or a path such as /tokenadmin when a reverse proxy serves TokenAdmin below a path.",
            "", Validate: CheckPathBase),
    ]);

    internal static string? CheckFqdn(string value)
    {
        if (value.Length == 0)
        {
            return "FQDN is required.";
        }

        if (value.Contains("://", StringComparison.Ordinal) || value.IndexOfAny(['/', '?', '#', '@', ' ']) >= 0)
        {
            return "FQDN is a host name with an optional :port, without scheme or path (for example tokenadmin.example.com).";
        }

        string host = value, port = "";
        if (value.StartsWith('['))
        {
            var end = value.IndexOf(']', StringComparison.Ordinal);
            if (end < 0)
            {
                return "FQDN has an IPv6 address without its closing ].";
            }

            host = value[1..end];
            port = value[(end + 1)..];
            if (port.Length > 0 && !port.StartsWith(':'))
            {
                return "FQDN: only :port may follow an IPv6 address.";
            }

            port = port.TrimStart(':');
        }
        else if (value.Contains(':', StringComparison.Ordinal))
        {
            var colon = value.LastIndexOf(':');
            host = value[..colon];
            port = value[(colon + 1)..];
        }

        if (Uri.CheckHostName(host) == UriHostNameType.Unknown)
        {
            return $"FQDN: '{host}' is not a valid host name.";
        }

        if (value.Contains(':', StringComparison.Ordinal) && !(int.TryParse(port, out var p) && p is >= 1 and <= 65535))
        {
            return "FQDN: the port must be a number from 1 to 65535.";
        }

        return null;
    }

    internal static string? CheckPathBase(string value)
    {
        if (value.Length == 0)
        {
            return null;
        }

        return PathBaseRegex().IsMatch(value)
            ? null
            : "Path base must be empty or start with / and hold only letters, digits and - . _ ~ / (no trailing /), for example /tokenadmin.";
    }

    [GeneratedRegex(@"^(/[A-Za-z0-9\-._~]+)+$")]
    private static partial Regex PathBaseRegex();
}
