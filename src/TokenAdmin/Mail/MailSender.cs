using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using TokenAdmin.Secrets;
using TokenAdmin.Settings;
using TokenAdmin.TokenProvider;

namespace TokenAdmin.Mail;

/// <summary>Sends mail through the SMTP settings. Other code calls this; it never talks SMTP itself.</summary>
public interface IMailSender
{
    /// <summary>Sends <paramref name="message"/>; a missing From is filled with the configured sender.</summary>
    /// <exception cref="MailConnectionException">the settings are incomplete, or the server refused the login or the message</exception>
    Task SendAsync(MimeMessage message, CancellationToken cancellationToken);
}

internal sealed class MailSender(SettingsStore settings, ITokenProvider tokens, MailTls tls, GraphMailClient graph) : IMailSender
{
    public async Task SendAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var snapshot = await settings.GetAsync(cancellationToken);
        var smtp = SmtpSettings.Read(snapshot);
        if (!smtp.IsConfigured)
        {
            throw new MailConnectionException(smtp.UsesGraph
                ? "Sending through Microsoft Graph is not set up: choose the token source on the SMTP sending page."
                : "SMTP sending is not set up: enter the SMTP host on the SMTP sending page.");
        }

        if (message.From.Count == 0)
        {
            if (smtp.From.Length == 0)
            {
                throw new MailConnectionException("The SMTP settings have no From address.");
            }

            message.From.Add(MailboxAddress.Parse(smtp.From));
        }

        if (smtp.UsesGraph)
        {
            await SendThroughGraphAsync(smtp, message, cancellationToken);
            return;
        }

        try
        {
            using var client = await ConnectAsync(smtp, cancellationToken);
            switch (smtp.Authentication)
            {
                case SmtpAuthentication.Password:
                    var password = snapshot.GetSecret(MailSettings.SmtpPassword)
                        ?? throw new MailConnectionException("The SMTP settings have no password.");
                    await client.AuthenticateAsync(smtp.UserName, password, cancellationToken);
                    break;
                case SmtpAuthentication.OAuth2:
                    await LoginWithTokenAsync(client, smtp, cancellationToken);
                    break;
            }

            await client.SendAsync(message, cancellationToken);
            await client.DisconnectAsync(true, cancellationToken);
        }
        catch (AuthenticationException ex)
        {
            throw new MailConnectionException($"{smtp.Host} refused the login: {ex.Message}", ex);
        }
        catch (SmtpCommandException ex)
        {
            throw new MailConnectionException($"{smtp.Host} refused the message: {ex.Message}", ex);
        }
        catch (SecretUnreadableException ex)
        {
            throw new MailConnectionException(ex.Message, ex);
        }
        catch (Exception ex) when (MailConnector.IsServerFault(ex))
        {
            throw new MailConnectionException($"{smtp.Host}:{smtp.Port}: {ex.Message}", ex);
        }
    }

    /// <summary>POST /users/{mailbox}/sendMail with the MIME message (base64, text/plain); Graph keeps a copy in Sent Items.</summary>
    private async Task SendThroughGraphAsync(SmtpSettings smtp, MimeMessage message, CancellationToken cancellationToken)
    {
        var mailbox = smtp.GraphMailbox.Length > 0 ? smtp.GraphMailbox : message.From.Mailboxes.First().Address;
        var target = new GraphTarget(GraphClouds.Root(smtp.GraphCloud, smtp.GraphEndpoint), mailbox, smtp.TokenSource!.Value);
        using var mime = new MemoryStream();
        await message.WriteToAsync(mime, cancellationToken);
        try
        {
            await graph.SendMimeAsync(target, mime.ToArray(), cancellationToken);
        }
        catch (GraphMailException ex)
        {
            throw new MailConnectionException(ex.Message, ex);
        }
    }

    private async Task<SmtpClient> ConnectAsync(SmtpSettings smtp, CancellationToken cancellationToken)
    {
        var client = new SmtpClient { Timeout = (int)MailConnector.Timeout.TotalMilliseconds };
        try
        {
            tls.Apply(client);
        }
        catch (MailConnectionException)
        {
            client.Dispose();
            throw;
        }

        var options = smtp.Security switch
        {
            "tls" => SecureSocketOptions.SslOnConnect,
            "none" => SecureSocketOptions.None,
            _ => SecureSocketOptions.StartTls,
        };
        if (options == SecureSocketOptions.None && !Loopback.IsLoopbackHost(smtp.Host))
        {
            client.Dispose();
            throw new MailConnectionException($"SMTP without TLS would send the credentials to {smtp.Host} unencrypted; TokenAdmin does that only to this machine. Choose TLS or STARTTLS.");
        }
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(MailConnector.Timeout);
            await client.ConnectAsync(smtp.Host, smtp.Port, options, timeout.Token);
            return client;
        }
        catch (Exception ex)
        {
            client.Dispose();
            throw ex switch
            {
                OperationCanceledException when cancellationToken.IsCancellationRequested => ex,
                OperationCanceledException => new MailConnectionException($"{smtp.Host}:{smtp.Port} did not answer within {MailConnector.Timeout.TotalSeconds:0} seconds.", ex),
                SocketException s => new MailConnectionException($"Cannot connect to {smtp.Host}:{smtp.Port}: {s.Message}", ex),
                SslHandshakeException => new MailConnectionException($"TLS with {smtp.Host}:{smtp.Port} failed: {ex.Message.Split('\n', 2)[0].Trim()}", ex),
                NotSupportedException => new MailConnectionException($"{smtp.Host}:{smtp.Port} does not offer STARTTLS.", ex),
                _ when MailConnector.IsServerFault(ex) => new MailConnectionException($"{smtp.Host}:{smtp.Port}: {ex.Message}", ex),
                _ => ex,
            };
        }
    }

    private async Task LoginWithTokenAsync(SmtpClient client, SmtpSettings smtp, CancellationToken cancellationToken)
    {
        var source = smtp.TokenSource ?? throw new MailConnectionException("The SMTP settings name no token config for OAuth2.");
        var mechanism = smtp.Mechanism == MailSasl.OAuthBearer ? MailSasl.OAuthBearer : MailSasl.XOAuth2;
        BearerToken token;
        try
        {
            token = await tokens.GetTokenAsync(source, cancellationToken);
            try
            {
                await client.AuthenticateAsync(MailSasl.WithoutInitialResponse(mechanism, smtp.UserName, token.Value), cancellationToken);
                return;
            }
            catch (AuthenticationException)
            {
                // Note: SMTP servers keep the connection after a failed AUTH, so the retry with a fresh token reuses it.
                token = await tokens.ForceRefreshAsync(source, cancellationToken);
            }
        }
        catch (TokenUnavailableException ex)
        {
            throw new MailConnectionException($"No token from {ex.SourceName}: {ex.Message}", ex);
        }

        await client.AuthenticateAsync(MailSasl.WithoutInitialResponse(mechanism, smtp.UserName, token.Value), cancellationToken);
    }
}
