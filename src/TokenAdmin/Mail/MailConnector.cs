using System.Net.Sockets;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Net.Pop3;
using MailKit.Security;
using TokenAdmin.Secrets;
using TokenAdmin.Settings;
using TokenAdmin.TokenProvider;

namespace TokenAdmin.Mail;

/// <summary>Why a mail server could not be used, in words for the admin (the server's own text where it gave one).</summary>
public sealed class MailConnectionException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Connects a mail account's client and logs it in: password, or a bearer token from <see cref="ITokenProvider"/> over
/// XOAUTH2 / OAUTHBEARER. A refused token gets one forced refresh and one more try, as for any 401.
/// </summary>
public sealed class MailConnector(ITokenProvider tokens, SettingsStore settings, ISecretProtector protector, MailTls tls)
{
    /// <summary>How long connecting and each command may take.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <exception cref="MailConnectionException">connecting or logging in failed</exception>
    public async Task<MailService> ConnectAsync(MailAccount account, CancellationToken cancellationToken)
    {
        var client = await ConnectOnlyAsync(account, cancellationToken);
        try
        {
            if (account.TokenSource is not { } source)
            {
                await LoginWithPasswordAsync(client, account, cancellationToken);
                return client;
            }

            var token = await GetTokenAsync(() => tokens.GetTokenAsync(source, cancellationToken).AsTask());
            try
            {
                await LoginWithTokenAsync(client, account, token.Value, cancellationToken);
                return client;
            }
            catch (AuthenticationException)
            {
                // Note: the server refused a token the provider still thinks is good (revoked, or expired early):
                // one forced refresh and one more try on a fresh connection, never more.
                client.Dispose();
                token = await GetTokenAsync(() => tokens.ForceRefreshAsync(source, cancellationToken));
                client = await ConnectOnlyAsync(account, cancellationToken);
                await LoginWithTokenAsync(client, account, token.Value, cancellationToken);
                return client;
            }
        }
        catch (AuthenticationException ex)
        {
            client.Dispose();
            throw new MailConnectionException($"{account.Host} refused the login: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is MailConnectionException or OperationCanceledException)
        {
            client.Dispose();
            throw;
        }
        catch (Exception ex) when (IsServerFault(ex))
        {
            client.Dispose();
            throw new MailConnectionException($"{account.Host} answered the login with an error: {ex.Message}", ex);
        }
    }

    /// <summary>Connects, logs in and counts the messages: what "Test connection" shows.</summary>
    public async Task<int> TestAsync(MailAccount account, CancellationToken cancellationToken)
    {
        using var client = await ConnectAsync(account, cancellationToken);
        try
        {
            int count;
            if (client is ImapClient imap)
            {
                var folder = await imap.GetFolderAsync(account.ImapFolder, cancellationToken);
                await folder.OpenAsync(FolderAccess.ReadOnly, cancellationToken);
                count = folder.Count;
            }
            else
            {
                count = await ((Pop3Client)client).GetMessageCountAsync(cancellationToken);
            }

            await client.DisconnectAsync(true, cancellationToken);
            return count;
        }
        catch (FolderNotFoundException)
        {
            throw new MailConnectionException($"The folder '{account.ImapFolder}' does not exist on {account.Host}.");
        }
        catch (Exception ex) when (IsServerFault(ex))
        {
            throw new MailConnectionException($"{account.Host}: {ex.Message}", ex);
        }
    }

    internal static bool IsServerFault(Exception ex) =>
        ex is ProtocolException or CommandException or IOException or SocketException or NotSupportedException or SaslException;

    private static async Task<BearerToken> GetTokenAsync(Func<Task<BearerToken>> get)
    {
        try
        {
            return await get();
        }
        catch (TokenUnavailableException ex)
        {
            throw new MailConnectionException($"No token from {ex.SourceName}: {ex.Message}", ex);
        }
    }

    private async Task<MailService> ConnectOnlyAsync(MailAccount account, CancellationToken cancellationToken)
    {
        var timeoutMs = (int)Timeout.TotalMilliseconds;
        MailService client = account.IsImap ? new ImapClient { Timeout = timeoutMs } : new Pop3Client { Timeout = timeoutMs };
        try
        {
            tls.Apply(client);
        }
        catch (MailConnectionException)
        {
            client.Dispose();
            throw;
        }

        var options = account.Type switch
        {
            MailAccountType.Imaps or MailAccountType.Pop3s => SecureSocketOptions.SslOnConnect,
            MailAccountType.ImapStartTls or MailAccountType.Pop3StartTls => SecureSocketOptions.StartTls,
            _ => SecureSocketOptions.None,
        };
        if (options == SecureSocketOptions.None && !Loopback.IsLoopbackHost(account.Host))
        {
            // Note: a password or bearer token over an unencrypted connection can be read by anyone on the way.
            client.Dispose();
            throw new MailConnectionException(
                $"{account.Type} sends the {(account.Authentication == MailAuthentication.OAuth2 ? "token" : "password")} to {account.Host} unencrypted; TokenAdmin does that only to this machine. Choose the type with TLS or STARTTLS.");
        }
        try
        {
            using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            connectTimeout.CancelAfter(Timeout);
            await client.ConnectAsync(account.Host, account.Port, options, connectTimeout.Token);
            return client;
        }
        catch (Exception ex)
        {
            client.Dispose();
            throw ex switch
            {
                OperationCanceledException when cancellationToken.IsCancellationRequested => ex,
                OperationCanceledException => new MailConnectionException($"{account.Host}:{account.Port} did not answer within {Timeout.TotalSeconds:0} seconds.", ex),
                SocketException s => new MailConnectionException($"Cannot connect to {account.Host}:{account.Port}: {s.Message}", ex),
                SslHandshakeException => new MailConnectionException($"TLS with {account.Host}:{account.Port} failed: {FirstLine(ex.Message)}", ex),
                NotSupportedException => new MailConnectionException($"{account.Host}:{account.Port} does not offer STARTTLS.", ex),
                _ when IsServerFault(ex) => new MailConnectionException($"{account.Host}:{account.Port}: {ex.Message}", ex),
                _ => ex,
            };
        }
    }

    private async Task LoginWithPasswordAsync(MailService client, MailAccount account, CancellationToken cancellationToken)
    {
        if (account.PasswordProtected is null)
        {
            throw new MailConnectionException("The mail account has no password. Enter one on its edit page.");
        }

        string password;
        try
        {
            password = protector.Unprotect(account.PasswordProtected);
        }
        catch (SecretUnreadableException ex)
        {
            throw new MailConnectionException(ex.Message, ex);
        }

        await client.AuthenticateAsync(account.Login, password, cancellationToken);
    }

    private async Task LoginWithTokenAsync(MailService client, MailAccount account, string token, CancellationToken cancellationToken)
    {
        var mechanism = MailSasl.Choose(account.SaslMechanism, client.AuthenticationMechanisms)
            ?? throw new MailConnectionException(
                $"{account.Host} offers neither XOAUTH2 nor OAUTHBEARER (it offers {string.Join(", ", client.AuthenticationMechanisms.DefaultIfEmpty("no SASL mechanism"))}). " +
                "Force a mechanism only if the server accepts it without advertising it.");

        if (client is Pop3Client)
        {
            // Note: the one-line form only for hosts not in the split list AND when the line fits POP3's 255 octets;
            // a long token (any JWT) goes on the continuation line, which POP3 does not limit.
            await client.AuthenticateAsync(
                MailSasl.Pop3OneLineFits(mechanism, account.Login, token) && !await IsPop3SplitHostAsync(account.Host, cancellationToken)
                    ? MailSasl.Pop3OneLine(mechanism, account.Login, token)
                    : MailSasl.WithoutInitialResponse(mechanism, account.Login, token),
                cancellationToken);
            return;
        }

        await client.AuthenticateAsync(
            MailSasl.ImapInitialResponseFits(mechanism, account.Login, token)
                ? MailSasl.Create(mechanism, account.Login, token)
                : MailSasl.WithoutInitialResponse(mechanism, account.Login, token),
            cancellationToken);
    }

    internal async Task<bool> IsPop3SplitHostAsync(string host, CancellationToken cancellationToken)
    {
        var snapshot = await settings.GetAsync(cancellationToken);
        return SettingValues.SplitList(snapshot.Get(MailSettings.Pop3SplitHosts)).Contains(host.Trim().TrimEnd('.'), StringComparer.OrdinalIgnoreCase);
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();
}
