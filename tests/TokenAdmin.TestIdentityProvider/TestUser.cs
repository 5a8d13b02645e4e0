using System.Collections.ObjectModel;

namespace TokenAdmin.TestIdentityProvider;

/// <summary>
/// A user known to the test identity provider (kept in memory).
/// </summary>
/// <param name="UserName">The user name; also used as the <c>sub</c> claim.</param>
/// <param name="Password">The password checked by the login page and the password grant.</param>
public sealed record TestUser(string UserName, string Password)
{
    /// <summary>
    /// Claims issued for this user in identity and access tokens, e.g.
    /// <c>{"roles": ["tokenadmin-admins"], "email": ["alice@example.test"], "name": ["Alice"]}</c>.
    /// </summary>
    public IReadOnlyDictionary<string, string[]> Claims { get; init; } = ReadOnlyDictionary<string, string[]>.Empty;

    /// <inheritdoc/>
    public override string ToString() => $"TestUser {{ UserName = {UserName} }}"; // never print the password
}
