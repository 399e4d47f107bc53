using System;
using System.Collections.Generic;

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

    /// <summary>
    /// The members the generated parts add to the loss class, by backend (the Reference file is always emitted). The
    /// parser reports a user member of one of these names (LD0021); the emitters print them.
    /// </summary>
    public static IEnumerable<(string Name, string Backend)> GeneratedMembers(bool cpu, bool torchSharp, bool ilgpu)
    {
        yield return ("Reference", "Reference");
        if (cpu)
        {
            yield return ("Cpu", "CPU");
        }

        if (torchSharp)
        {
            foreach (var name in new[] { "Compute", "TorchOps", "Module", "TorchCall", "TorchFunction" })
            {
                yield return (name, "TorchSharp");
            }
        }

        if (ilgpu)
        {
            yield return ("Ilgpu", "ILGPU");
        }
    }
}
