using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MimeKit;
using TokenAdmin.Alerts;
using TokenAdmin.Mail;
using TokenAdmin.Secrets;

namespace TokenAdmin.Alerts.Channels;

/// <summary>What one delivery attempt got: sent, or the reason it was not (shown in the history).</summary>
public sealed record AlertSendResult(bool Sent, string? Error)
{
    public static readonly AlertSendResult Ok = new(true, null);
}

/// <summary>
/// Sends one alert to one channel: mail through the SMTP sending settings, or a webhook POST of a JSON body signed
/// with HMAC-SHA256. One deadline covers the whole delivery (connect, send, the receiver's whole answer).
/// </summary>
public sealed class AlertSender(IMailSender mail, IHttpClientFactory httpClients, ISecretProtector protector, TimeProvider time)
{
    public const string HttpClientName = "alert-webhooks";
    public const string SignatureHeader = "X-TokenAdmin-Signature";
    public const string TimestampHeader = "X-TokenAdmin-Timestamp";
    public const string EventIdHeader = "X-TokenAdmin-Event";

    /// <summary>The most of a receiver's answer read (to show in the history); the rest is not waited for.</summary>
    private const int MaxAnswerChars = 300;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<AlertSendResult> SendAsync(AlertChannel channel, AlertEvent alert, string publicBaseUrl, TimeSpan deadline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(alert);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(deadline);
        try
        {
            return channel.Kind == AlertChannelKind.Email
                ? await SendMailAsync(channel, alert, publicBaseUrl, timeout.Token)
                : await PostAsync(channel, alert, publicBaseUrl, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new AlertSendResult(false, $"No answer within {deadline.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} seconds.");
        }
        catch (MailConnectionException ex)
        {
            return new AlertSendResult(false, ex.Message);
        }
        catch (HttpRequestException ex)
        {
            return new AlertSendResult(false, $"The webhook could not be reached: {ex.Message}");
        }
        catch (SecretUnreadableException ex)
        {
            return new AlertSendResult(false, ex.Message);
        }
    }

    /// <summary>The JSON body of a webhook: event id, type, source, state, message and the link that fixes it.</summary>
    public static string Body(AlertEvent alert, string publicBaseUrl)
    {
        ArgumentNullException.ThrowIfNull(alert);
        return JsonSerializer.Serialize(new
        {
            id = alert.EventId,
            type = alert.Type,
            source = new { kind = alert.SourceKind, id = alert.SourceId, name = alert.SourceName },
            state = alert.State,
            message = alert.Message,
            link = Link(alert, publicBaseUrl),
            createdAt = alert.CreatedAt,
            digest = AlertDigestContent.FromJson(alert.Details) is { } d ? DigestBody(d, publicBaseUrl) : null,
        }, Json);
    }

    /// <summary>A digest in the webhook body: its period, the alerts by type, what is unresolved now and the failed deliveries, links absolute.</summary>
    private static object DigestBody(AlertDigestContent d, string publicBaseUrl) => new
    {
        from = d.From,
        to = d.To,
        quiet = d.Quiet,
        events = d.Events.Select(g => new
        {
            type = g.Type,
            description = g.Description,
            count = g.Count,
            sources = g.Sources.Select(s => new { kind = s.Kind, name = s.Name, state = s.State, link = Absolute(s.Link, publicBaseUrl) }),
        }),
        unresolved = d.Unresolved.Select(u => new { kind = u.Kind, name = u.Name, state = u.State, message = u.Message, link = Absolute(u.Link, publicBaseUrl) }),
        failedDeliveries = d.FailedDeliveries.Select(f => new { channel = f.Channel, type = f.Type, source = f.Source, raisedAt = f.RaisedAt, error = f.Error }),
    };

    /// <summary>A digest mail's text: the summary, then each section with names and links.</summary>
    public static string DigestText(AlertDigestContent d, string publicBaseUrl, string channelName, string eventId)
    {
        ArgumentNullException.ThrowIfNull(d);
        var text = new StringBuilder().AppendLine(d.Summary()).AppendLine();
        if (d.Unresolved.Count > 0)
        {
            text.AppendLine("Unresolved now:");
            foreach (var u in d.Unresolved)
            {
                text.Append(CultureInfo.InvariantCulture, $"- {u.Name} ({u.Kind}): {u.State}").AppendLine();
                if (u.Message is not null)
                {
                    text.Append(CultureInfo.InvariantCulture, $"  {u.Message}").AppendLine();
                }

                if (Absolute(u.Link, publicBaseUrl) is { } link)
                {
                    text.Append(CultureInfo.InvariantCulture, $"  Fix it here: {link}").AppendLine();
                }
            }

            text.AppendLine();
        }

        if (d.Events.Count > 0)
        {
            text.AppendLine("Alerts raised in these 24 hours:");
            foreach (var g in d.Events)
            {
                text.Append(CultureInfo.InvariantCulture, $"- {g.Description} ({g.Type}): {g.Count}").AppendLine();
                foreach (var s in g.Sources)
                {
                    text.Append(CultureInfo.InvariantCulture, $"  - {s.Name} ({s.Kind}){(Absolute(s.Link, publicBaseUrl) is { } link ? ": " + link : "")}").AppendLine();
                }
            }

            text.AppendLine();
        }

        if (d.FailedDeliveries.Count > 0)
        {
            text.AppendLine("Alert deliveries that failed:");
            foreach (var f in d.FailedDeliveries)
            {
                text.Append(CultureInfo.InvariantCulture, $"- {AlertTypes.Describe(f.Type)} about {f.Source} (raised {f.RaisedAt:yyyy-MM-dd HH:mm} UTC) to channel '{f.Channel}': {f.Error}").AppendLine();
            }

            text.Append(CultureInfo.InvariantCulture, $"  Alert history: {publicBaseUrl.TrimEnd('/')}/Alerts/History").AppendLine().AppendLine();
        }

        text.Append(CultureInfo.InvariantCulture, $"Dashboard: {publicBaseUrl.TrimEnd('/')}/").AppendLine().AppendLine();
        text.Append(CultureInfo.InvariantCulture, $"Daily digest {eventId}, sent by TokenAdmin through the alert channel '{channelName}'.").AppendLine();
        return text.ToString();
    }

    private static string? Absolute(string? path, string publicBaseUrl) => path is null ? null : publicBaseUrl.TrimEnd('/') + path;

    /// <summary>"sha256=" + the hex HMAC-SHA256 of timestamp + "." + body under the channel's secret.</summary>
    public static string Signature(string secret, string timestamp, string body)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(timestamp + "." + body));
        return "sha256=" + Convert.ToHexStringLower(mac);
    }

    private static string? Link(AlertEvent alert, string publicBaseUrl) => alert.Link is null ? null : publicBaseUrl.TrimEnd('/') + alert.Link;

    private async Task<AlertSendResult> SendMailAsync(AlertChannel channel, AlertEvent alert, string publicBaseUrl, CancellationToken cancellationToken)
    {
        var message = new MimeMessage();
        foreach (var address in channel.Target.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            message.To.Add(MailboxAddress.Parse(address));
        }

        message.Headers.Add("X-TokenAdmin-Event", alert.EventId);
        if (AlertDigestContent.FromJson(alert.Details) is { } digest)
        {
            message.Subject = $"[TokenAdmin] Daily digest {digest.To:yyyy-MM-dd}: {(digest.Quiet ? "all good" : $"{digest.Events.Sum(e => e.Count)} alert(s), {digest.Unresolved.Count} unresolved")}";
            message.Body = new TextPart("plain") { Text = DigestText(digest, publicBaseUrl, channel.Name, alert.EventId) };
            await mail.SendAsync(message, cancellationToken);
            return AlertSendResult.Ok;
        }

        message.Subject = $"[TokenAdmin] {AlertTypes.Describe(alert.Type)}: {alert.SourceName}";
        var link = Link(alert, publicBaseUrl);
        var text = new StringBuilder()
            .AppendLine(alert.Message)
            .AppendLine()
            .Append(CultureInfo.InvariantCulture, $"State: {alert.State}").AppendLine()
            .Append(CultureInfo.InvariantCulture, $"Since: {alert.CreatedAt:yyyy-MM-dd HH:mm:ss} UTC").AppendLine();
        if (link is not null)
        {
            text.AppendLine().Append(CultureInfo.InvariantCulture, $"Fix it here: {link}").AppendLine();
        }

        text.AppendLine().Append(CultureInfo.InvariantCulture, $"Event {alert.EventId}, sent by TokenAdmin through the alert channel '{channel.Name}'.").AppendLine();
        message.Body = new TextPart("plain") { Text = text.ToString() };
        await mail.SendAsync(message, cancellationToken);
        return AlertSendResult.Ok;
    }

    private async Task<AlertSendResult> PostAsync(AlertChannel channel, AlertEvent alert, string publicBaseUrl, CancellationToken cancellationToken)
    {
        var secret = channel.SecretProtected is null ? null : protector.Unprotect(channel.SecretProtected);
        var body = Body(alert, publicBaseUrl);
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, channel.Target)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(EventIdHeader, alert.EventId);
        request.Headers.Add(TimestampHeader, timestamp);
        if (secret is not null)
        {
            request.Headers.Add(SignatureHeader, Signature(secret, timestamp, body));
        }

        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("TokenAdmin", "1"));
        var client = httpClients.CreateClient(HttpClientName);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return AlertSendResult.Ok;
        }

        var answer = await ReadStartAsync(response.Content, cancellationToken);
        return new AlertSendResult(false, $"The webhook answered {(int)response.StatusCode} {response.ReasonPhrase}{(answer.Length > 0 ? ": " + answer : "")}");
    }

    private static async Task<string> ReadStartAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var buffer = new char[MaxAnswerChars];
        var read = await reader.ReadBlockAsync(buffer.AsMemory(), cancellationToken);
        return new string(buffer, 0, read).ReplaceLineEndings(" ").Trim();
    }
}
