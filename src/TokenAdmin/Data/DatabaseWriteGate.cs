namespace TokenAdmin.Data;

/// <summary>
/// Lets one of this process's hot writes (token leases and token saves) at a time reach SQLite, in arrival order.
/// SQLite has one writer at a time anyway; without the gate, 32 concurrent refreshes collide on its write lock and each
/// loser sleeps in SQLite's busy handler (1, 2, 5, 10 ms ...) although the lock is free again in a fraction of a
/// millisecond. Writes from other processes (the console verbs) still meet the busy timeout. Reads never wait here.
/// </summary>
public sealed class DatabaseWriteGate : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Waits for the gate; dispose the result to let the next writer in.</summary>
    public async ValueTask<Passage> EnterAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Passage(_gate);
    }

    public void Dispose() => _gate.Dispose();

    public readonly struct Passage(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate?.Release();
    }
}
