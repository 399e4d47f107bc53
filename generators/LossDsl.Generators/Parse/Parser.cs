using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using LossDsl.Generators.Diagnostics;
using LossDsl.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace LossDsl.Generators.Parse;

/// <summary>
/// Reads a <c>[Loss]</c> class with the semantic model: resolves every call by symbol, inlines helpers and the prelude,
/// and builds the expression DAG. Produces a <see cref="LossSpec"/> (or none) and a list of diagnostics.
/// </summary>
internal sealed partial class Parser
{
    internal const string LossAttributeName = "LossDsl.LossAttribute";
    internal const string TermAttributeName = "LossDsl.TermAttribute";
    private const string Ns = "LossDsl";

    private readonly Compilation _compilation;
    private readonly CancellationToken _ct;
    private readonly List<DiagnosticInfo> _diagnostics = new();
    private readonly List<InputSpec> _inputs = new();
    private readonly DagBuilder _g = new();
    private readonly Dictionary<int, NodeName> _names = new();
    private readonly Dictionary<SyntaxTree, SemanticModel> _models = new();
    private readonly Stack<IMethodSymbol> _inlining = new();
    private readonly Stack<Location?> _callSites = new();
    private readonly Dictionary<string, int?> _inlined = new(StringComparer.Ordinal);
    private readonly AssemblyIdentity? _vocabulary;
    private Location? _typeLocation;
    private string _typeName = string.Empty;
    private int _depth;
    private int _work;
    private bool _tooComplex;
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<MetadataReference, Compilation> PreludeCache = new();
    private Compilation? _prelude;

    /// <summary>Names the emitted entry points use for their own parameters and locals.</summary>
    /// <summary>
    /// The parameter names of the public entry points besides the inputs. The emitters are hygienic otherwise: only the entry
    /// points' parameters carry the inputs' names, everything else uses the emitters' own names (or starts with <c>__</c>).
    /// </summary>
    private static readonly HashSet<string> ReservedNames = new(StringComparer.Ordinal)
    {
        "shape", "planeLosses", "planeSeeds", "lossOut",
    };

    /// <summary>How many helpers deep inlining may go (a helper calling a helper calling …).</summary>
    internal const int MaxInlineDepth = 32;

    /// <summary>
    /// How deep the expressions of one method body may nest (calls in calls; a chain of + - * / counts once). Checked on the
    /// syntax before the body is bound, so that neither Roslyn's binder nor this parser recurses beyond it.
    /// </summary>
    internal const int MaxExpressionDepth = 64;

    /// <summary>How deep the parser's walk may go in all, across inlined helpers.</summary>
    internal const int MaxEvalDepth = 200;

    /// <summary>How many expression nodes the parser reads in all, after inlining (each distinct helper call is read once).</summary>
    internal const int MaxWork = 200_000;

    private Parser(Compilation compilation, CancellationToken ct)
    {
        _compilation = compilation;
        _ct = ct;
        _vocabulary = VocabularyAssembly(compilation)?.Identity;
    }

    /// <summary>
    /// The assembly that defines the DSL: the referenced <c>LossDsl</c> runtime (or the compilation itself when it is that
    /// assembly). Vocabulary is recognised by this identity, never by name alone: a source class called <c>LossDsl.Dsl</c> in
    /// the user's project is a user class like any other.
    /// </summary>
    internal static IAssemblySymbol? VocabularyAssembly(Compilation compilation)
    {
        if (compilation.Assembly.Name == Ns)
        {
            return compilation.Assembly;
        }

        foreach (var a in compilation.SourceModule.ReferencedAssemblySymbols)
        {
            if (a.Identity.Name == Ns)
            {
                return a;
            }
        }

        return null;
    }

    /// <summary>
    /// LD0023 for a method marked [Term] that no loss reads: a local function, or a method of a class without [Loss] (a
    /// nested class of a loss included). Null for a term of a [Loss] class (the loss's own parse checks it) and for a
    /// source-defined attribute that only shares the name.
    /// </summary>
    internal static DiagnosticInfo? StrayTerm(ISymbol symbol, Compilation compilation)
    {
        if (symbol is not IMethodSymbol method)
        {
            return null;
        }

        var parser = new Parser(compilation, CancellationToken.None);
        if (!method.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == TermAttributeName && parser.IsVocabulary(a.AttributeClass)))
        {
            return null;
        }

