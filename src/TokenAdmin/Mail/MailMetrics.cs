using System.Diagnostics.Metrics;

namespace TokenAdmin.Mail;

/// <summary>Mail fetch runs on the meter "TokenAdmin": <c>tokenadmin.mail.fetches</c> by result (ok, failed) and the messages stored.</summary>
public sealed class MailMetrics
{
    private readonly Counter<long> _fetches;
    private readonly Counter<long> _stored;

    public MailMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(Tokens.TokenMetrics.MeterName);
        _fetches = meter.CreateCounter<long>("tokenadmin.mail.fetches", "{fetch}", "Fetches of mail accounts, by result (ok, failed).");
        _stored = meter.CreateCounter<long>("tokenadmin.mail.messages_stored", "{message}", "Messages fetched and stored in the spool.");
    }

    public void Record(bool failed, int stored)
    {
        _fetches.Add(1, new KeyValuePair<string, object?>("result", failed ? "failed" : "ok"));
        if (stored > 0)
        {
            _stored.Add(stored);
        }
    }
}
