using System.Globalization;

namespace TokenAdmin.Tokens;

/// <summary>The kinds of token source: each is configured its own way and handled by the one engine.</summary>
public enum TokenSourceKind { TokenConfig = 1, FunctionalAccount = 2 }

/// <summary>Where a token comes from: a token config or a functional account. A value type, so asking costs nothing.</summary>
public readonly record struct TokenSource(TokenSourceKind Kind, int Id)
{
    public static TokenSource Config(int id) => new(TokenSourceKind.TokenConfig, id);

    public static TokenSource Account(int id) => new(TokenSourceKind.FunctionalAccount, id);

    /// <summary>How a source is written in a form, a setting or YAML: "TokenConfig:12", "FunctionalAccount:3".</summary>
    public string Key => $"{Kind}:{Id.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>"TokenConfig:12" → the source; anything else → null.</summary>
    public static TokenSource? Parse(string? value)
    {
        var parts = (value ?? "").Split(':');
        return parts.Length == 2
            && Enum.TryParse<TokenSourceKind>(parts[0], ignoreCase: false, out var kind) && Enum.IsDefined(kind)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0
            ? new TokenSource(kind, id)
            : null;
    }

    public override string ToString() => $"{Kind} {Id}";
}

/// <summary>A source offered in a picker: its <see cref="TokenSource.Key"/> and what an admin reads.</summary>
public sealed record TokenSourceChoice(string Value, string Name);