        string? why = null;
        if (method.MethodKind == MethodKind.LocalFunction)
        {
            why = "is a local function";
        }
        else if (method.ContainingType is { } type && !type.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == LossAttributeName && parser.IsVocabulary(a.AttributeClass)))
        {
            why = type.ContainingType is { } outer && outer.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == LossAttributeName)
                ? $"its class '{type.Name}' is not a [Loss] class (it is nested in the loss '{outer.Name}'; declare the term there)"
                : $"its class '{type.Name}' is not a [Loss] class";
        }

        return why is null ? null : DiagnosticInfo.Create(DiagnosticDescriptors.TermOutsideLoss, method.Locations.FirstOrDefault(), method.Name, why);
    }

    /// <summary>True when <paramref name="symbol"/> is defined by the LossDsl runtime (see <see cref="VocabularyAssembly"/>).</summary>
    private bool IsVocabulary(ISymbol? symbol) =>
        symbol?.ContainingAssembly is { } a && _vocabulary is not null && a.Identity.Equals(_vocabulary)
        && (a.Name == _compilation.Assembly.Name || !SymbolEqualityComparer.Default.Equals(a, _compilation.Assembly));

    /// <summary>True when <paramref name="type"/> is the LossDsl type <c>LossDsl.{name}</c>.</summary>
    private bool IsDslType(ITypeSymbol? type, string name) =>
        type is INamedTypeSymbol { Arity: 0 } t && t.Name == name && t.ContainingNamespace?.ToDisplayString() == Ns && t.ContainingType is null && IsVocabulary(t);

    /// <summary>Parses one loss class.</summary>
    public static (LossSpec? Spec, ImmutableEquatableArray<DiagnosticInfo> Diagnostics) Parse(
        INamedTypeSymbol type, SemanticModel model, CancellationToken ct)
    {
        var parser = new Parser(model.Compilation, ct);
        parser._models[model.SyntaxTree] = model;
        LossSpec? spec;
        try
        {
            spec = parser.ParseType(type);
        }
        catch (InsufficientExecutionStackException)
        {
            // Roslyn's binder (or this parser) ran out of stack on a declaration nested beyond the budget: a diagnostic, not a crash.
            parser.Report(DiagnosticDescriptors.TooComplex, type.Locations.FirstOrDefault(), type.Name, "it is nested too deeply for the compiler to analyse");
            spec = null;
        }

        // Warnings (such as LD0017, a backend without its runtime) do not stop generation; errors do.
        bool failed = parser._diagnostics.Any(d => DiagnosticDescriptorsById.Get(d.Id).DefaultSeverity == DiagnosticSeverity.Error);
        return (failed ? null : spec, parser._diagnostics.ToEquatable());
    }

    private void Report(DiagnosticDescriptor d, Location? location, params string[] args)
    {
        // A helper inlined twice reports the same problem at the same place twice: keep one.
        var info = DiagnosticInfo.Create(d, InUserCode(location), args);
        if (!_diagnostics.Contains(info))
        {
            _diagnostics.Add(info);
        }
    }

    /// <summary>
    /// A location the user can act on: <paramref name="location"/> when it lies in the user's compilation, else (inside the
    /// generator's copy of the prelude) the innermost call site in the user's code that led there, else the loss class.
    /// </summary>
    private Location? InUserCode(Location? location)
    {
        if (IsUserLocation(location))
        {
            return location;
        }

        foreach (var site in _callSites)
        {
            if (IsUserLocation(site))
            {
                return site;
            }
        }

        return _typeLocation;
    }

    private bool IsUserLocation(Location? l) => l is { IsInSource: true, SourceTree: { } tree } && _compilation.ContainsSyntaxTree(tree);

    /// <summary>C# spelling of an identifier: a keyword gets the verbatim <c>@</c>.</summary>
    internal static string Identifier(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

    /// <summary>True when <paramref name="value"/> can be a constant of the generated code: finite and within float's range (the float backends compute in float).</summary>
    internal static bool IsFiniteFloat(double value) => !double.IsNaN(value) && !double.IsInfinity(value) && Math.Abs(value) <= float.MaxValue;

    /// <summary>Why <paramref name="value"/> cannot be a constant (see <see cref="IsFiniteFloat"/>).</summary>
    internal static string NotFiniteFloat(double value) =>
        double.IsNaN(value) ? "it is NaN"
        : double.IsInfinity(value) ? (value > 0 ? "it is +∞" : "it is -∞")
        : $"it is {value.ToString("R", CultureInfo.InvariantCulture)}, outside the range of float (±{float.MaxValue.ToString("R", CultureInfo.InvariantCulture)}) in which the generated code computes";

    private LossSpec? ParseType(INamedTypeSymbol type)
    {
        var typeLocation = type.Locations.FirstOrDefault();
        _typeLocation = typeLocation;
        _typeName = type.Name;
        var lossAttr = type.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == LossAttributeName && IsVocabulary(a.AttributeClass));
        if (lossAttr is null)
        {
            // A source-defined attribute that happens to be called LossDsl.LossAttribute: not ours.
            return null;
        }

        var decl = type.DeclaringSyntaxReferences.Select(r => r.GetSyntax(_ct)).OfType<TypeDeclarationSyntax>().ToList();
        if (!decl.Any(d => d.Modifiers.Any(SyntaxKind.PartialKeyword)))
        {
            Report(DiagnosticDescriptors.NotPartial, typeLocation, type.Name);
        }

        if (!type.IsStatic)
        {
            Report(DiagnosticDescriptors.NotStatic, typeLocation, type.Name);
        }

        if (IsFileLocal(type))
        {
            Report(DiagnosticDescriptors.FileLocalLoss, typeLocation, type.Name);
            return null;
        }

        var containing = new List<ContainingType>();
        for (var t = type.ContainingType; t is not null; t = t.ContainingType)
        {
            if (t.IsGenericType)
            {
                Report(DiagnosticDescriptors.GenericLoss, typeLocation, type.Name);
                return null;
            }

            bool partial = t.DeclaringSyntaxReferences.Select(r => r.GetSyntax(_ct)).OfType<TypeDeclarationSyntax>().Any(d => d.Modifiers.Any(SyntaxKind.PartialKeyword));
            if (!partial)
            {
                Report(DiagnosticDescriptors.NotPartial, t.Locations.FirstOrDefault(), t.Name);
            }

            string keyword = t.IsRecord ? (t.TypeKind == TypeKind.Struct ? "record struct" : "record") : t.TypeKind == TypeKind.Struct ? "struct" : t.TypeKind == TypeKind.Interface ? "interface" : "class";
            var modifiers = new List<string>();
            if (t.IsStatic)
            {
                modifiers.Add("static");
            }

            containing.Insert(0, new ContainingType(Identifier(t.Name), keyword, modifiers.ToEquatable()));
        }

        if (type.IsGenericType)
        {
            Report(DiagnosticDescriptors.GenericLoss, typeLocation, type.Name);
            return null;
        }

        var reduction = ReductionKind.Mean;
        int backends = 0;
        var lossWhere = lossAttr.ApplicationSyntaxReference?.GetSyntax(_ct).GetLocation() ?? typeLocation;
        foreach (var arg in lossAttr.NamedArguments)
        {
            if (arg.Key == "Reduction" && arg.Value.Value is int r)
            {
                if (r is < 0 or > 2)
                {
                    Report(DiagnosticDescriptors.BadAttributeArgument, lossWhere, $"Loss: Reduction = {r.ToString(CultureInfo.InvariantCulture)} is not a Reduction (Mean, Sum or None)");
                }

                reduction = (ReductionKind)r;
            }
            else if (arg.Key == "Backends" && arg.Value.Value is int b)
            {
                if ((b & ~7) != 0)
                {
                    Report(DiagnosticDescriptors.BadAttributeArgument, lossWhere, $"Loss: Backends = {b.ToString(CultureInfo.InvariantCulture)} has flags that are not Backends (Cpu, TorchSharp, Ilgpu, or Auto = 0)");
                }

                backends = b;
            }
        }

        var terms = new List<TermSpec>();
        bool attributeForm = ParseAttributeTerms(type, terms);
        foreach (var method in type.GetMembers().OfType<IMethodSymbol>().OrderBy(m => m.Locations.FirstOrDefault()?.SourceSpan.Start ?? 0))
        {
            _ct.ThrowIfCancellationRequested();
            var termAttr = method.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == "LossDsl.TermAttribute" && IsVocabulary(a.AttributeClass));
            if (termAttr is not null)
            {
                ParseTerm(method, termAttr, terms);
            }
        }

        if (terms.Count == 0 && _diagnostics.Count == 0)
        {
            Report(DiagnosticDescriptors.NoTerms, typeLocation, type.Name);
        }

        if (_compilation.Options is CSharpCompilationOptions { AllowUnsafe: false })
        {
            Report(DiagnosticDescriptors.UnsafeRequired, typeLocation, type.Name);
        }

        var resolved = ResolveBackends(type, backends, typeLocation);
        CheckGeneratedNames(type, resolved);
        CheckRuntimeNames(type);
        if (_diagnostics.Any(d => DiagnosticDescriptorsById.Get(d.Id).DefaultSeverity == DiagnosticSeverity.Error))
        {
            return null;
        }

        var target = new TypeTarget(
            type.ContainingNamespace is { IsGlobalNamespace: false } ns ? NamespaceName(ns) : null,
            Identifier(type.Name),
            SyntaxFacts.GetText(type.DeclaredAccessibility) is { Length: > 0 } acc ? acc : "internal",
            containing.ToEquatable());
        return new LossSpec(target, _inputs.ToEquatable(), _g.ToGraph(), UniqueNames(terms).ToEquatable(), reduction, resolved, attributeForm)
        {
            Names = _names.Values.OrderBy(n => n.Node).ToEquatable(),
        };
    }

    /// <summary>The namespace as C# spells it: each part with <c>@</c> where it is a keyword (<c>@if.@event</c>).</summary>
    private static string NamespaceName(INamespaceSymbol ns)
    {
        var parts = new List<string>();
        for (var n = ns; n is { IsGlobalNamespace: false }; n = n.ContainingNamespace)
        {
            parts.Insert(0, Identifier(n.Name));
        }

        return string.Join(".", parts);
    }

    /// <summary>A <c>file</c> type (or one nested in a <c>file</c> type): its parts must all live in one file, so the generator cannot add one.</summary>
    private bool IsFileLocal(INamedTypeSymbol type)
    {
        for (var t = type; t is not null; t = t.ContainingType)
        {
            if (t.DeclaringSyntaxReferences.Select(r => r.GetSyntax(_ct)).OfType<TypeDeclarationSyntax>().Any(d => d.Modifiers.Any(m => m.Text == "file")))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Terms get names unique within the loss (an overload, or a method named like a built-in term attribute, gets a
    /// suffix): the generated code names a local after each term.
    /// </summary>
    private static List<TermSpec> UniqueNames(List<TermSpec> terms)
    {
        // The reference interpreter names its own locals __shape, __loss, __total, __v and __p beside __{term}.
        var used = new HashSet<string>(StringComparer.Ordinal) { "shape", "loss", "total", "v", "p" };
        var result = new List<TermSpec>();
        foreach (var t in terms)
        {
            string name = t.Name;
            for (int i = 2; !used.Add(name); i++)
            {
                name = t.Name + "_" + i.ToString(CultureInfo.InvariantCulture);
            }

            result.Add(name == t.Name ? t : t with { Name = name });
        }

        return result;
    }

    /// <summary>The names the generated code refers to as <c>global::LossDsl.{name}</c>.</summary>
    private static readonly string[] RuntimeNames = { "Logits", "Target", "Field", "Plane", "Batch", "LossShape", "Scalar", "Prelude", "Cpu", "TorchSharp", "Ilgpu" };

    /// <summary>
    /// LD0021: a type or namespace of the user's project inside namespace <c>LossDsl</c> that takes a name the generated code
    /// refers to (<c>namespace LossDsl.Logits</c>): <c>global::LossDsl.Logits</c> would no longer mean the runtime's type.
    /// </summary>
    private void CheckRuntimeNames(INamedTypeSymbol type)
    {
        var ns = _compilation.GlobalNamespace.GetNamespaceMembers().FirstOrDefault(n => n.Name == Ns);
        if (ns is null)
        {
            return;
        }

        foreach (var name in RuntimeNames)
        {
            foreach (var member in ns.GetMembers(name))
            {
                if (member is INamespaceSymbol && !ns.GetTypeMembers(name).Any(t => !t.Locations.Any(IsUserLocation)))
                {
                    continue; // namespaces merge: LossDsl.Cpu in the project and in the runtime are one namespace
                }

                if (member.Locations.FirstOrDefault(l => IsUserLocation(l)) is { } where)
                {
                    Report(DiagnosticDescriptors.ReservedMemberName, type.Locations.FirstOrDefault(), type.Name, $"cannot be generated: the project declares '{Ns}.{name}' ({(member is INamespaceSymbol ? "a namespace" : "a type")} at {where.GetLineSpan().Path}:{(where.GetLineSpan().StartLinePosition.Line + 1).ToString(CultureInfo.InvariantCulture)}), which hides the LossDsl runtime's '{Ns}.{name}' that the generated code uses; rename it");
                    return;
                }
            }
        }
    }

    /// <summary>
    /// LD0021: the generated parts add nested types and methods to the loss class (<c>Reference</c>, <c>Cpu</c>, the
    /// TorchSharp <c>Compute</c>, <c>TorchOps</c>, <c>Module</c>, <c>Ilgpu</c>, …). They are the public API, so a user member of
    /// the same name — or a loss class of that name, whose members C# forbids to share it — is reported rather than renamed.
    /// </summary>
    private void CheckGeneratedNames(INamedTypeSymbol type, BackendSet backends)
    {
        foreach (var (name, backend) in EntryPointNames.GeneratedMembers(backends.HasFlag(BackendSet.Cpu), backends.HasFlag(BackendSet.TorchSharp), backends.HasFlag(BackendSet.Ilgpu)))
        {
            if (type.Name == name)
            {
                Report(DiagnosticDescriptors.ReservedMemberName, type.Locations.FirstOrDefault(), type.Name, $"is itself named '{name}', the name of a member the generated {backend} backend adds (C# forbids a member named like its class); rename the class");
                continue;
            }

            foreach (var member in type.GetMembers(name))
            {
                if (member.IsImplicitlyDeclared || (name == "Compute" && member is IMethodSymbol))
                {
                    // The TorchSharp Compute methods are overloads over tensors; a user method named Compute is an overload beside them.
                    continue;
                }

                Report(DiagnosticDescriptors.ReservedMemberName, member.Locations.FirstOrDefault(), type.Name, $"declares a member '{name}', the name of a member the generated {backend} backend adds; rename the member");
            }
        }
    }

    private BackendSet ResolveBackends(INamedTypeSymbol type, int requested, Location? location)
    {
        bool hasTorch = _compilation.GetTypeByMetadataName("LossDsl.TorchSharp.TensorBridge") is not null;
        bool hasIlgpu = _compilation.GetTypeByMetadataName("LossDsl.Ilgpu.IlgpuBridge") is not null;
        if (requested == 0)
        {
            return BackendSet.Cpu | (hasTorch ? BackendSet.TorchSharp : 0) | (hasIlgpu ? BackendSet.Ilgpu : 0);
        }

        var set = (BackendSet)requested & (BackendSet.Cpu | BackendSet.TorchSharp | BackendSet.Ilgpu);
        // A backend whose runtime is missing is reported (a warning) and left out: its file would not compile.
        if (set.HasFlag(BackendSet.TorchSharp) && !hasTorch)
        {
            Report(DiagnosticDescriptors.BackendUnavailable, location, type.Name, "TorchSharp", "LossDsl.TorchSharp");
            set &= ~BackendSet.TorchSharp;
        }

        if (set.HasFlag(BackendSet.Ilgpu) && !hasIlgpu)
        {
            Report(DiagnosticDescriptors.BackendUnavailable, location, type.Name, "ILGPU", "LossDsl.Ilgpu");
            set &= ~BackendSet.Ilgpu;
        }

        // The CPU backend is always emitted: the TorchSharp backend runs it on CPU tensors.
        return set | BackendSet.Cpu;
    }

    // ---------------------------------------------------------------- terms

    private int? InputFor(string name, InputRole role, Location? location, string where)
    {
        for (int i = 0; i < _inputs.Count; i++)
        {
            if (_inputs[i].Name == name)
            {
                if (_inputs[i].Role != role)
                {
                    Report(DiagnosticDescriptors.ConflictingInputRoles, location, name, role.ToString(), where, _inputs[i].Role.ToString());
                    return null;
                }

                return _g.Input(i);
            }
        }

        if (ReservedNames.Contains(name) || name.StartsWith("__", StringComparison.Ordinal)
            || _inputs.Any(i => EntryPointNames.Grad(i.Name) == name || EntryPointNames.Grad(name) == i.Name
                || EntryPointNames.List(i.Name) == name || EntryPointNames.List(name) == i.Name))
        {
            Report(DiagnosticDescriptors.ReservedInputName, location, name, "parameters shape, planeLosses, planeSeeds, lossOut, <input>Grad and <input>s (<input>List after a final s), and names starting with __");
            return null;
        }

        _inputs.Add(new InputSpec(name, role));
        _g.DeclareInput(role);
        return _g.Input(_inputs.Count - 1);
    }

    private void ParseTerm(IMethodSymbol method, AttributeData attr, List<TermSpec> terms)
    {
        var location = method.Locations.FirstOrDefault();
        double weight = 1;
        bool includeBackground = true;
        foreach (var arg in attr.NamedArguments)
        {
            if (arg.Key == "Weight" && arg.Value.Value is double w)
            {
                weight = w;
            }
            else if (arg.Key == "IncludeBackground" && arg.Value.Value is bool b)
            {
                includeBackground = b;
            }
        }

        if (!method.IsStatic)
        {
            Report(DiagnosticDescriptors.BadTermSignature, location, method.Name, "must be static");
            return;
        }

        if (method.IsGenericMethod)
        {
            Report(DiagnosticDescriptors.BadTermSignature, location, method.Name, "cannot be generic");
            return;
        }

        string ret = method.ReturnType.ToDisplayString();
        bool isPlane = IsDslType(method.ReturnType, "Plane"), isBatch = IsDslType(method.ReturnType, "Batch");
        if (IsDslType(method.ReturnType, "Field"))
        {
            Report(DiagnosticDescriptors.RankMismatch, location, $"The term '{method.Name}' returns a per-pixel Field; a term must return a Plane (reduce it with Sum, Mean or WeightedMean) or a Batch value");
            return;
        }

        if (!isPlane && !isBatch)
        {
            Report(DiagnosticDescriptors.BadTermSignature, location, method.Name, $"must return LossDsl.Plane or LossDsl.Batch, not '{ret}'");
            return;
        }

        if (!IsFiniteFloat(weight))
        {
            Report(DiagnosticDescriptors.BadAttributeArgument, location, $"The Weight of term '{method.Name}' must be a finite number within float's range: {NotFiniteFloat(weight)}");
            return;
        }

        var env = new Dictionary<ISymbol, int>(SymbolEqualityComparer.Default);
        foreach (var p in method.Parameters)
        {
            string pt = p.Type.ToDisplayString();
            InputRole role;
            if (p.RefKind != RefKind.None)
            {
                string kind = p.RefKind switch { RefKind.Ref => "ref", RefKind.Out => "out", RefKind.In => "in", _ => "ref readonly" };
                Report(DiagnosticDescriptors.BadTermSignature, p.Locations.FirstOrDefault(), method.Name, $"has the '{kind}' parameter '{p.Name}'; term parameters are passed by value");
                return;
            }

            if (IsDslType(p.Type, "Logits"))
            {
                role = InputRole.Logits;
            }
            else if (IsDslType(p.Type, "Target"))
            {
                role = InputRole.Target;
            }
            else
            {
                Report(DiagnosticDescriptors.BadTermSignature, p.Locations.FirstOrDefault(), method.Name, $"has parameter '{p.Name}' of type '{pt}'; term parameters must be Logits or Target");
                return;
            }

            if (InputFor(p.Name, role, p.Locations.FirstOrDefault(), method.Name) is not int node)
            {
                return;
            }

            env[p] = node;
        }

        if (InlineMethod(method, env, location) is not int root)
        {
            return;
        }

        if (_g[root].TargetOnly)
        {
            Report(DiagnosticDescriptors.NoDifferentiableInput, location, method.Name);
            return;
        }

        terms.Add(new TermSpec(method.Name, root, weight, isBatch, new ReferenceCall(CallOwner.LossClass, Identifier(method.Name), method.Parameters.Select(p => (ReferenceArg)new ReferenceArg.Input(p.Name)).ToEquatable())) { IncludeBackground = includeBackground });
    }

    // ---------------------------------------------------------------- method bodies

    private SemanticModel ModelFor(SyntaxTree tree)
    {
        if (!_models.TryGetValue(tree, out var model))
        {
            var compilation = _compilation.ContainsSyntaxTree(tree) ? _compilation : _prelude!;
            model = compilation.GetSemanticModel(tree);
            _models[tree] = model;
        }

        return model;
    }

    /// <summary>
    /// Inlines a method whose body is available as source, with its parameters bound to nodes. A helper is a pure function
    /// of its arguments, so a call with the same arguments as an earlier one reuses its result: a helper called twice in
    /// each of many levels is read once per level, not exponentially often.
    /// </summary>
    private int? InlineMethod(IMethodSymbol method, Dictionary<ISymbol, int> env, Location? callSite)
    {
        method = method.PartialImplementationPart ?? method;
        if (_inlining.Contains(method, SymbolEqualityComparer.Default))
        {
            Report(DiagnosticDescriptors.Recursion, callSite, method.Name);
            return null;
        }

        if (_inlining.Count >= MaxInlineDepth)
        {
            TooComplex(callSite, $"its helpers call each other more than {MaxInlineDepth.ToString(CultureInfo.InvariantCulture)} helpers deep (at '{method.Name}')");
            return null;
        }

        // Local functions may read their enclosing body's locals, so their results are not reused.
        string? key = method.MethodKind == MethodKind.LocalFunction
            ? null
            : method.ContainingAssembly?.Name + "|" + method.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) + "(" + string.Join(",", method.Parameters.Select(p => env.TryGetValue(p, out int v) ? v.ToString(CultureInfo.InvariantCulture) : "?")) + ")";
        if (key is not null && _inlined.TryGetValue(key, out int? known))
        {
            return known;
        }

        var syntax = method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(_ct);
        IBlockOperation? body = null;
        if (syntax is not null && ExpressionDepth(syntax) is var depth && depth > MaxExpressionDepth)
        {
            TooComplex(IsUserLocation(syntax.GetLocation()) ? syntax.GetLocation() : callSite, $"the expressions of '{method.Name}' are nested {depth.ToString(CultureInfo.InvariantCulture)} deep, more than {MaxExpressionDepth.ToString(CultureInfo.InvariantCulture)}");
            return null;
        }

        if (syntax is not null)
        {
            var op = ModelFor(syntax.SyntaxTree).GetOperation(syntax, _ct);
            body = op switch
            {
                IMethodBodyOperation m => m.BlockBody ?? m.ExpressionBody,
                ILocalFunctionOperation f => f.Body,
                _ => null,
            };
        }

        if (body is null)
        {
            Report(DiagnosticDescriptors.NotInlinable, callSite, method.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat));
            return null;
        }

        _inlining.Push(method);
        _callSites.Push(callSite);
        try
        {
            var result = EvalBlock(body, env);
            if (key is not null)
            {
                _inlined[key] = result;
            }

            return result;
        }
        finally
        {
            _inlining.Pop();
            _callSites.Pop();
        }
    }

    /// <summary>
    /// The nesting depth of the expressions under <paramref name="root"/>, measured without recursion: each expression
    /// inside another counts one level, except the left operand of a binary expression (a chain <c>a + b + c</c> is flat).
    /// </summary>
    internal static int ExpressionDepth(SyntaxNode root)
    {
        int max = 0;
        var stack = new Stack<(SyntaxNode Node, int Depth)>();
        stack.Push((root, 0));
        while (stack.Count > 0)
        {
            var (node, depth) = stack.Pop();
            if (node is ExpressionSyntax && !(node is BinaryExpressionSyntax && node.Parent is BinaryExpressionSyntax parent && parent.Left == node))
            {
                depth++;
            }

            max = Math.Max(max, depth);
            foreach (var child in node.ChildNodes())
            {
                stack.Push((child, depth));
            }
        }

        return max;
    }

    /// <summary>LD0022, reported once per loss: the declaration exceeds one of the parser's budgets.</summary>
    private void TooComplex(Location? location, string why)
    {
        if (!_tooComplex)
        {
            _tooComplex = true;
            Report(DiagnosticDescriptors.TooComplex, location, _typeName, why);
        }
    }

    private int? EvalBlock(IBlockOperation block, Dictionary<ISymbol, int> env)
    {
        foreach (var statement in block.Operations)
        {
            _ct.ThrowIfCancellationRequested();
            switch (statement)
            {
                case IVariableDeclarationGroupOperation group:
                    foreach (var declaration in group.Declarations)
                    {
                        foreach (var declarator in declaration.Declarators)
                        {
                            var init = declarator.Initializer ?? declaration.Initializer;
                            if (init is null)
                            {
                                Report(DiagnosticDescriptors.UnsupportedStatement, declarator.Syntax.GetLocation(), Abbreviate(declarator.Syntax));
                                return null;
                            }

                            if (Eval(init.Value, env) is not int v)
                            {
                                return null;
                            }

                            env[declarator.Symbol] = v;
                            NameNode(v, declarator.Symbol.Name, NameKind.Local);
                        }
                    }

                    break;
                case IReturnOperation { ReturnedValue: { } value }:
                    return Eval(value, env);
                case ILocalFunctionOperation:
                    break; // inlined where called
                default:
                    Report(DiagnosticDescriptors.UnsupportedStatement, statement.Syntax.GetLocation(), Abbreviate(statement.Syntax));
                    return null;
            }
        }

        Report(DiagnosticDescriptors.UnsupportedStatement, block.Syntax.GetLocation(), "a body without a return");
        return null;
    }

    private static string Abbreviate(SyntaxNode node)
    {
        var text = node.ToString();
        int nl = text.IndexOfAny(new[] { '\r', '\n' });
        if (nl >= 0)
        {
            text = text.Substring(0, nl) + " …";
        }

        return text.Length > 60 ? text.Substring(0, 57) + "…" : text;
    }

    // ---------------------------------------------------------------- expressions

    private int? Eval(IOperation op, Dictionary<ISymbol, int> env)
    {
        _ct.ThrowIfCancellationRequested();
        if (++_work > MaxWork)
        {
            TooComplex(op.Syntax.GetLocation(), $"it reads more than {MaxWork.ToString(CultureInfo.InvariantCulture)} expression nodes after inlining");
            return null;
        }

        if (_depth >= MaxEvalDepth)
        {
            TooComplex(op.Syntax.GetLocation(), $"its expressions, with its helpers inlined, are nested more than {MaxEvalDepth.ToString(CultureInfo.InvariantCulture)} deep");
            return null;
        }

        _depth++;
        try
        {
            return EvalNode(op, env);
        }
        finally
        {
            _depth--;
        }
    }

    private int? EvalNode(IOperation op, Dictionary<ISymbol, int> env)
    {
        if (op.ConstantValue is { HasValue: true, Value: { } constant } && IsNumber(constant))
        {
            return Constant(_g.Const(Convert.ToDouble(constant, CultureInfo.InvariantCulture)), op.Syntax);
        }

        switch (op)
        {
            case IParameterReferenceOperation p when env.TryGetValue(p.Parameter, out int pv):
                return pv;
            case ILocalReferenceOperation l when env.TryGetValue(l.Local, out int lv):
                return lv;
            case IConversionOperation c when c.OperatorMethod is null:
                return Eval(c.Operand, env);
            case IConversionOperation c when !IsVocabulary(c.OperatorMethod):
                return InlineCall(c.OperatorMethod!, new[] { c.Operand }, c.Syntax, env);
            case IBinaryOperation b when b.OperatorMethod is { } m && !IsVocabulary(m):
                // A user-defined operator is a call like any other: resolved by its symbol and inlined, never read as DSL arithmetic.
                return InlineCall(m, new[] { b.LeftOperand, b.RightOperand }, b.Syntax, env);
            case IBinaryOperation b:
                return EvalBinary(b, env);
            case IUnaryOperation u when u.OperatorMethod is { } m && !IsVocabulary(m):
                return InlineCall(m, new[] { u.Operand }, u.Syntax, env);
            case IUnaryOperation u when u.OperatorKind == UnaryOperatorKind.Minus:
                return Eval(u.Operand, env) is int x ? Constant(_g.Unary(Op.Neg, x), u.Syntax) : null;
            case IUnaryOperation u when u.OperatorKind == UnaryOperatorKind.Plus:
                return Eval(u.Operand, env);
            case IInvocationOperation call:
                return EvalCall(call, env);
            case IFieldReferenceOperation f:
                Report(DiagnosticDescriptors.UnsupportedExpression, op.Syntax.GetLocation(), Abbreviate(op.Syntax), $"the field '{f.Field.Name}' is not a compile-time constant; use a 'const' field");
                return null;
            case IInvalidOperation when op.Syntax is InvocationExpressionSyntax invocation && DslCandidates(invocation) is { Count: > 0 } candidates:
                return ReportDslOverloadMismatch(invocation, candidates, env);
            default:
                Report(DiagnosticDescriptors.UnsupportedExpression, op.Syntax.GetLocation(), Abbreviate(op.Syntax), "use DSL functions, arithmetic operators, constants, parameters and locals");
                return null;
        }
    }

    /// <summary>The <c>LossDsl.Dsl</c> overloads a call failed to bind to (empty when it is not a DSL call).</summary>
    private List<IMethodSymbol> DslCandidates(InvocationExpressionSyntax invocation) =>
        ModelFor(invocation.SyntaxTree).GetSymbolInfo(invocation, _ct).CandidateSymbols.OfType<IMethodSymbol>()
            .Where(m => m.ContainingType?.ToDisplayString() == Ns + ".Dsl")
            .ToList();

    /// <summary>
    /// A DSL function called with an argument of a rank it has no overload for (such as <c>Pow</c> of a <c>Batch</c> value): C#
    /// overload resolution fails, and the real problem is the rank, so say which argument and which ranks the function takes.
    /// </summary>
    private int? ReportDslOverloadMismatch(InvocationExpressionSyntax invocation, List<IMethodSymbol> candidates, Dictionary<ISymbol, int> env)
    {
        var model = ModelFor(invocation.SyntaxTree);
        var arguments = invocation.ArgumentList.Arguments;
        string name = candidates[0].Name;
        var ranks = new List<Rank>();
        for (int i = 0; i < arguments.Count; i++)
        {
            if (model.GetOperation(arguments[i].Expression, _ct) is not { } argument)
            {
                break;
            }

            // An argument that cannot be read reports its own diagnostic.
            if (Eval(argument, env) is not int value)
            {
                return null;
            }

            // A channel-constant per-pixel value (LogSumExp) is a Field to C#.
            var rank = _g[value].Rank == Rank.Pixel ? Rank.Field : _g[value].Rank;
            ranks.Add(rank);
            var accepted = candidates.Where(m => m.Parameters.Length > i).Select(m => RankOf(m.Parameters[i].Type)).Where(r => r is not null).Select(r => r!.Value).Distinct().OrderByDescending(r => r).ToList();
            if (accepted.Count > 0 && !accepted.Contains(rank))
            {
                string takes = string.Join(" or ", accepted.Select(r => "a " + RankText(r)));
                string hint = rank == Rank.Batch
                    ? $"there is no {name} of a whole-batch value; apply {name} before BatchMean, or reduce per plane with Sum or Mean"
                    : $"the DSL has no {name} of a {RankText(rank)}";
                Report(DiagnosticDescriptors.RankMismatch, invocation.GetLocation(),
                    $"'{Abbreviate(invocation)}': argument {i + 1} of {name} ('{Abbreviate(arguments[i].Expression)}') is a {RankText(rank)}, but {name} takes {takes} there; {hint}");
                return null;
            }
        }

        if (ranks.Count == arguments.Count && ranks.Distinct().Count(r => r != Rank.Scalar) > 1)
        {
            // Each argument fits some overload, but no overload takes them together: the ranks are mixed.
            Report(DiagnosticDescriptors.RankMismatch, invocation.GetLocation(),
                $"'{Abbreviate(invocation)}': {name} takes its arguments at one rank (constants aside), but gets {string.Join(", ", ranks.Select(r => "a " + RankText(r)))}; reduce the per-pixel arguments first, or keep them all per pixel");
            return null;
        }

        Report(DiagnosticDescriptors.UnsupportedExpression, invocation.GetLocation(), Abbreviate(invocation), $"no overload of {name} takes these arguments");
        return null;
    }

    private static Rank? RankOf(ITypeSymbol type) => type.ToDisplayString() switch
    {
        Ns + ".Field" or Ns + ".Logits" or Ns + ".Target" => Rank.Field,
        Ns + ".Plane" => Rank.Plane,
        Ns + ".Batch" => Rank.Batch,
        _ when type.SpecialType is SpecialType.System_Double or SpecialType.System_Single || IsIntegral(type) => Rank.Scalar,
        _ => null,
    };

    private static string RankText(Rank rank) => rank switch
    {
        Rank.Field => "Field (per-pixel value)",
        Rank.Plane => "Plane (per-plane value)",
        Rank.Batch => "Batch (whole-batch value)",
        _ => "constant",
    };

    /// <summary>
    /// Checks a node that folded to a constant: the generated code computes in float and double, so a constant must be
    /// finite and within float's range (NaN, ±∞ and 1e308 are reported here, where the user wrote them).
    /// </summary>
    private int? Constant(int node, SyntaxNode syntax)
    {
        if (_g.IsConst(node, out double v) && !IsFiniteFloat(v))
        {
            Report(DiagnosticDescriptors.UnsupportedExpression, syntax.GetLocation(), Abbreviate(syntax), $"{NotFiniteFloat(v)}; a constant in a loss must be a finite number within float's range");
            return null;
        }

        return node;
    }

    private static bool IsIntegral(ITypeSymbol? type) => type?.SpecialType is SpecialType.System_Int32 or SpecialType.System_Int64 or SpecialType.System_Int16
        or SpecialType.System_SByte or SpecialType.System_Byte or SpecialType.System_UInt16 or SpecialType.System_UInt32 or SpecialType.System_UInt64 or SpecialType.System_Char;

    private static bool IsNumber(object value) => value is int or long or short or byte or sbyte or uint or ulong or ushort or float or double or decimal;

    private static Op? ArithmeticOp(BinaryOperatorKind kind) => kind switch
    {
        BinaryOperatorKind.Add => Op.Add,
        BinaryOperatorKind.Subtract => Op.Sub,
        BinaryOperatorKind.Multiply => Op.Mul,
        BinaryOperatorKind.Divide => Op.Div,
        _ => null,
    };

    /// <summary>
    /// A chain of DSL arithmetic (<c>a + b + c + …</c>, left-nested as C# parses it) is walked with a loop down its left
    /// spine, so a sum of thousands of terms costs no stack.
    /// </summary>
    private int? EvalBinary(IBinaryOperation top, Dictionary<ISymbol, int> env)
    {
        var spine = new List<IBinaryOperation>();
        IOperation leftmost = top;
        while (leftmost is IBinaryOperation b && !b.ConstantValue.HasValue && ArithmeticOp(b.OperatorKind) is not null
            && (b.OperatorMethod is null || IsVocabulary(b.OperatorMethod)))
        {
            spine.Add(b);
            leftmost = b.LeftOperand;
        }

        if (spine.Count == 0)
        {
            Report(DiagnosticDescriptors.UnsupportedExpression, top.Syntax.GetLocation(), Abbreviate(top.Syntax), $"the operator '{top.OperatorKind}' is not part of the DSL; use + - * / or a DSL function");
            return null;
        }

        if (Eval(leftmost, env) is not int acc)
        {
            return null;
        }

        for (int i = spine.Count - 1; i >= 0; i--)
        {
            _ct.ThrowIfCancellationRequested();
            var b = spine[i];
            if (Eval(b.RightOperand, env) is not int r || Combine(b, ArithmeticOp(b.OperatorKind)!.Value, acc, r) is not int next)
            {
                return null;
            }

            acc = next;
        }

        return acc;
    }

    private int? Combine(IBinaryOperation b, Op op, int l, int r)
    {
        // Integer division truncates in C# (k / 2 is 1 for k = 3): fold it as C# does, never as a real division.
        if (op == Op.Div && IsIntegral(b.Type))
        {
            if (_g.IsConst(l, out double lv) && _g.IsConst(r, out double rv) && rv != 0)
            {
                return _g.Const(Math.Truncate(lv / rv));
            }

            Report(DiagnosticDescriptors.UnsupportedExpression, b.Syntax.GetLocation(), Abbreviate(b.Syntax), "integer division needs compile-time constant operands and a non-zero divisor");
            return null;
        }

        return CheckedBinary(op, l, r, b.Syntax);
    }

    private int? CheckedBinary(Op op, int l, int r, SyntaxNode syntax) =>
        RanksFit(l, r, syntax) ? Constant(_g.Binary(op, l, r), syntax) : null;

    /// <summary>False (and reported) where a per-pixel value meets a reduced one: the DSL does not broadcast those back over pixels.</summary>
    private bool RanksFit(int l, int r, SyntaxNode syntax)
    {
        var lr = _g[l].Rank;
        var rr = _g[r].Rank;
        if ((lr.IsPerPixel() && rr is Rank.Plane or Rank.Batch) || (rr.IsPerPixel() && lr is Rank.Plane or Rank.Batch))
        {
            var small = lr.IsPerPixel() ? rr : lr;
            Report(DiagnosticDescriptors.RankMismatch, syntax.GetLocation(), $"'{Abbreviate(syntax)}' combines a per-pixel Field with a {small} value; a reduced value cannot be broadcast back over pixels in a loss declaration — reduce both sides, or move the per-plane arithmetic after the reductions");
            return false;
        }

        return true;
    }

    private int? EvalCall(IInvocationOperation call, Dictionary<ISymbol, int> env)
    {
        var method = call.TargetMethod;
        string container = method.ContainingType?.ToDisplayString() ?? string.Empty;
        var args = call.Arguments.OrderBy(a => a.Parameter?.Ordinal ?? 0).ToList();
        if (container == Ns + ".Dsl" && IsVocabulary(method))
        {
            var values = new int[args.Count];
            bool stencil = method.Name is "AvgPool" or "MaxPool" or "MinPool";
            for (int i = 0; i < args.Count; i++)
            {
                int reported = _diagnostics.Count;
                if (Eval(args[i].Value, env) is not int v)
                {
                    if (stencil && i == 1 && !_tooComplex)
                    {
                        // Whatever made the window unreadable, the fix is the same: a constant window.
                        _diagnostics.RemoveRange(reported, _diagnostics.Count - reported);
                        Report(DiagnosticDescriptors.NonConstantKernel, call.Syntax.GetLocation(), method.Name);
                    }

                    return null;
                }

                values[i] = v;
            }

            return Vocabulary(method.Name, values, call) is int result ? Constant(result, call.Syntax) : null;
        }

        if (args.Any(a => a.Parameter is null))
        {
            Report(DiagnosticDescriptors.NotInlinable, call.Syntax.GetLocation(), method.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat));
            return null;
        }

        return InlineCall(method, args.Select(a => a.Value).ToArray(), call.Syntax, env);
    }

    /// <summary>
    /// Inlines a call of a user method (a helper, a user-defined operator or conversion) or of the prelude, with
    /// <paramref name="arguments"/> in parameter order. A method of a generic type is inlined through its definition: its
    /// body refers to the definition's parameters.
    /// </summary>
    private int? InlineCall(IMethodSymbol method, IReadOnlyList<IOperation> arguments, SyntaxNode syntax, Dictionary<ISymbol, int> env)
    {
        // A local function may capture the parameters and locals of its enclosing body (passed on below), so it need not be static.
        bool local = method.MethodKind == MethodKind.LocalFunction;
        if ((!method.IsStatic && !local) || method.IsGenericMethod || method.IsExtern || method.IsAbstract || arguments.Count != method.Parameters.Length)
        {
            Report(DiagnosticDescriptors.NotInlinable, syntax.GetLocation(), method.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat));
            return null;
        }

        // A partial method's body is in its implementation part, whose parameters are the ones the body reads.
        var target = method.OriginalDefinition.PartialImplementationPart ?? method.OriginalDefinition;
        string container = method.ContainingType?.ToDisplayString() ?? string.Empty;
        if (container == Ns + ".Prelude" && IsVocabulary(method) && method.DeclaringSyntaxReferences.IsEmpty)
        {
            target = PreludeMethod(method) ?? target;
        }

        var inner = new Dictionary<ISymbol, int>(SymbolEqualityComparer.Default);
        for (int i = 0; i < arguments.Count; i++)
        {
            if (Eval(arguments[i], env) is not int v)
            {
                return null;
            }

            inner[target.Parameters[i]] = v;
            NameNode(v, target.Parameters[i].Name, NameKind.Parameter);
        }

        foreach (var kv in env)
        {
            // Local functions see the parameters and locals of their enclosing body.
            if (local && kv.Key is ILocalSymbol or IParameterSymbol && !inner.ContainsKey(kv.Key))
            {
                inner[kv.Key] = kv.Value;
            }
        }

        int? result = InlineMethod(target, inner, syntax.GetLocation());
        if (result is int r && CallText(method, syntax) is { } text)
        {
            NameNode(r, text, NameKind.Call);
        }

        return result;
    }

    /// <summary>
    /// Records the user's name of a node for the loss card and the generated locals. Leaves keep their own names; a
    /// better kind of name (a local over a parameter over a call) replaces a worse one.
    /// </summary>
    private void NameNode(int node, string name, NameKind kind)
    {
        if (_g[node].Op is Op.Const or Op.Input || (_names.TryGetValue(node, out var had) && had.Kind <= kind))
        {
            return;
        }

        _names[node] = new NodeName(node, name, kind);
    }

    /// <summary>A helper call as the user wrote it, without qualifiers (<c>Weight(mask)</c>); null when it would not read as a name.</summary>
    private static string? CallText(IMethodSymbol method, SyntaxNode syntax)
    {
        if (syntax is not InvocationExpressionSyntax invocation)
        {
            return null; // an operator or a conversion: its value is called by what the user named it, if anything
        }

        var args = invocation.ArgumentList.Arguments.Select(a => a.ToString()).ToList();
        if (args.Any(a => a.Length > 24 || a.IndexOfAny(new[] { '\r', '\n' }) >= 0))
        {
            return null;
        }

        return method.Name + "(" + string.Join(", ", args) + ")";
    }

    /// <summary>
    /// The prelude source compiled against the user's LossDsl reference; cached per reference, since parsing and binding
    /// it for every loss class would dominate the generator's time.
    /// </summary>
    private Compilation? PreludeCompilation()
    {
        var dsl = _compilation.GetTypeByMetadataName(Ns + ".Dsl");
        var reference = dsl is null ? null : _compilation.GetMetadataReference(dsl.ContainingAssembly);
        return reference is null ? CreatePrelude(_compilation, _ct) : PreludeCache.GetValue(reference, _ => CreatePrelude(_compilation, CancellationToken.None)!);
    }

    private static Compilation? CreatePrelude(Compilation user, CancellationToken ct)
    {
        using var stream = typeof(Parser).Assembly.GetManifestResourceStream("LossDsl.Prelude.cs");
        if (stream is null)
        {
            return null;
        }

        using var reader = new StreamReader(stream);
        var options = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.CSharp10);
        var tree = CSharpSyntaxTree.ParseText(reader.ReadToEnd(), options, path: "LossDsl.Prelude.cs", cancellationToken: ct);
        return CSharpCompilation.Create("LossDsl.Prelude.Source", new[] { tree }, user.References, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
    }

    private IMethodSymbol? PreludeMethod(IMethodSymbol method) =>
        PreludeMethod(method.Name, string.Join(",", method.Parameters.Select(p => p.Type.ToDisplayString())));

    /// <summary>Finds a prelude method in the generator's embedded copy of the prelude source, by name and parameter types.</summary>
    private IMethodSymbol? PreludeMethod(string name, string signature)
    {
        _prelude ??= PreludeCompilation();
        if (_prelude is null)
        {
            return null;
        }

        var type = _prelude.Assembly.GetTypeByMetadataName(Ns + ".Prelude");
        return type?.GetMembers(name).OfType<IMethodSymbol>()
            .FirstOrDefault(m => string.Join(",", m.Parameters.Select(p => p.Type.ToDisplayString())) == signature);
    }
}
