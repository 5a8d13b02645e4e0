namespace TokenAdmin.Oidc;

/// <summary>
/// The roles of TokenAdmin's API. A profile's RoleMap may only name these (they sit with the RoleMap they are checked
/// against; the API users who get them sit with the incoming API).
/// </summary>
public static class ApiRoles
{
    public const string TokensRead = "tokens.read";
    public const string TokensRefresh = "tokens.refresh";
    public const string TokensBroker = "tokens.broker";
    public const string WebServicesInvoke = "webservices.invoke";

    public static readonly IReadOnlyList<string> All = [TokensRead, TokensRefresh, TokensBroker, WebServicesInvoke];
}
