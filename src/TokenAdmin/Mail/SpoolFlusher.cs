namespace TokenAdmin.Mail;

/// <summary>
/// Runs the spool's blocking flushes (<c>fsync</c>) on a few dedicated threads, never on the thread pool.
/// </summary>
/// <remarks>
/// Note: a flush blocks its thread for as long as the disk takes. On the thread pool (2 threads on 2 cores until it
/// grows) a few flushes at once left no thread for the HTTP client's continuations or an in-process server, so a fetch
/// waited behind its own flushes. These threads only wait on the disk; the pool stays free. Several threads keep
/// several flushes in flight, which the file system commits together. The queue is process-wide (all spools share the
/// same disk) and its threads are background threads that sleep while it is empty.
/// </remarks>
internal static class SpoolFlusher
{
    public const int Threads = 4;

    private static readonly Queue<(Action Work, TaskCompletionSource Done)> Pending = new();
    private static readonly object Gate = Start();

    /// <summary>Queues <paramref name="work"/>; the task completes (on the thread pool, not on a flush thread) when it has run.</summary>
    public static Task Run(Action work)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (Gate)
        {
            Pending.Enqueue((work, done));
            Monitor.Pulse(Gate);
        }

        return done.Task;
    }

    private static object Start()
    {
        var gate = new object();
        for (var i = 0; i < Threads; i++)
        {
            new Thread(() => Work(gate)) { IsBackground = true, Name = "Mail spool flush" }.Start();
        }

        return gate;
    }

    /// <remarks>
    /// Note: a plain monitor, not a BlockingCollection: its semaphore spins before it sleeps, and four idle flush
    /// threads spinning after every message took the CPU the downloads needed (seen in a CPU profile of the Graph fetch).
    /// </remarks>
    private static void Work(object gate)
    {
        while (true)
        {
            (Action Work, TaskCompletionSource Done) next;
            lock (gate)
            {
                while (Pending.Count == 0)
                {
                    Monitor.Wait(gate);
                }

                next = Pending.Dequeue();
            }

            try
            {
                next.Work();
                next.Done.SetResult();
            }
            catch (Exception ex)
            {
                next.Done.SetException(ex);
            }
        }
    }
}
