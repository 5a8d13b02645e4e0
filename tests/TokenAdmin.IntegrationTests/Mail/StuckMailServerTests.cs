using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.IntegrationTests.Infrastructure;
using TokenAdmin.Mail;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.IntegrationTests.Mail;

/// <summary>
/// A mail server that accepts the connection and then never speaks (or speaks one byte now and then) holds up no
/// other mailbox: the fetch job stops that account at its deadline, records why, and fetches the others.
/// </summary>
public sealed class StuckMailServerTests : MailTestBase
{
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(40);

    public override async Task InitializeAsync()
    {
        App.Settings["TokenAdmin:Mail:FetchDeadline"] = "00:00:06";
        await base.InitializeAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunDue_OneMailServerNeverAnswers_TheOtherAccountIsFetched_AndTheRunEndsAtTheDeadline(bool trickle)
    {
        // Arrange: the stuck account comes first in the run (created first, never fetched).
        using var stuck = new StuckServer(trickle);
        var stuckAccount = await CreateAccountAsync(MailAccountType.Imap, a => a.Port = stuck.Port);
        await Dovecot.SeedAsync(User, [DovecotServer.NewMessage("still arrives", messageId: "arrives@test")]);
        var healthy = await CreateAccountAsync(MailAccountType.Imap);
        // The token is at hand before the run: the test is about the mail servers, not the provider.
        await App.Services.GetRequiredService<ITokenProvider>().GetTokenAsync(TokenSource.Config(ConfigId), default);
        using var scope = App.Services.CreateScope();
        var job = ActivatorUtilities.CreateInstance<MailFetchJob>(scope.ServiceProvider);
        var clock = Stopwatch.StartNew();

        // Act
        var due = await job.RunDueAsync(default).WaitAsync(Bounded);

        // Assert
        clock.Stop();
        Assert.Equal([stuckAccount, healthy], due.Order());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the run took {clock.Elapsed}");
        Assert.Equal(["still arrives"], (await StoredAsync(healthy)).Select(m => m.Subject));
        Assert.Null((await AccountAsync(healthy)).LastError);
        Assert.True(stuck.Accepted > 0, "the stuck server was never asked");
        var error = (await AccountAsync(stuckAccount)).LastError;
        Assert.NotNull(error);
        Assert.Contains("did not finish within 6 seconds", error, StringComparison.Ordinal);
    }

    /// <summary>A TCP listener on 127.0.0.1 that accepts every connection and then sends nothing, or a greeting one byte a second.</summary>
    private sealed class StuckServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly List<TcpClient> _clients = [];
        private int _accepted;

        public StuckServer(bool trickle)
        {
            _listener.Start();
            _ = AcceptAsync(trickle);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public int Accepted => Volatile.Read(ref _accepted);

        private async Task AcceptAsync(bool trickle)
        {
            try
            {
                while (true)
                {
                    var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    Interlocked.Increment(ref _accepted);
                    lock (_clients)
                    {
                        _clients.Add(client);
                    }

                    if (trickle)
                    {
                        _ = TrickleAsync(client.GetStream());
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // stopped
            }
        }

        private async Task TrickleAsync(NetworkStream stream)
        {
            try
            {
                // A greeting that starts well and never ends: each byte resets a timeout per read.
                await stream.WriteAsync("* OK "u8.ToArray(), _stop.Token);
                while (true)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), _stop.Token);
                    await stream.WriteAsync("a"u8.ToArray(), _stop.Token);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
            {
                // the client went away, or the test ended
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            lock (_clients)
            {
                _clients.ForEach(c => c.Dispose());
            }

            _stop.Dispose();
        }
    }
}
