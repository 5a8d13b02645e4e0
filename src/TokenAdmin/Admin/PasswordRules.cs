namespace TokenAdmin.Admin;

/// <summary>
/// What makes an admin password weak beyond its length: the user name in it, a run of one character, or a common
/// password (from the list shipped as Admin/CommonPasswords.txt), also with digits or punctuation added around it.
/// </summary>
public static class PasswordRules
{
    private static readonly Lazy<HashSet<string>> Common = new(Load);

    /// <summary>Why <paramref name="password"/> is weak for <paramref name="userName"/>, or null.</summary>
    public static string? Weakness(string userName, string password)
    {
        if (userName.Length > 0 && password.Contains(userName, StringComparison.OrdinalIgnoreCase))
        {
            return "Password must not contain the user name.";
        }

        if (password.Length > 0 && password.All(c => c == password[0]))
        {
            return "Password must not be a run of one character (such as aaaaaaaaaaaa); several unrelated words make a good one.";
        }

        var lower = password.ToLowerInvariant();
        var core = lower.Trim().TrimEnd(Decoration).TrimStart(Decoration);
        return Common.Value.Contains(lower) || (core.Length > 0 && Common.Value.Contains(core))
            ? "Password is one of the most common passwords (with or without digits added); several unrelated words make a good one."
            : null;
    }

    private static readonly char[] Decoration = [.. "0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ "];

    private static HashSet<string> Load()
    {
        using var stream = typeof(PasswordRules).Assembly.GetManifestResourceStream("Admin.CommonPasswords.txt")
            ?? throw new InvalidOperationException("The list of common passwords is missing from the build.");
        using var reader = new StreamReader(stream);
        var words = new HashSet<string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            line = line.Trim();
            if (line.Length > 0 && !line.StartsWith('#'))
            {
                words.Add(line.ToLowerInvariant());
            }
        }

        return words;
    }
}
