using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.WebServices;

/// <summary>Web services that take their bearer token from a config or a functional account keep it from being deleted.</summary>
internal sealed class WebServiceUsage(TokenAdminDb db) : ITokenSourceUsage
{
    public async Task<IReadOnlyList<string>> FindUsesAsync(TokenSource source, CancellationToken cancellationToken) =>
        await db.WebServices.AsNoTracking()
            .Where(w => (w.Authentication == WebServiceAuthentication.TokenConfig || w.Authentication == WebServiceAuthentication.FunctionalAccount)
                && w.TokenSourceKind == source.Kind && w.TokenSourceId == source.Id)
            .OrderBy(w => w.Name)
            .Select(w => "web service " + w.Name)
            .ToListAsync(cancellationToken);
}
