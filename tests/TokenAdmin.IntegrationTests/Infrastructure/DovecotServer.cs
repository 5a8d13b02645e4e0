using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Security;
using MimeKit;

namespace TokenAdmin.IntegrationTests.Infrastructure;

/// <summary>
/// A real Dovecot 2.3 (Debian's dovecot-imapd, -pop3d, -submissiond, -lmtpd) started by the test as its own process:
/// own base_dir and generated configuration in a temporary directory, listeners on free 127.0.0.1 ports only, mail in
/// that directory, a self-signed certificate for IMAPS/POP3S. Its oauth2 passdb asks the test identity provider's
/// introspection endpoint about every token, so a token is accepted only if the provider says it is active for the
/// user; the static passdb accepts <see cref="Password"/> for PLAIN/LOGIN (used to seed mailboxes). Submission relays
/// to <paramref name="relayPort"/>. Stopped by its PID on dispose.
/// </summary>
public sealed class DovecotServer : IAsyncDisposable
{
    private static readonly string[] Listeners = ["imap", "imaps", "pop3", "pop3s", "submission", "lmtp"];
    public const string Password = "mail-password";
    private const string Binary = "/usr/sbin/dovecot";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();

    private DovecotServer(Process process, string directory, Dictionary<string, int> ports)
    {
        _process = process;
        Directory = directory;
        ImapPort = ports["imap"];
        ImapsPort = ports["imaps"];
        Pop3Port = ports["pop3"];
        Pop3sPort = ports["pop3s"];
        SubmissionPort = ports["submission"];
    }

    public string Directory { get; }
    public int ImapPort { get; }
    public int ImapsPort { get; }
    public int Pop3Port { get; }
    public int Pop3sPort { get; }
    public int SubmissionPort { get; }
    public string Log => string.Join('\n', _log);

