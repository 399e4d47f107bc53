using System;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace LossDsl.Cpu;

/// <summary>
/// Runs numbered chunks of work on the calling thread and up to <c>ProcessorCount − 1</c> thread-pool helpers, without
/// allocating per call (generated CPU kernels keep one runner per cached kernel). Chunks are claimed from a shared
/// counter; results that depend only on the chunk index are therefore independent of the thread count. The caller always
/// takes part, so a saturated thread pool slows a call down but never blocks it.
/// </summary>
/// <remarks>A runner serves one call at a time; it is not for concurrent use (generated kernels are per thread).</remarks>
public sealed class ChunkRunner : IThreadPoolWorkItem
{
    private const int Closed = int.MaxValue / 2;

    private Action<int>? _body;
    private int _count;
    private int _next = Closed;
    private int _completed;
    private ExceptionDispatchInfo? _error;

    /// <summary>Runs <paramref name="body"/> for every index in <c>[0, count)</c> and returns when all have finished.</summary>
    /// <param name="count">Number of chunks.</param>
    /// <param name="body">The work for one chunk; must be safe to run concurrently for different indices.</param>
    public void Run(int count, Action<int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (count <= 0)
        {
            return;
        }

        int helpers = Math.Min(Environment.ProcessorCount - 1, count - 1);
        if (helpers <= 0)
        {
            for (int i = 0; i < count; i++)
            {
                body(i);
            }

            return;
        }

        _error = null;
        _body = body;
        Volatile.Write(ref _completed, 0);
        Volatile.Write(ref _count, count);
        Interlocked.Exchange(ref _next, 0);
        for (int h = 0; h < helpers; h++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }

        Work();
        var spin = default(SpinWait);
        while (Volatile.Read(ref _completed) < count)
        {
            spin.SpinOnce();
        }

        Interlocked.Exchange(ref _next, Closed);
        _body = null;
        _error?.Throw();
    }

    /// <summary>Thread-pool entry: claims chunks until none are left (a late helper finds none and returns).</summary>
    void IThreadPoolWorkItem.Execute() => Work();

    private void Work()
    {
        while (true)
        {
            int i = Interlocked.Increment(ref _next) - 1;
            if (i >= Volatile.Read(ref _count))
            {
                return;
            }

            try
            {
                _body!(i);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);
            }
            finally
            {
                Interlocked.Increment(ref _completed);
            }
        }
    }
}
