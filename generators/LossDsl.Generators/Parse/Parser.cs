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
    private const string Ns = "LossDsl";

    private readonly Compilation _compilation;
    private readonly CancellationToken _ct;
    private readonly List<DiagnosticInfo> _diagnostics = new();
    private readonly List<InputSpec> _inputs = new();
    private readonly DagBuilder _g = new();
    private readonly Dictionary<int, NodeName> _names = new();
    private readonly Dictionary<SyntaxTree, SemanticModel> _models = new();
    private readonly Stack<IMethodSymbol> _inlining = new();
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

    private Parser(Compilation compilation, CancellationToken ct)
    {
        _compilation = compilation;
        _ct = ct;
    }

    /// <summary>Parses one loss class.</summary>
    public static (LossSpec? Spec, ImmutableEquatableArray<DiagnosticInfo> Diagnostics) Parse(
        INamedTypeSymbol type, SemanticModel model, CancellationToken ct)
    {
        var parser = new Parser(model.Compilation, ct);
        parser._models[model.SyntaxTree] = model;
        var spec = parser.ParseType(type);
        // Warnings (such as LD0017, a backend without its runtime) do not stop generation; errors do.
        bool failed = parser._diagnostics.Any(d => DiagnosticDescriptorsById.Get(d.Id).DefaultSeverity == DiagnosticSeverity.Error);
        return (failed ? null : spec, parser._diagnostics.ToEquatable());
    }

    private void Report(DiagnosticDescriptor d, Location? location, params string[] args)
    {
        // A helper inlined twice reports the same problem at the same place twice: keep one.
        var info = DiagnosticInfo.Create(d, location, args);
        if (!_diagnostics.Contains(info))
        {
            _diagnostics.Add(info);
        }
    }

    private LossSpec? ParseType(INamedTypeSymbol type)
    {
        var typeLocation = type.Locations.FirstOrDefault();
        var decl = type.DeclaringSyntaxReferences.Select(r => r.GetSyntax(_ct)).OfType<TypeDeclarationSyntax>().ToList();
        if (!decl.Any(d => d.Modifiers.Any(SyntaxKind.PartialKeyword)))
        {
            Report(DiagnosticDescriptors.NotPartial, typeLocation, type.Name);
        }

        if (!type.IsStatic)
        {
            Report(DiagnosticDescriptors.NotStatic, typeLocation, type.Name);
        }

        var containing = new List<string>();
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
            containing.Insert(0, (t.IsStatic ? "static " : string.Empty) + "partial " + keyword + " " + t.Name);
        }

        if (type.IsGenericType)
        {
            Report(DiagnosticDescriptors.GenericLoss, typeLocation, type.Name);
            return null;
        }

        var lossAttr = type.GetAttributes().First(a => a.AttributeClass?.ToDisplayString() == LossAttributeName);
        var reduction = ReductionKind.Mean;
        int backends = 0;
        foreach (var arg in lossAttr.NamedArguments)
        {
            if (arg.Key == "Reduction" && arg.Value.Value is int r)
            {
                reduction = (ReductionKind)r;
            }
            else if (arg.Key == "Backends" && arg.Value.Value is int b)
            {
                backends = b;
            }
        }

        var terms = new List<TermSpec>();
        bool attributeForm = ParseAttributeTerms(type, terms);
        foreach (var method in type.GetMembers().OfType<IMethodSymbol>().OrderBy(m => m.Locations.FirstOrDefault()?.SourceSpan.Start ?? 0))
        {
            _ct.ThrowIfCancellationRequested();
            var termAttr = method.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == "LossDsl.TermAttribute");
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

        if (_diagnostics.Count > 0)
        {
            return null;
        }

        var target = new TypeTarget(
            type.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() : null,
            type.Name,
            SyntaxFacts.GetText(type.DeclaredAccessibility) is { Length: > 0 } acc ? acc : "internal",
            containing.ToEquatable());
        return new LossSpec(target, _inputs.ToEquatable(), _g.ToGraph(), terms.ToEquatable(), reduction, ResolveBackends(type, backends, typeLocation), attributeForm)
        {
            Names = _names.Values.OrderBy(n => n.Node).ToEquatable(),
        };
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
        if (set.HasFlag(BackendSet.TorchSharp) && !hasTorch)
        {
            Report(DiagnosticDescriptors.BackendUnavailable, location, type.Name, "TorchSharp", "LossDsl.TorchSharp");
        }

        if (set.HasFlag(BackendSet.Ilgpu) && !hasIlgpu)
        {
            Report(DiagnosticDescriptors.BackendUnavailable, location, type.Name, "ILGPU", "LossDsl.Ilgpu");
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
        foreach (var arg in attr.NamedArguments)
        {
            if (arg.Key == "Weight" && arg.Value.Value is double w)
            {
                weight = w;
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
        if (ret == Ns + ".Field")
        {
            Report(DiagnosticDescriptors.RankMismatch, location, $"The term '{method.Name}' returns a per-pixel Field; a term must return a Plane (reduce it with Sum, Mean or WeightedMean) or a Batch value");
            return;
        }

        if (ret != Ns + ".Plane" && ret != Ns + ".Batch")
        {
            Report(DiagnosticDescriptors.BadTermSignature, location, method.Name, $"must return LossDsl.Plane or LossDsl.Batch, not '{ret}'");
            return;
        }

        if (double.IsNaN(weight) || double.IsInfinity(weight))
        {
            Report(DiagnosticDescriptors.BadAttributeArgument, location, $"The weight of term '{method.Name}' must be a finite number");
            return;
        }

        var env = new Dictionary<ISymbol, int>(SymbolEqualityComparer.Default);
        foreach (var p in method.Parameters)
        {
            string pt = p.Type.ToDisplayString();
            InputRole role;
            if (pt == Ns + ".Logits")
            {
                role = InputRole.Logits;
            }
            else if (pt == Ns + ".Target")
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

        terms.Add(new TermSpec(method.Name, root, weight, ret == Ns + ".Batch", new ReferenceCall(CallOwner.LossClass, method.Name, method.Parameters.Select(p => (ReferenceArg)new ReferenceArg.Input(p.Name)).ToEquatable())));
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

    /// <summary>Inlines a method whose body is available as source, with its parameters bound to nodes.</summary>
    private int? InlineMethod(IMethodSymbol method, Dictionary<ISymbol, int> env, Location? callSite)
    {
        if (_inlining.Contains(method, SymbolEqualityComparer.Default))
        {
            Report(DiagnosticDescriptors.Recursion, callSite, method.Name);
            return null;
        }

        var syntax = method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(_ct);
        IBlockOperation? body = null;
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
        try
        {
            return EvalBlock(body, env);
        }
        finally
        {
            _inlining.Pop();
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
        if (op.ConstantValue is { HasValue: true, Value: { } constant } && IsNumber(constant))
        {
            return _g.Const(Convert.ToDouble(constant, CultureInfo.InvariantCulture));
        }

        switch (op)
        {
            case IParameterReferenceOperation p when env.TryGetValue(p.Parameter, out int pv):
                return pv;
            case ILocalReferenceOperation l when env.TryGetValue(l.Local, out int lv):
                return lv;
            case IConversionOperation c when c.OperatorMethod is null:
                return Eval(c.Operand, env);
            case IBinaryOperation b:
                return EvalBinary(b, env);
            case IUnaryOperation u when u.OperatorKind == UnaryOperatorKind.Minus:
                return Eval(u.Operand, env) is int x ? _g.Unary(Op.Neg, x) : null;
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

            var rank = _g[value].Rank;
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

    private static bool IsIntegral(ITypeSymbol? type) => type?.SpecialType is SpecialType.System_Int32 or SpecialType.System_Int64 or SpecialType.System_Int16
        or SpecialType.System_SByte or SpecialType.System_Byte or SpecialType.System_UInt16 or SpecialType.System_UInt32 or SpecialType.System_UInt64 or SpecialType.System_Char;

    private static bool IsNumber(object value) => value is int or long or short or byte or sbyte or uint or ulong or ushort or float or double or decimal;

    private int? EvalBinary(IBinaryOperation b, Dictionary<ISymbol, int> env)
    {
        Op? op = b.OperatorKind switch
        {
            BinaryOperatorKind.Add => Op.Add,
            BinaryOperatorKind.Subtract => Op.Sub,
            BinaryOperatorKind.Multiply => Op.Mul,
            BinaryOperatorKind.Divide => Op.Div,
            _ => null,
        };
        if (op is null)
        {
            Report(DiagnosticDescriptors.UnsupportedExpression, b.Syntax.GetLocation(), Abbreviate(b.Syntax), $"the operator '{b.OperatorKind}' is not part of the DSL; use + - * / or a DSL function");
            return null;
        }

        if (Eval(b.LeftOperand, env) is not int l || Eval(b.RightOperand, env) is not int r)
        {
            return null;
        }

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

        return CheckedBinary(op.Value, l, r, b.Syntax);
    }

    private int? CheckedBinary(Op op, int l, int r, SyntaxNode syntax)
    {
        var lr = _g[l].Rank;
        var rr = _g[r].Rank;
        if ((lr == Rank.Field && rr is Rank.Plane or Rank.Batch) || (rr == Rank.Field && lr is Rank.Plane or Rank.Batch))
        {
            var small = lr == Rank.Field ? rr : lr;
            Report(DiagnosticDescriptors.RankMismatch, syntax.GetLocation(), $"'{Abbreviate(syntax)}' combines a per-pixel Field with a {small} value; a reduced value cannot be broadcast back over pixels in a loss declaration — reduce both sides, or move the per-plane arithmetic after the reductions");
            return null;
        }

        return _g.Binary(op, l, r);
    }

    private int? EvalCall(IInvocationOperation call, Dictionary<ISymbol, int> env)
    {
        var method = call.TargetMethod;
        string container = method.ContainingType?.ToDisplayString() ?? string.Empty;
        var args = call.Arguments.OrderBy(a => a.Parameter?.Ordinal ?? 0).ToList();
        if (container == Ns + ".Dsl")
        {
            var values = new int[args.Count];
            bool stencil = method.Name is "AvgPool" or "MaxPool" or "MinPool";
            for (int i = 0; i < args.Count; i++)
            {
                int reported = _diagnostics.Count;
                if (Eval(args[i].Value, env) is not int v)
                {
                    if (stencil && i == 1)
                    {
                        // Whatever made the window unreadable, the fix is the same: a constant window.
                        _diagnostics.RemoveRange(reported, _diagnostics.Count - reported);
                        Report(DiagnosticDescriptors.NonConstantKernel, call.Syntax.GetLocation(), method.Name);
                    }

                    return null;
                }

                values[i] = v;
            }

            return Vocabulary(method.Name, values, call);
        }

        // A local function may capture the parameters and locals of its enclosing body (passed on below), so it need not be static.
        bool local = method.MethodKind == MethodKind.LocalFunction;
        if ((!method.IsStatic && !local) || method.IsGenericMethod || method.IsExtern || method.IsAbstract)
        {
            Report(DiagnosticDescriptors.NotInlinable, call.Syntax.GetLocation(), method.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat));
            return null;
        }

        var target = method;
        if (container == Ns + ".Prelude" && method.DeclaringSyntaxReferences.IsEmpty)
        {
            target = PreludeMethod(method) ?? method;
        }

        var inner = new Dictionary<ISymbol, int>(SymbolEqualityComparer.Default);
        foreach (var a in args)
        {
            if (a.Parameter is null || Eval(a.Value, env) is not int v)
            {
                return null;
            }

            inner[target.Parameters[a.Parameter.Ordinal]] = v;
            NameNode(v, target.Parameters[a.Parameter.Ordinal].Name, NameKind.Parameter);
        }

        foreach (var kv in env)
        {
            // Local functions see the parameters and locals of their enclosing body.
            if (local && kv.Key is ILocalSymbol or IParameterSymbol && !inner.ContainsKey(kv.Key))
            {
                inner[kv.Key] = kv.Value;
            }
        }

        int? result = InlineMethod(target, inner, call.Syntax.GetLocation());
        if (result is int r && CallText(call) is { } text)
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
    private static string? CallText(IInvocationOperation call)
    {
        var args = call.Arguments.Where(a => a.ArgumentKind == ArgumentKind.Explicit).OrderBy(a => a.Syntax.SpanStart)
            .Select(a => a.Syntax is ArgumentSyntax s ? s.ToString() : a.Syntax.ToString()).ToList();
        if (args.Any(a => a.Length > 24 || a.IndexOfAny(new[] { '\r', '\n' }) >= 0))
        {
            return null;
        }

        return call.TargetMethod.Name + "(" + string.Join(", ", args) + ")";
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
