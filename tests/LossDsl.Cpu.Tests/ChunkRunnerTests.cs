using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LossDsl.Cpu;
using Xunit;

namespace LossDsl.Cpu.Tests;

public class ChunkRunnerTests
{
    [Fact]
    public void RunsEveryChunkExactlyOnceAcrossRepeatedCalls()
    {
        var runner = new ChunkRunner();
        for (int call = 0; call < 200; call++)
        {
            int count = 1 + (call % 37);
            var hits = new int[count];
            runner.Run(count, i => Interlocked.Increment(ref hits[i]));
            Assert.All(hits, h => Assert.Equal(1, h));
        }
    }

    [Fact]
    public void PropagatesTheFirstExceptionAndStaysUsable()
    {
        var runner = new ChunkRunner();
        var ex = Assert.Throws<InvalidOperationException>(() => runner.Run(64, i =>
        {
            if (i == 5)
            {
                throw new InvalidOperationException("chunk 5");
            }
        }));
        Assert.Equal("chunk 5", ex.Message);
        int n = 0;
        runner.Run(10, _ => Interlocked.Increment(ref n));
        Assert.Equal(10, n);
    }

    [Fact]
    public void CompletesWhenCalledFromManyPoolThreadsAtOnce()
    {
        // Every caller takes part in its own work, so a saturated pool cannot block it.
        var sums = new long[32];
        Parallel.For(0, sums.Length, k =>
        {
            var runner = new ChunkRunner();
            long s = 0;
            runner.Run(100, i => Interlocked.Add(ref s, i));
            sums[k] = s;
        });
        Assert.All(sums, s => Assert.Equal(Enumerable.Range(0, 100).Sum(), s));
    }
}
