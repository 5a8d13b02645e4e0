using Microsoft.Extensions.Hosting;

namespace TokenAdmin.TestIdentityProvider.Internal;

/// <summary>
/// Keeps the in-process host from hooking Ctrl+C / SIGTERM / process exit (the console lifetime would);
/// the owner stops it through <see cref="TestIdentityProviderServer.DisposeAsync"/>.
/// </summary>
internal sealed class NoopHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
