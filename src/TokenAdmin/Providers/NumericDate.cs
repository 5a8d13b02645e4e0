using System.Text.Json;

namespace TokenAdmin.Providers;

/// <summary>
/// A JWT NumericDate claim (RFC 7519 §2: seconds since 1970-01-01 UTC, possibly with a fraction) read without trusting
/// it: null for anything that is not a JSON number within the range a <see cref="DateTime"/> can hold (a string, or a
/// provider that sends milliseconds, would otherwise throw).
/// </summary>
public static class NumericDate
{
    private const long MinSeconds = -62_135_596_800; // 0001-01-01T00:00:00Z
    private const long MaxSeconds = 253_402_300_799; // 9999-12-31T23:59:59Z

    public static long? Seconds(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Number)
        {
            return null;
        }

        if (value.TryGetInt64(out var whole))
        {
            return whole is >= MinSeconds and <= MaxSeconds ? whole : null;
        }

        return value.TryGetDouble(out var fraction) && fraction >= MinSeconds && fraction <= MaxSeconds ? (long)Math.Floor(fraction) : null;
    }

    public static DateTime? ToDateTime(JsonElement value) =>
        Seconds(value) is { } seconds ? DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime : null;
}
