using System;
using LossDsl.Generators.Model;

namespace LossDsl.Generators.Emit;

/// <summary>C# text of the pointwise ops on scalars, shared by the emitters that print scalar code (CPU tails and epilogues, ILGPU kernels).</summary>
internal static class ScalarSyntax
{
    /// <summary>
    /// The expression of a pointwise node, or null for leaves (inputs, stencils, shape values), which each emitter names itself.
    /// </summary>
    /// <param name="n">The node.</param>
    /// <param name="arg">The text of an argument node.</param>
    /// <param name="t">The scalar type: <c>float</c> or <c>double</c> (decides the literal suffix).</param>
    /// <param name="math">The class with Abs, Exp, Log, Sqrt, Pow, Min, Max for <paramref name="t"/>.</param>
    /// <param name="stable">The class with the stable functions (Sigmoid, Softplus, BceWithLogits, …) for <paramref name="t"/>.</param>
    public static string? Pointwise(Node n, Func<int, string> arg, string t, string math, string stable)
    {
        string A(int i) => arg(n.Args[i]);
        string C(double v) => t == "float" ? CodeWriter.Num(v) + "f" : CodeWriter.Num(v);
        return n.Op switch
        {
            Op.Neg => $"-{A(0)}",
            Op.Add => $"{A(0)} + {A(1)}",
            Op.Sub => $"{A(0)} - {A(1)}",
            Op.Mul => $"{A(0)} * {A(1)}",
            Op.Div => $"{A(0)} / {A(1)}",
            Op.Square => $"{A(0)} * {A(0)}",
            Op.Abs => $"{math}.Abs({A(0)})",
            Op.Exp => $"{math}.Exp({A(0)})",
            Op.Log => $"{math}.Log({A(0)})",
            Op.Sqrt => $"{math}.Sqrt({A(0)})",
            Op.Pow => $"{math}.Pow({A(0)}, {C(n.Value)})",
            Op.Min => $"{math}.Min({A(0)}, {A(1)})",
            Op.Max => $"{math}.Max({A(0)}, {A(1)})",
            Op.Sigmoid => $"{stable}.Sigmoid({A(0)})",
            Op.LogSigmoid => $"{stable}.LogSigmoid({A(0)})",
            Op.Softplus => $"{stable}.Softplus({A(0)})",
            Op.Sign => $"{stable}.Sign({A(0)})",
            Op.Step => $"{stable}.Step({A(0)}, {A(1)})",
            Op.InRange => $"{stable}.InRange({A(0)}, {C(n.Value)}, {C(n.Value2)})",
            Op.Clamp => $"{stable}.Clamp({A(0)}, {C(n.Value)}, {C(n.Value2)})",
            Op.BceWithLogits => $"{stable}.BceWithLogits({A(0)}, {A(1)})",
            _ => null,
        };
    }
}
