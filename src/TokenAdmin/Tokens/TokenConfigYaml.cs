using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace TokenAdmin.Tokens;

/// <summary>A YAML problem with where it is, in words an admin can act on.</summary>
public sealed class TokenConfigYamlException(string message) : Exception(message);

/// <summary>Reads and writes token config YAML. Strict: unknown keys are errors, aliases are bounded.</summary>
public static class TokenConfigYaml
{
    /// <summary>More aliases than any real config needs; a file with more is refused before it is expanded.</summary>
    public const int MaxAliases = 50;

    private static readonly IDeserializer Reader = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .WithTypeConverter(new IsoDateConverter())
        .Build();

    private static readonly ISerializer Writer = new SerializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .WithTypeConverter(new IsoDateConverter())
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull | DefaultValuesHandling.OmitEmptyCollections)
        // Note: a client ID or parameter value such as "null", "~", "true" or "0123" must read back as the same string.
        .WithQuotingNecessaryStrings()
        .Build();

    public static string Write(TokenConfigDocument document) => Writer.Serialize(document);

    public static string Write<T>(T value) => Writer.Serialize(value);

    public static TokenConfigDocument Parse(string yaml) =>
        Read<TokenConfigDocument>(yaml) ?? throw new TokenConfigYamlException("The YAML document is empty.");

    /// <summary>Most parsed documents kept by <see cref="ParseShared"/>; more (old versions after edits) empty the cache.</summary>
    public const int SharedCacheLimit = 20_000;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, TokenConfigDocument> Shared = new(StringComparer.Ordinal);

    /// <summary>
    /// Like <see cref="Parse"/>, but one document per distinct YAML text, shared by every caller: for the token paths
    /// that only read a config (provider, refresh, updater), where parsing took about 0.4 ms and 60 KiB each time.
    /// The result must never be changed; callers that edit a document use <see cref="Parse"/>.
    /// </summary>
    public static TokenConfigDocument ParseShared(string yaml)
    {
        if (Shared.TryGetValue(yaml, out var known))
        {
            return known;
        }

        var parsed = Parse(yaml);
        if (Shared.Count >= SharedCacheLimit)
        {
            Shared.Clear();
        }

        return Shared.GetOrAdd(yaml, parsed);
    }

    /// <summary>Deserializes <paramref name="yaml"/>; any problem becomes a <see cref="TokenConfigYamlException"/> with line and column.</summary>
    /// <remarks>
    /// Before the deserializer runs, one linear pass bounds the nesting (<see cref="YamlNesting"/>) and one parser pass
    /// bounds aliases and refuses duplicate keys (YamlDotNet would silently keep the last value). Both stop when
    /// <paramref name="cancellationToken"/> is cancelled.
    /// </remarks>
    public static T? Read<T>(string yaml, CancellationToken cancellationToken = default)
    {
        YamlNesting.Check(yaml, cancellationToken);
        CheckEvents(yaml, cancellationToken);
        try
        {
            return Reader.Deserialize<T>(yaml);
        }
        catch (YamlException ex)
        {
            throw new TokenConfigYamlException(Describe(ex));
        }
    }

    /// <summary>A mapping being read: the keys seen so far (with their lines) and whether the next node is a key.</summary>
    private sealed class MappingFrame
    {
        public Dictionary<string, long> Keys { get; } = new(StringComparer.Ordinal);
        public bool ExpectKey { get; set; } = true;
    }

    private static void CheckEvents(string yaml, CancellationToken cancellationToken)
    {
        var parser = new Parser(new StringReader(yaml));
        var aliases = 0;
        var events = 0;
        // Note: null entries stand for sequences, whose items need no check.
        var open = new Stack<MappingFrame?>();
        try
        {
            while (parser.MoveNext())
            {
                if ((++events & 0x3FF) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                var current = parser.Current;
                if (current is AnchorAlias alias && ++aliases > MaxAliases)
                {
                    throw new TokenConfigYamlException(
                        $"Line {alias.Start.Line}, column {alias.Start.Column}: more than {MaxAliases} YAML aliases; the file is refused.");
                }

                if (current is MappingEnd or SequenceEnd)
                {
                    open.TryPop(out _);
                    continue;
                }

                if (current is not NodeEvent node)
                {
                    continue;
                }

                if (open.TryPeek(out var mapping) && mapping is not null)
                {
                    if (mapping.ExpectKey && node is Scalar key && key.Value != "<<")
                    {
                        if (!mapping.Keys.TryAdd(key.Value, key.Start.Line))
                        {
                            throw new TokenConfigYamlException(
                                $"Line {key.Start.Line}, column {key.Start.Column}: duplicate key '{Shorten(key.Value)}' (first at line {mapping.Keys[key.Value]}).");
                        }
                    }

                    mapping.ExpectKey = !mapping.ExpectKey;
                }

                if (node is MappingStart)
                {
                    open.Push(new MappingFrame());
                }
                else if (node is SequenceStart)
                {
                    open.Push(null);
                }
            }
        }
        catch (YamlException ex)
        {
            throw new TokenConfigYamlException(Describe(ex));
        }
    }

    private static string Shorten(string value) => value.Length <= 100 ? value : value[..100] + "…";

    private static string Describe(YamlException ex)
    {
        var inner = ex.InnerException?.Message;
        var message = ex.Message;
        if (message.StartsWith("Property '", StringComparison.Ordinal) && message.Contains("' not found on type", StringComparison.Ordinal))
        {
            var key = message.Split('\'')[1];
            message = $"unknown key '{key}'. See docs/token-config.md for the keys a token config has.";
        }
        else if (inner is not null && message.StartsWith("Exception during deserialization", StringComparison.Ordinal))
        {
            message = inner.Contains("Boolean", StringComparison.Ordinal) ? "expected true or false." :
                inner.Contains("input string", StringComparison.OrdinalIgnoreCase) || inner.Contains("was not recognized as a valid", StringComparison.Ordinal)
                    ? "expected a number." : inner;
        }
        else if (message.StartsWith("(Line:", StringComparison.Ordinal))
        {
            // YamlDotNet puts the position in front of its own message; ours goes there instead.
            message = message[(message.IndexOf("): ", StringComparison.Ordinal) + 3)..];
        }

        return $"Line {ex.Start.Line}, column {ex.Start.Column}: {message}";
    }

    /// <summary>
    /// Note: YamlDotNet writes a DateOnly as a mapping (year, month, day, ...) by default; a date such as
    /// clientSecretExpires is written and read as one ISO 8601 scalar (2027-06-30) instead.
    /// </summary>
    private sealed class IsoDateConverter : IYamlTypeConverter
    {
        public bool Accepts(Type type) => type == typeof(DateOnly) || type == typeof(DateOnly?);

        public object? ReadYaml(IParser parser, Type type, ObjectDeserializer rootDeserializer)
        {
            var scalar = parser.Consume<Scalar>();
            if (scalar.Value.Length == 0 || scalar.Value is "~" or "null")
            {
                return type == typeof(DateOnly?) ? null : throw new YamlException(scalar.Start, scalar.End, "a date (YYYY-MM-DD) is required here.");
            }

            return DateOnly.TryParseExact(scalar.Value, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var day)
                ? day
                : throw new YamlException(scalar.Start, scalar.End, $"'{scalar.Value}' is not a date (YYYY-MM-DD).");
        }

        public void WriteYaml(IEmitter emitter, object? value, Type type, ObjectSerializer serializer) =>
            emitter.Emit(new Scalar(((DateOnly)value!).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)));
    }
}
