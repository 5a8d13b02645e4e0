namespace TokenAdmin.WebServices.Api;

/// <summary>
/// Which token issuers a profile's discovery issuer stands for. Exact match for every provider; for Microsoft Entra
/// also: the multi-tenant template (<c>https://login.microsoftonline.com/{tenantid}/v2.0</c> from the common or
/// organizations document) filled with the token's <c>tid</c>, and the v1 form <c>https://sts.windows.net/{tid}/</c>
/// that an API registered for v1 tokens (accessTokenAcceptedVersion null or 1) receives.
/// </summary>
public static class AzureIssuers
{
    public const string TenantPlaceholder = "{tenantid}";
    private const string V2Prefix = "https://login.microsoftonline.com/";
    private const string V2Suffix = "/v2.0";
    private const string V1Prefix = "https://sts.windows.net/";

    public static bool Matches(string? profileIssuer, string tokenIssuer, string? tenant)
    {
        if (string.IsNullOrEmpty(profileIssuer))
        {
            return false;
        }

        if (string.Equals(profileIssuer, tokenIssuer, StringComparison.Ordinal))
        {
            return true;
        }

        // Note: a placeholder is filled only with the token's own tid, so one tenant's token never passes for another's.
        if (tenant is null || !IsTenantId(tenant))
        {
            return false;
        }

        var concrete = profileIssuer.Replace(TenantPlaceholder, tenant, StringComparison.OrdinalIgnoreCase);
        if (string.Equals(concrete, tokenIssuer, StringComparison.Ordinal))
        {
            return true;
        }

        // The v2 issuer of a tenant also stands for that tenant's v1 issuer.
        return concrete.StartsWith(V2Prefix, StringComparison.OrdinalIgnoreCase)
            && concrete.EndsWith(V2Suffix, StringComparison.OrdinalIgnoreCase)
            && string.Equals(concrete[V2Prefix.Length..^V2Suffix.Length], tenant, StringComparison.OrdinalIgnoreCase)
            && string.Equals(tokenIssuer, V1Prefix + tenant + "/", StringComparison.Ordinal);
    }

    /// <summary>A tenant id is a GUID; anything else in tid (a crafted token) never fills a template.</summary>
    private static bool IsTenantId(string tenant) => Guid.TryParseExact(tenant, "D", out _);
}
