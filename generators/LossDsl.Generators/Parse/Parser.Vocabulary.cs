using System.Globalization;
using LossDsl.Generators.Diagnostics;
using LossDsl.Generators.Model;
using Microsoft.CodeAnalysis.Operations;

namespace LossDsl.Generators.Parse;

internal sealed partial class Parser
{
    /// <summary>Maps a call to a <c>LossDsl.Dsl</c> function onto the IR.</summary>
    private int? Vocabulary(string name, int[] a, IInvocationOperation call)
    {
        var location = call.Syntax.GetLocation();

        // The op table names the DSL functions that map one-to-one onto a pointwise op without constant parameters.
        if (OpTable.FromDsl(name) is { Class: OpClass.Pointwise, Parameters: 0 } row && a.Length == row.Arity)
        {
            return row.Arity switch
            {
                1 => _g.Unary(row.Op, a[0]),
                2 => CheckedBinary(row.Op, a[0], a[1], call.Syntax),
                _ => RanksFit(a[0], a[1], call.Syntax) && RanksFit(a[0], a[2], call.Syntax) && RanksFit(a[1], a[2], call.Syntax)
                    ? Constant(_g.Ternary(row.Op, a[0], a[1], a[2]), call.Syntax)
                    : null,
            };
        }

        switch (name)
        {
            case "Pow":
                if (!_g.IsConst(a[1], out double c))
                {
                    Report(DiagnosticDescriptors.UnsupportedExpression, location, Abbreviate(call.Syntax), "the exponent of Pow must be a compile-time constant");
                    return null;
                }

                return _g.Unary(Op.Pow, a[0], c);
            case "Clamp":
                if (!_g.IsConst(a[1], out double lo) || !_g.IsConst(a[2], out double hi))
                {
                    Report(DiagnosticDescriptors.UnsupportedExpression, location, Abbreviate(call.Syntax), "the bounds of Clamp must be compile-time constants");
                    return null;
                }

                if (lo > hi)
                {
                    Report(DiagnosticDescriptors.UnsupportedExpression, location, Abbreviate(call.Syntax), $"the lower bound {lo.ToString("R", CultureInfo.InvariantCulture)} exceeds the upper bound {hi.ToString("R", CultureInfo.InvariantCulture)}");
                    return null;
                }

                return _g.Unary(Op.Clamp, a[0], lo, hi);
            case "AvgPool": return Stencil(Op.AvgPool, name, a, call);
            case "MaxPool": return Stencil(Op.MaxPool, name, a, call);
            case "MinPool": return Stencil(Op.MinPool, name, a, call);
            case "Sum": return _g.Reduce(Op.Sum, a[0]);
            case "Mean": return _g.Binary(Op.Div, _g.Reduce(Op.Sum, a[0]), _g.Leaf(Op.PlaneSize));
            case "WeightedMean":
                return CheckedBinary(Op.Mul, a[1], a[0], call.Syntax) is int wx
                    ? _g.Binary(Op.Div, _g.Reduce(Op.Sum, wx), _g.Reduce(Op.Sum, a[1]))
                    : null;
            case "BatchMean": return _g.Binary(Op.Div, _g.Reduce(Op.BatchSum, a[0]), _g.Leaf(Op.BatchSize));
            case "BatchSum": return _g.Reduce(Op.BatchSum, a[0]);
            case "ClassSum": return ClassSum(a[0]);
            case "ClassMean": return _g.Binary(Op.Div, ClassSum(a[0]), ClassSize());
            case "ClassCount": return ClassSize();
            case "SumOverChannels": return _g.Reduce(Op.SumChannels, a[0]);
            case "MeanOverChannels": return _g.Binary(Op.Div, _g.Reduce(Op.SumChannels, a[0]), _g.Leaf(Op.ChannelCount));
            case "LogSumExp": return _g.Reduce(Op.LogSumExp, a[0]);
            case "LogSoftmax": return _g.Binary(Op.Sub, a[0], _g.Reduce(Op.LogSumExp, a[0]));
            case "Softmax": return _g.Unary(Op.Exp, _g.Binary(Op.Sub, a[0], _g.Reduce(Op.LogSumExp, a[0])));
            case "PixelCount": return _g.Leaf(Op.PlaneSize);
            case "BatchCount": return _g.Leaf(Op.BatchSize);
            default:
                Report(DiagnosticDescriptors.NotInlinable, location, "LossDsl.Dsl." + name);
                return null;
        }
    }

    /// <summary>Σ over the images and pixels of each channel (<c>x.sum(dim=(0, 2, 3))</c>): each plane's sum, summed over the images.</summary>
    private int ClassSum(int x) => _g.Reduce(Op.ImageSum, _g.Reduce(Op.Sum, x));

    /// <summary>N·H·W, the elements of one channel of the batch: NCHW / C.</summary>
    private int ClassSize() => _g.Binary(Op.Div, _g.Leaf(Op.BatchSize), _g.Leaf(Op.ChannelCount));

    /// <summary>The largest stencil window: beyond it the running sums and the padding arithmetic are not what the backends are tested for.</summary>
    internal const int MaxKernel = 4095;

    /// <summary>A valid window: a positive odd size up to <see cref="MaxKernel"/>.</summary>
    internal static bool IsKernel(double k) => k > 0 && k <= MaxKernel && k % 2 == 1;

    private int? Stencil(Op op, string name, int[] a, IInvocationOperation call)
    {
        if (!_g.IsConst(a[1], out double k))
        {
            Report(DiagnosticDescriptors.NonConstantKernel, call.Syntax.GetLocation(), name);
            return null;
        }

        if (!IsKernel(k))
        {
            Report(DiagnosticDescriptors.BadKernel, call.Syntax.GetLocation(), name, k.ToString(CultureInfo.InvariantCulture));
            return null;
        }

        if (!_g[a[0]].TargetOnly)
        {
            // Report it and go on with the operand standing in for the stencil (same rank, same inputs), so every stencil
            // of the term over a Logits expression is reported, not only the first; the spec is dropped all the same.
            Report(DiagnosticDescriptors.DifferentiableStencil, call.Syntax.GetLocation(), name);
            return a[0];
        }

        return _g.Stencil(op, a[0], (int)k);
    }
}
