using Microsoft.CodeAnalysis;

namespace LossDsl.Generators.Diagnostics;

/// <summary>Every diagnostic the generator reports. Ids are never reused.</summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "LossDsl";
    private const string HelpBase = "https://github.com/lossdsl/lossdsl/blob/main/generators/LossDsl.Generators/Diagnostics/DIAGNOSTICS.md#";

    public static readonly DiagnosticDescriptor NotPartial = Make(
        "LD0001", "Loss class must be partial",
        "The loss class '{0}' must be declared 'partial' so the generator can add its Compute methods; add the 'partial' modifier");

    public static readonly DiagnosticDescriptor NotStatic = Make(
        "LD0002", "Loss class must be static",
        "The loss class '{0}' must be declared 'static' (a loss holds no state); add the 'static' modifier");

    public static readonly DiagnosticDescriptor NoTerms = Make(
        "LD0003", "Loss has no terms",
        "The loss class '{0}' declares no terms; add a static method marked [Term] returning Plane, or a built-in term attribute such as [WeightedBce]");

    public static readonly DiagnosticDescriptor UnsupportedStatement = Make(
        "LD0004", "Unsupported statement in a loss declaration",
        "'{0}' is not supported in a loss declaration; use only 'var' locals initialised with DSL expressions and a final 'return'");

    public static readonly DiagnosticDescriptor UnsupportedExpression = Make(
        "LD0005", "Unsupported expression in a loss declaration",
        "'{0}' is not supported in a loss declaration: {1}");

    public static readonly DiagnosticDescriptor NotInlinable = Make(
        "LD0006", "Call cannot be inlined",
        "The call to '{0}' cannot be used in a loss: only LossDsl.Dsl functions, LossDsl.Prelude functions and static methods with a source body can be inlined");

    public static readonly DiagnosticDescriptor RankMismatch = Make(
        "LD0007", "Rank mismatch",
        "{0}");

    public static readonly DiagnosticDescriptor BadKernel = Make(
        "LD0008", "Stencil window must be a positive odd size",
        "The window of '{0}' is {1}; use a positive odd size up to 4095 (the window is centred on the pixel, padding k/2)");

    public static readonly DiagnosticDescriptor NonConstantKernel = Make(
        "LD0009", "Stencil window must be a constant",
        "The window of '{0}' must be a compile-time constant (a literal, a const field or an attribute argument)");

    public static readonly DiagnosticDescriptor NoDifferentiableInput = Make(
        "LD0010", "Term has no differentiable input",
        "The term '{0}' does not depend on any Logits input, so it contributes no gradient; take a Logits parameter and use it, or remove [Term]");

    public static readonly DiagnosticDescriptor ConflictingInputRoles = Make(
        "LD0011", "Input declared with different roles",
        "The input '{0}' is a {1} in '{2}' but a {3} in an earlier term; use one role per input name");

    public static readonly DiagnosticDescriptor Recursion = Make(
        "LD0012", "Recursive helper",
        "'{0}' calls itself (directly or through other helpers); loss helpers are inlined and cannot recurse");

    public static readonly DiagnosticDescriptor BadTermSignature = Make(
        "LD0013", "Invalid term signature",
        "The term '{0}' {1}");

    public static readonly DiagnosticDescriptor DifferentiableStencil = Make(
        "LD0014", "Stencil over a differentiable input",
        "'{0}' is applied to an expression that depends on a Logits input; stencils are supported over Target-only expressions (such as the boundary weight of a mask)");

    public static readonly DiagnosticDescriptor GenericLoss = Make(
        "LD0015", "Loss class cannot be generic",
        "The loss class '{0}' is generic or nested in a generic type; declare it as a non-generic class");

    public static readonly DiagnosticDescriptor BadAttributeArgument = Make(
        "LD0016", "Invalid attribute argument",
        "{0}");

    public static readonly DiagnosticDescriptor BackendUnavailable = Make(
        "LD0017", "Backend runtime not referenced",
        "The loss '{0}' asks for the {1} backend, but the project does not reference {2}; add the package reference or remove the backend",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor UnsafeRequired = Make(
        "LD0018", "Unsafe code must be allowed",
        "The generated CPU backend of '{0}' uses pointers; set <AllowUnsafeBlocks>true</AllowUnsafeBlocks> in the project file");

    public static readonly DiagnosticDescriptor ReservedInputName = Make(
        "LD0019", "Reserved input name",
        "The input name '{0}' is used by the generated API ({1}); rename the parameter");

    public static readonly DiagnosticDescriptor IlgpuTooManyParameters = Make(
        "LD0020", "Too many ILGPU kernel parameters",
        "The ILGPU backend of '{0}' needs {1} kernel parameters; ILGPU accepts at most {2} — reduce the number of inputs or turn the ILGPU backend off",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor ReservedMemberName = Make(
        "LD0021", "Name clashes with the generated code",
        "The loss class '{0}' {1}");

    public static readonly DiagnosticDescriptor TooComplex = Make(
        "LD0022", "Loss declaration too complex",
        "The loss '{0}' cannot be compiled: {1}; flatten the declaration (fewer nested calls, fewer levels of helpers)");

    public static readonly DiagnosticDescriptor TermOutsideLoss = Make(
        "LD0023", "[Term] outside a loss class",
        "'{0}' is marked [Term] but {1}; a term is a static method declared directly in a [Loss] class, so this one is never part of a loss");

    public static readonly DiagnosticDescriptor FileLocalLoss = Make(
        "LD0024", "Loss class cannot be file-local",
        "The loss class '{0}' is file-local (or nested in a 'file' type); the generator adds parts in other files, which C# forbids for a file-local type; remove the 'file' modifier");

    private static DiagnosticDescriptor Make(string id, string title, string message, DiagnosticSeverity severity = DiagnosticSeverity.Error) =>
        new(id, title, message, Category, severity, isEnabledByDefault: true, helpLinkUri: HelpBase + id.ToLowerInvariant());
}
