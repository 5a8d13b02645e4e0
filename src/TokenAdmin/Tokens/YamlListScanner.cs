using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace TokenAdmin.Tokens;

/// <summary>
/// One entry of an import file's list, cut out of the file so that <see cref="TokenConfigYaml.Read{T}"/> reads it on
/// its own: every entry gets its own errors, with the line and column of the whole file.
/// </summary>
internal sealed class YamlListEntry
{
    /// <summary>Position in the list, from 1.</summary>
    public required int Index { get; init; }
    public required int Line { get; init; }
    public required int Column { get; init; }

    /// <summary>The last line with text of the entry; unknown (the end of the file) while it is being read.</summary>
    public int EndLine { get; set; } = int.MaxValue;

    /// <summary>The value of the entry's <c>name</c> (or Znuny's <c>Name</c>) key, if it is a plain value.</summary>
    public string? Name { get; set; }

    public bool IsMapping { get; set; }

    /// <summary>A problem found while cutting the entry out (an alias to outside it, a secret that is not text).</summary>
    public string? Problem { get; set; }

    /// <summary>Values of the extracted keys (secrets), which are blanked out of <see cref="Text"/>.</summary>
    public Dictionary<string, string?> Extracted { get; } = new(StringComparer.Ordinal);

    /// <summary>The entry's YAML; its first line is padded so every column is the file's column.</summary>
    public string Text { get; set; } = "";

    /// <summary>Reads the entry; a problem's message names the line in the whole file.</summary>
    public T? Read<T>()
    {
        try
        {
            return TokenConfigYaml.Read<T>(Text);
        }
        catch (TokenConfigYamlException ex)
        {
            throw new TokenConfigYamlException(YamlListScanner.ShiftLine(ex.Message, Line - 1));
        }
    }
}

/// <summary>
/// Finds the entries of an import file's list (<c>tokenConfigs:</c> under a root mapping, or a root sequence) with
/// YamlDotNet's parser, which keeps the position of every event. Walks iteratively, so deep nesting cannot
/// overflow the stack.
/// </summary>
internal static partial class YamlListScanner
{
    public const string ListKey = "tokenConfigs";

    /// <returns>The entries; on a YAML syntax error, those seen up to it (the last one unfinished) and the error.</returns>
    public static List<YamlListEntry> Scan(string yaml, IReadOnlySet<string> extractKeys, out YamlException? error)
    {
        var entries = new List<YamlListEntry>();
        error = null;
        var parser = new Parser(new StringReader(yaml));
        try
        {
            parser.Consume<StreamStart>();
            if (!parser.TryConsume<DocumentStart>(out _))
            {
                return entries;
            }

            if (parser.TryConsume<MappingStart>(out _))
            {
                while (!parser.TryConsume<MappingEnd>(out _))
                {
                    var key = parser.Current as Scalar;
                    parser.SkipThisAndNestedEvents();
                    if (key?.Value == ListKey && parser.Current is SequenceStart)
                    {
                        ReadList(parser, yaml, extractKeys, entries);
                    }
                    else
                    {
                        parser.SkipThisAndNestedEvents();
                    }
                }
            }
            else if (parser.Current is SequenceStart)
            {
                ReadList(parser, yaml, extractKeys, entries);
            }
        }
        catch (YamlException ex)
        {
            error = ex;
        }

        return entries;
    }

    /// <summary>Moves "Line N" at the start of <paramref name="message"/> down by <paramref name="lines"/>.</summary>
    public static string ShiftLine(string message, int lines)
    {
        if (LineOf(message) is not { } line || lines == 0)
        {
            return message;
        }

        var number = LinePrefix().Match(message).Groups[1];
        return $"Line {line + lines}{message[(number.Index + number.Length)..]}";
    }

    /// <summary>The line a message from <see cref="TokenConfigYaml"/> starts with, if it names one.</summary>
    public static int? LineOf(string message)
    {
        var match = LinePrefix().Match(message);
        return match.Success ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : null;
    }

    private static void ReadList(Parser parser, string yaml, IReadOnlySet<string> extractKeys, List<YamlListEntry> entries)
    {
        parser.Consume<SequenceStart>();
        while (!parser.TryConsume<SequenceEnd>(out _))
        {
            var start = parser.Current!.Start;
            var entry = new YamlListEntry { Index = entries.Count + 1, Line = (int)start.Line, Column = (int)start.Column };
            entries.Add(entry);
            new EntryReader(parser, yaml, entry).Read(extractKeys);
        }
    }

