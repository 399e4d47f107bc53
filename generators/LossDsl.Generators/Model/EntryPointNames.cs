using System;

namespace LossDsl.Generators.Model;

/// <summary>
/// The names the generated entry points derive from a declared input — a naming rule of the model, shared by the parser
/// (which rejects inputs whose names would clash with them) and the emitters (which print them).
/// </summary>
internal static class EntryPointNames
{
    /// <summary>The name of the gradient parameter of a <c>Logits</c> input (<c>pred</c> → <c>predGrad</c>).</summary>
    public static string Grad(string input) => input + "Grad";

    /// <summary>The name of the deep-supervision list parameter of an input (<c>pred</c> → <c>preds</c>, <c>logits</c> → <c>logitsList</c>).</summary>
    public static string List(string input) => input.EndsWith("s", StringComparison.Ordinal) ? input + "List" : input + "s";
}
