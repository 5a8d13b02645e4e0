using System.Globalization;

namespace TokenAdmin.Tokens;

/// <summary>
/// A client credential that expires: a client secret (its expiry date entered by the admin, as Microsoft Entra shows
/// it) or a client certificate (its NotAfter). Token configs, functional accounts and OIDC profiles show it, banners
/// warn about it and the alert scanner raises "client secret or certificate will expire" from the warning window on.
/// </summary>
public sealed record CredentialExpiry(string What, DateTime ExpiresAt)
{
    public const string Secret = "secret";
    public const string Certificate = "certificate";

    /// <summary>Whole days left, rounded down; negative once it has expired.</summary>
    public int DaysLeft(DateTime now) => (int)Math.Floor((ExpiresAt - now).TotalDays);

    public bool Expired(DateTime now) => ExpiresAt <= now;

    /// <summary>Within <paramref name="warningDays"/> of its expiry, or past it.</summary>
    public bool Soon(DateTime now, int warningDays) => ExpiresAt - now <= TimeSpan.FromDays(warningDays);

    /// <summary>"secret expires in 12 days", "certificate expires today", "secret expired on 2026-11-30".</summary>
    public string Describe(DateTime now)
    {
        if (Expired(now))
        {
            return $"{What} expired on {ExpiresAt.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}";
        }

        var days = DaysLeft(now);
        return days switch
        {
            0 => $"{What} expires today ({ExpiresAt.ToString("HH:mm", CultureInfo.InvariantCulture)} UTC)",
            1 => $"{What} expires in 1 day",
            _ => $"{What} expires in {days.ToString(CultureInfo.InvariantCulture)} days",
        };
    }

    /// <summary>The expiry time of a secret entered as a date: the start of that day (UTC), so no warning comes too late.</summary>
    public static DateTime? StartOf(DateOnly? day) => day?.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);

    /// <summary>The credential that expires first, or null.</summary>
    public static CredentialExpiry? Soonest(bool hasSecret, DateTime? secretExpiresAt, DateTime? certificateNotAfter) =>
        Of(hasSecret, secretExpiresAt, certificateNotAfter) is { Count: > 0 } list ? list[0] : null;

    /// <summary>The credentials a source holds that expire, soonest first: the secret only when one is stored, the certificate when present.</summary>
    public static IReadOnlyList<CredentialExpiry> Of(bool hasSecret, DateTime? secretExpiresAt, DateTime? certificateNotAfter)
    {
        var list = new List<CredentialExpiry>(2);
        if (hasSecret && secretExpiresAt is { } secret)
        {
            list.Add(new CredentialExpiry(Secret, secret));
        }

        if (certificateNotAfter is { } certificate)
        {
            list.Add(new CredentialExpiry(Certificate, certificate));
        }

        list.Sort((a, b) => a.ExpiresAt.CompareTo(b.ExpiresAt));
        return list;
    }
}