    private static bool IsNull(Scalar scalar) =>
        scalar.Style == ScalarStyle.Plain && scalar.Value is "" or "~" or "null" or "Null" or "NULL";

    [GeneratedRegex(@"^Line (\d+), column \d+: ")]
    private static partial Regex LinePrefix();

    /// <summary>Consumes one list entry, noting where its text ends, its name, its secrets and its aliases.</summary>
    private sealed class EntryReader(IParser parser, string yaml, YamlListEntry entry)
    {
        private readonly HashSet<string> _anchors = new(StringComparer.Ordinal);
        private readonly List<(int Start, int End)> _blanks = [];
        private int _end;
        private int _endLine;

        public void Read(IReadOnlySet<string> extractKeys)
        {
            var startIndex = (int)parser.Current!.Start.Index;
            _end = startIndex;
            _endLine = entry.Line;
            if (parser.Current is MappingStart mapping)
            {
                entry.IsMapping = true;
                var flow = mapping.Style == MappingStyle.Flow;
                Visit(mapping);
                parser.MoveNext();
                while (parser.Current is not MappingEnd)
                {
                    var key = parser.Current as Scalar;
                    var keyStart = (int)parser.Current!.Start.Index;
                    Walk();
                    var value = parser.Current!;
                    Walk();
                    if (key is null)
                    {
                        continue;
                    }

                    if (key.Value is "name" or "Name" && value is Scalar name)
                    {
                        entry.Name ??= name.Value;
                    }

                    if (extractKeys.Contains(key.Value))
                    {
                        if (value is Scalar secret)
                        {
                            entry.Extracted[key.Value] = IsNull(secret) ? null : secret.Value;
                        }
                        else
                        {
                            entry.Problem ??= $"Line {value.Start.Line}, column {value.Start.Column}: {key.Value} must be a text value.";
                        }

                        _blanks.Add(flow ? WithComma(keyStart, _end) : (keyStart, _end));
                    }
                }

                Visit(parser.Current);
                parser.MoveNext();
            }
            else
            {
                Walk();
            }

            var text = yaml.ToCharArray(startIndex, _end - startIndex);
            foreach (var (from, to) in _blanks)
            {
                for (var i = from - startIndex; i < to - startIndex; i++)
                {
                    if (text[i] is not ('\n' or '\r'))
                    {
                        text[i] = ' ';
                    }
                }
            }

            entry.EndLine = _endLine;
            entry.Text = new string(' ', entry.Column - 1) + new string(text);
        }

        /// <summary>Consumes one node with everything in it.</summary>
        private void Walk()
        {
            var depth = 0;
            do
            {
                var current = parser.Current!;
                Visit(current);
                depth += current.NestingIncrease;
                parser.MoveNext();
            }
            while (depth > 0);
        }

        private void Visit(ParsingEvent current)
        {
            if (current is NodeEvent { Anchor.IsEmpty: false } node)
            {
                _anchors.Add(node.Anchor.Value);
            }

            if (current is AnchorAlias alias && !_anchors.Contains(alias.Value.Value))
            {
                entry.Problem ??= $"Line {alias.Start.Line}, column {alias.Start.Column}: the alias *{alias.Value.Value} refers to an anchor outside this entry; each entry of the list must stand on its own.";
            }

            // Note: the end of a block collection has no text of its own; the parser puts it where the next token
            // starts, which may be past the entry. The end of a flow collection is its bracket, given no width.
            var (index, line) = ((int)current.End.Index, (int)current.End.Line);
            if (current is MappingEnd or SequenceEnd)
            {
                if (index >= yaml.Length || yaml[index] is not ('}' or ']'))
                {
                    return;
                }

                index++;
            }

            if (index > _end)
            {
                (_end, _endLine) = (index, line);
            }
        }

        /// <summary>In a flow mapping, a removed key: value takes one comma with it, so the rest stays valid YAML.</summary>
        private (int Start, int End) WithComma(int start, int end)
        {
            var after = end;
            while (after < yaml.Length && char.IsWhiteSpace(yaml[after]))
            {
                after++;
            }

            if (after < yaml.Length && yaml[after] == ',')
            {
                return (start, after + 1);
            }

            var before = start - 1;
            while (before >= 0 && char.IsWhiteSpace(yaml[before]))
            {
                before--;
            }

            return before >= 0 && yaml[before] == ',' ? (before, end) : (start, end);
        }
    }
}
