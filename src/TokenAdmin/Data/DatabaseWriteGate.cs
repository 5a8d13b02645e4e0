namespace TokenAdmin.Data;

/// <summary>
/// Lets one of this process's hot writes (token leases and token saves) at a time reach SQLite, in arrival order.
/// SQLite has one writer at a time anyway; without the gate, 32 concurrent refreshes collide on its write lock and each
/// loser sleeps in SQLite's busy handler (1, 2, 5, 10 ms ...) although the lock is free again in a fraction of a
/// millisecond. Writes from other processes (the console verbs) still meet the busy timeout. Reads never wait here.
/// On PostgreSQL the gate is open: rows are locked one by one, so writers to different rows never wait for each other,
/// and writers to the same row (a lease) wait on the row lock in the database, across nodes.
/// </summary>
public sealed class DatabaseWriteGate : IDisposable
{
    private readonly SemaphoreSlim? _gate;

    public DatabaseWriteGate()
        : this(serialize: true)
    {
    }

    /// <param name="serialize">False for an engine with row locks: every writer passes at once.</param>
    public DatabaseWriteGate(bool serialize)
    {
        _gate = serialize ? new SemaphoreSlim(1, 1) : null;
    }

    /// <summary>Waits for the gate; dispose the result to let the next writer in.</summary>
    public async ValueTask<Passage> EnterAsync(CancellationToken cancellationToken)
    {
        if (_gate is null)
        {
            return default;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Passage(_gate);
    }

    public void Dispose() => _gate?.Dispose();

    public readonly struct Passage(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate?.Release();
    }
}
