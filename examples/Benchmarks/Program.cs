using System;
using System.Linq;
using BenchmarkDotNet.Running;

namespace LossDsl.Benchmarks;

public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Contains(PeakMemory.Flag))
        {
            return PeakMemory.RunChild(args);
        }

        if (args.Contains(QuickMode.TimeFlag))
        {
            return QuickMode.TimeChild(args);
        }

        if (args.Contains(TorchOverhead.Flag))
        {
            return TorchOverhead.Run();
        }

        if (args.Contains(StencilBench.Flag))
        {
            return StencilBench.Run();
        }

        if (args.Contains(MultiClassBench.Flag))
        {
            return MultiClassBench.Run();
        }

        if (args.Contains("--quick"))
        {
            return QuickMode.Run(args);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
