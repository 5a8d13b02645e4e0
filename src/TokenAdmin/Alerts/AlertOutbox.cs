using Microsoft.Extensions.Options;
using TokenAdmin.Data;

namespace TokenAdmin.Alerts;

/// <summary>Thresholds and timings of alerts (configuration section TokenAdmin:Alerts).</summary>
public sealed class AlertOptions
{
    /// <summary>A source whose renewals fail for a transient reason is "failing" after this many failures in a row…</summary>
    public int FailingAfterFailures { get; set; } = 3;

    /// <summary>…or once it has been failing for this long, whichever comes first.</summary>
    public TimeSpan FailingAfter { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>A refresh token that expires within this window raises an alert (once per expiry).</summary>
    public TimeSpan RefreshTokenWarning { get; set; } = TimeSpan.FromDays(5);

    /// <summary>While a source stays failing or dead, its alert is repeated this often (zero: never).</summary>
    public TimeSpan ReminderInterval { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How often the dispatcher looks for new alerts and due retries when nothing woke it (a raise in this process wakes it at once).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often sources, mail accounts and the updater are checked for conditions that no state change raises (expiry, stalls).</summary>
    public TimeSpan ScanInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The most time one delivery may take, the receiver's whole answer included.</summary>
    public TimeSpan DeliveryTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Attempts per delivery before it is recorded as failed.</summary>
    public int MaxAttempts { get; set; } = 6;

    /// <summary>The wait before the second attempt; doubled after each further failure (5 s, 10 s, 20 s, …).</summary>
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>False: this node raises alerts but sends none (another node of the cluster sends them).</summary>
    public bool DispatcherEnabled { get; set; } = true;

    /// <summary>Alerts whose deliveries have all ended are removed after this long.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(90);
}

/// <summary>
/// Writes alerts into the outbox (<see cref="AlertEvent"/>) as part of the caller's unit of work: the caller's
/// SaveChanges stores the alert together with the state change that causes it, or neither. After the commit,
/// <see cref="Wake"/> tells this process's dispatcher not to wait for its next poll.
/// </summary>
public sealed class AlertOutbox(IOptionsMonitor<AlertOptions> options)
{
    public AlertOptions Options => options.CurrentValue;

    /// <summary>Raised by <see cref="Wake"/>; the dispatcher listens.</summary>
    public event Action? Raised;

    public AlertEvent Add(TokenAdminDb db, AlertSubject subject, string type, string state, string message, DateTime now, string? eventId = null)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(subject);
        var alert = New(subject, type, state, message, now, eventId);
        db.AlertEvents.Add(alert);
        return alert;
    }

    public static AlertEvent New(AlertSubject subject, string type, string state, string message, DateTime now, string? eventId = null)
    {
        ArgumentNullException.ThrowIfNull(subject);
        return new AlertEvent
        {
            EventId = eventId ?? Guid.NewGuid().ToString("N"),
            Type = type,
            SourceKind = subject.Kind,
            SourceId = subject.Id,
            SourceName = Cut(subject.Name, 300),
            State = state,
            Message = Cut(message, 4000),
            Link = subject.Link,
            CreatedAt = now,
        };
    }

    public void Wake() => Raised?.Invoke();

    private static string Cut(string value, int max) => value.Length <= max ? value : value[..(max - 1)] + "…";
}

/// <summary>What an alert is about: a token source, a mail account, the updater; and the page that fixes it.</summary>
public sealed record AlertSubject(string Kind, int? Id, string Name, string? Link);

/// <summary>The conditions a watched thing can be in; stored on it so that each change raises one alert.</summary>
public static class AlertConditions
{
    public const string Ok = "ok";
    public const string Failing = "failing";
    public const string Dead = "dead";
}