    /// <param name="introspectionEndpoint">the identity provider's introspection endpoint</param>
    /// <param name="clientId">a confidential client allowed to introspect the tokens</param>
    /// <param name="relayPort">where the submission service relays accepted mail (SMTP on 127.0.0.1)</param>
    public static async Task<DovecotServer> StartAsync(string introspectionEndpoint, string clientId, string clientSecret, int relayPort)
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException(
                $"{Binary} is missing. Install Debian's dovecot-imapd dovecot-pop3d dovecot-submissiond dovecot-lmtpd (tests/run.sh does).");
        }

        var directory = Path.Combine(Path.GetTempPath(), "tokenadmin-dovecot", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "mail"));
        // Dovecot's own users (mail and login processes drop root) must reach the mail directory below it.
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The Dovecot tests run on Linux (Debian's Dovecot).");
        }

        File.SetUnixFileMode(directory, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(Path.Combine(directory, "mail"), (UnixFileMode)0b111_111_111);
        WriteCertificate(directory);

        var introspection = new UriBuilder(introspectionEndpoint)
        {
            UserName = Uri.EscapeDataString(clientId),
            Password = Uri.EscapeDataString(clientSecret),
        }.Uri.AbsoluteUri;
        await File.WriteAllTextAsync(Path.Combine(directory, "oauth2.conf.ext"), $"""
            introspection_mode = post
            introspection_url = {introspection}
            username_attribute = sub
            active_attribute = active
            active_value = true
            """);

        var ports = FreePorts();
        var root = Environment.UserName == "root";
        await File.WriteAllTextAsync(Path.Combine(directory, "dovecot.conf"), $$"""
            base_dir = {{directory}}/run
            state_dir = {{directory}}/state
            instance_name = tokenadmin-{{Path.GetFileName(directory)}}
            log_path = /dev/stderr
            auth_debug = yes
            auth_failure_delay = 0
            protocols = imap pop3 submission lmtp
            listen = 127.0.0.1
            ssl = yes
            ssl_cert = <{{directory}}/cert.pem
            ssl_key = <{{directory}}/key.pem
            disable_plaintext_auth = no
            auth_mechanisms = plain login xoauth2 oauthbearer
            mail_location = maildir:{{directory}}/mail/%n
            {{(root ? "default_internal_user = dovecot\ndefault_login_user = dovenull\nmail_uid = dovecot\nmail_gid = dovecot" : $"default_internal_user = {Environment.UserName}\ndefault_login_user = {Environment.UserName}")}}
            first_valid_uid = 1
            hostname = mail.test
            submission_relay_host = 127.0.0.1
            submission_relay_port = {{relayPort}}
            submission_relay_trusted = yes
            passdb {
              driver = oauth2
              mechanisms = xoauth2 oauthbearer
              args = {{directory}}/oauth2.conf.ext
            }
            passdb {
              driver = static
              mechanisms = plain login
              args = password={{Password}}
            }
            userdb {
              driver = static
              args = {{(root ? "uid=dovecot gid=dovecot " : "")}}home={{directory}}/mail/%n allow_all_users=yes
            }
            service imap-login {
              inet_listener imap {
                port = {{ports["imap"]}}
              }
              inet_listener imaps {
                port = {{ports["imaps"]}}
                ssl = yes
              }
            }
            service pop3-login {
              inet_listener pop3 {
                port = {{ports["pop3"]}}
              }
              inet_listener pop3s {
                port = {{ports["pop3s"]}}
                ssl = yes
              }
            }
            service submission-login {
              inet_listener submission {
                port = {{ports["submission"]}}
              }
            }
            service lmtp {
              inet_listener lmtp {
                port = {{ports["lmtp"]}}
              }
            }
            """);

        var process = new Process
        {
            StartInfo = new ProcessStartInfo(Binary, ["-F", "-c", Path.Combine(directory, "dovecot.conf")])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            },
        };
        var server = new DovecotServer(process, directory, ports);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { server._log.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { server._log.Enqueue(e.Data); } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitUntilListeningAsync(ports.Values);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>
    /// One free loopback port per listener, all different: every probe listener stays open until all ports are
    /// chosen, so the system cannot hand out one port twice.
    /// </summary>
    private static Dictionary<string, int> FreePorts()
    {
        var probes = Listeners.Select(_ => new TcpListener(System.Net.IPAddress.Loopback, 0)).ToList();
        try
        {
            probes.ForEach(p => p.Start());
            return Listeners.Zip(probes, (name, probe) => (name, ((System.Net.IPEndPoint)probe.LocalEndpoint).Port)).ToDictionary(x => x.name, x => x.Port);
        }
        finally
        {
            probes.ForEach(p => p.Dispose());
        }
    }

    /// <summary>Puts messages into a user's INBOX (IMAP APPEND with the seeding password), as a mail delivery would.</summary>
    public async Task SeedAsync(string user, IEnumerable<MimeMessage> messages)
    {
        using var imap = new ImapClient { Timeout = 30_000 };
        await imap.ConnectAsync("127.0.0.1", ImapPort, SecureSocketOptions.None);
        await imap.AuthenticateAsync(user, Password);
        foreach (var message in messages)
        {
            await imap.Inbox.AppendAsync(message, MessageFlags.None);
        }

        await imap.DisconnectAsync(true);
    }

    /// <summary>
    /// Drops raw bytes into the user's maildir as a delivery agent does, untouched by any MIME library (for malformed
    /// messages). The maildir must exist: seed one normal message first.
    /// </summary>
    public async Task SeedRawAsync(string user, byte[] raw)
    {
        var path = Path.Combine(Directory, "mail", user, "new", $"{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.{Guid.NewGuid():N}.test");
        await File.WriteAllBytesAsync(path, raw);
        if (OperatingSystem.IsLinux())
        {
            File.SetUnixFileMode(path, (UnixFileMode)0b110_110_110);
        }
    }

    /// <summary>The Message-IDs in a user's INBOX (read with the seeding password).</summary>
    public async Task<List<string>> MessageIdsAsync(string user)
    {
        using var imap = new ImapClient { Timeout = 30_000 };
        await imap.ConnectAsync("127.0.0.1", ImapPort, SecureSocketOptions.None);
        await imap.AuthenticateAsync(user, Password);
        await imap.Inbox.OpenAsync(FolderAccess.ReadOnly);
        var ids = imap.Inbox.Count == 0
            ? []
            : (await imap.Inbox.FetchAsync(0, -1, MessageSummaryItems.Envelope)).Select(s => s.Envelope?.MessageId ?? "").ToList();
        await imap.DisconnectAsync(true);
        return ids;
    }

    public static MimeMessage NewMessage(string subject, string body = "Hello from the test.", string? messageId = null)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Sender", "sender@example.test"));
        message.To.Add(new MailboxAddress("Alice", "alice@example.test"));
        message.Subject = subject;
        message.MessageId = messageId ?? $"{Guid.NewGuid():N}@example.test";
        message.Body = new TextPart("plain") { Text = body };
        return message;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // Note: SIGTERM lets the master stop its children; only if it does not exit in time is the tree killed.
            using (var term = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false }))
            {
                await term!.WaitForExitAsync();
            }

            using var stop = new CancellationTokenSource(StopTimeout);
            try
            {
                await _process.WaitForExitAsync(stop.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A straggling child still writing; the OS cleans the temp folder.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private async Task WaitUntilListeningAsync(IEnumerable<int> ports)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        foreach (var port in ports)
        {
            while (true)
            {
                if (_process.HasExited)
                {
                    throw new InvalidOperationException($"Dovecot exited with code {_process.ExitCode}:\n{Log}");
                }

                try
                {
                    using var client = new TcpClient();
                    using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                    await client.ConnectAsync("127.0.0.1", port, attempt.Token);
                    break;
                }
                catch (Exception ex) when (ex is SocketException or OperationCanceledException)
                {
                    if (DateTime.UtcNow > deadline)
                    {
                        throw new TimeoutException($"Dovecot did not listen on port {port} within {StartTimeout.TotalSeconds} s:\n{Log}");
                    }

                    // Note: a bounded poll of a port that is not open yet; there is no event to wait for.
                    await Task.Delay(50);
                }
            }
        }
    }

    /// <summary>
    /// The self-signed certificate (its own CA) every test Dovecot serves, for 127.0.0.1 only: a client that trusts this
    /// file reaches Dovecot over TLS at 127.0.0.1, and "localhost" fails the name check.
    /// </summary>
    public static string CertificateFile => Certificate.Value.Cert;

    private static readonly Lazy<(string Cert, string Key)> Certificate = new(CreateCertificate);

    private static (string Cert, string Key) CreateCertificate()
    {
        var directory = System.IO.Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "tokenadmin-dovecot", "cert-" + Guid.NewGuid().ToString("N"))).FullName;
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=TokenAdmin test Dovecot", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, 0, critical: true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
        var cert = Path.Combine(directory, "cert.pem");
        var keyFile = Path.Combine(directory, "key.pem");
        File.WriteAllText(cert, certificate.ExportCertificatePem(), Encoding.ASCII);
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem(), Encoding.ASCII);
        // One certificate per test process, removed when the process ends.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                System.IO.Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        return (cert, keyFile);
    }

    private static void WriteCertificate(string directory)
    {
        File.Copy(Certificate.Value.Cert, Path.Combine(directory, "cert.pem"));
        File.Copy(Certificate.Value.Key, Path.Combine(directory, "key.pem"));
    }
}
