namespace TokenAdmin.Tokens;

/// <summary>
/// One linear pass over YAML text that finds nesting deeper than a limit before any parser sees it. YamlDotNet's
/// scanner costs grow with the square of the nesting depth (400,000 '[' kept a core busy for over ten minutes), so the
/// depth is bounded here, on the characters: flow collections ([ and {) outside quotes and comments, block collections
/// by indentation, and "- " items written on one line. It counts generously (a '[' inside a plain scalar counts too):
/// real token configs nest five or six levels, far below the limit.
/// </summary>
public static class YamlNesting
{
    public const int MaxDepth = 64;

    /// <summary>Throws <see cref="TokenConfigYamlException"/> (with line and column) when <paramref name="yaml"/> nests deeper than <see cref="MaxDepth"/>.</summary>
    public static void Check(string yaml, CancellationToken cancellationToken = default)
    {
        var indents = new Stack<int>();
        var flow = 0;
        var quote = '\0';
        var blockScalarParent = -1;
        var line = 0;
        var start = 0;
        while (start <= yaml.Length)
        {
            var end = yaml.IndexOf('\n', start);
            if (end < 0)
            {
                end = yaml.Length;
            }

            line++;
            if ((line & 0xFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var position = start;
            var indent = 0;
            while (position < end && yaml[position] == ' ')
            {
                position++;
                indent++;
            }

            var blank = position >= end || yaml[position] is '\r' or '#';
            if (blockScalarParent >= 0 && (blank || indent > blockScalarParent))
            {
                // Note: the text of a literal (|) or folded (>) block scalar is content, whatever characters it holds.
                start = end + 1;
                continue;
            }

            blockScalarParent = -1;
            var block = indents.Count;
            if (quote == '\0' && flow == 0 && !blank)
            {
                while (indents.Count > 0 && indents.Peek() > indent)
                {
                    indents.Pop();
                }

                if (indents.Count == 0 || indents.Peek() < indent)
                {
                    indents.Push(indent);
                }

                block = indents.Count;
                // "- - - x" and "? " nest on one line.
                while (position < end && yaml[position] is '-' or '?' && (position + 1 == end || yaml[position + 1] is ' ' or '\t' or '\r'))
                {
                    block++;
                    position++;
                    while (position < end && yaml[position] is ' ' or '\t')
                    {
                        position++;
                    }

                    Deeper(block + flow, line, position - start + 1);
                }
            }

            var lastSignificant = '\0';
            var previous = position > start ? yaml[position - 1] : ' ';
            for (; position < end; position++)
            {
                if ((position & 0xFFFF) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                var c = yaml[position];
                if (quote != '\0')
                {
                    if (c == '\\' && quote == '"')
                    {
                        position++;
                    }
                    else if (c == quote)
                    {
                        if (quote == '\'' && position + 1 < end && yaml[position + 1] == '\'')
                        {
                            position++;
                        }
                        else
                        {
                            quote = '\0';
                        }
                    }

                    previous = c;
                    continue;
                }

                if (c == '#' && previous is ' ' or '\t')
                {
                    break;
                }

                if (c is '"' or '\'' && previous is ' ' or '\t' or '[' or '{' or ',' or ':' or '-' or '?')
                {
                    quote = c;
                }
                else if (c is '[' or '{')
                {
                    flow++;
                    Deeper(block + flow, line, position - start + 1);
                }
                else if (c is ']' or '}' && flow > 0)
                {
                    flow--;
                }

                if (c is not (' ' or '\t' or '\r'))
                {
                    lastSignificant = c;
                }

                previous = c;
            }

            if (quote == '\0' && flow == 0 && IsBlockScalarIndicator(yaml, start, position, lastSignificant))
            {
                blockScalarParent = indent;
            }

            start = end + 1;
        }
    }

    private static void Deeper(int depth, int line, int column)
    {
        if (depth > MaxDepth)
        {
            throw new TokenConfigYamlException($"Line {line}, column {column}: nested deeper than {MaxDepth} levels; the file is refused.");
        }
    }

    /// <summary>True when the line ends (before any comment) with a block scalar header such as "|", "|-", ">+" or "|2".</summary>
    private static bool IsBlockScalarIndicator(string yaml, int start, int end, char last)
    {
        if (last is not ('|' or '>' or '-' or '+' or (>= '1' and <= '9')))
        {
            return false;
        }

        var text = yaml.AsSpan(start, end - start).TrimEnd();
        var hash = text.IndexOf(" #", StringComparison.Ordinal);
        if (hash >= 0)
        {
            text = text[..hash].TrimEnd();
        }

        var header = text.Length;
        while (header > 0 && text[header - 1] is '-' or '+' or (>= '1' and <= '9'))
        {
            header--;
        }

        return header > 0 && text[header - 1] is '|' or '>' && (header == 1 || text[header - 2] is ' ' or '\t');
    }
}
