using TokenAdmin.Data;

namespace TokenAdmin.Tokens;

/// <summary>
/// The token sources a mail account, the SMTP settings or a web service can take their token from, every kind in
/// order and each by name. The values are <see cref="TokenSource.Key"/>s; <see cref="TokenSource.Parse"/> reads them back.
/// </summary>
public sealed class TokenSourcePicker(IEnumerable<ITokenSourceKind> kinds, TokenAdminDb db)
{
    public async Task<IReadOnlyList<(string Value, string Name)>> ChoicesAsync(CancellationToken cancellationToken)
    {
        var choices = new List<(string Value, string Name)>();
        foreach (var kind in kinds.OrderBy(k => k.Kind))
        {
            choices.AddRange((await kind.ChoicesAsync(db, cancellationToken)).Select(c => (c.Value, c.Name)));
        }

        return choices;
    }
}
