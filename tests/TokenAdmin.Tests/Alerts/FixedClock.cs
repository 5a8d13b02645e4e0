namespace TokenAdmin.Tests.Alerts;

/// <summary>A clock that says it is <paramref name="now"/> (UTC): gives a service under test "the day" without waiting.</summary>
public sealed class FixedClock(DateTime now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => new(DateTime.SpecifyKind(now, DateTimeKind.Utc));
}
