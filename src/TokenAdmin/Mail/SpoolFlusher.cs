using System.Collections.Concurrent;

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

    private static readonly BlockingCollection<(Action Work, TaskCompletionSource Done)> Queue = Start();

    /// <summary>Queues <paramref name="work"/>; the task completes (on the thread pool, not on a flush thread) when it has run.</summary>
    public static Task Run(Action work)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Queue.Add((work, done));
        return done.Task;
    }

    private static BlockingCollection<(Action, TaskCompletionSource)> Start()
    {
        var queue = new BlockingCollection<(Action, TaskCompletionSource)>(new ConcurrentQueue<(Action, TaskCompletionSource)>());
        for (var i = 0; i < Threads; i++)
        {
            new Thread(() => Work(queue)) { IsBackground = true, Name = "Mail spool flush" }.Start();
        }

        return queue;
    }

    private static void Work(BlockingCollection<(Action Work, TaskCompletionSource Done)> queue)
    {
        foreach (var (work, done) in queue.GetConsumingEnumerable())
        {
            try
            {
                work();
                done.SetResult();
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        }
    }
}
