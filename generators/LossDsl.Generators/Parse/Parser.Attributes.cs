using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using LossDsl.Generators.Diagnostics;
using LossDsl.Generators.Model;
using Microsoft.CodeAnalysis;

namespace LossDsl.Generators.Parse;

internal sealed partial class Parser
{
    private const string F = Ns + ".Field";
    private const string L = Ns + ".Logits";
    private const string T = Ns + ".Target";

    /// <summary>
    /// Lowers the attribute-only form (<c>[BoundaryWeight, WeightedBce, WeightedIoU]</c> …) onto calls of the prelude,
    /// exactly as if the user had written the terms. Inputs are <c>pred</c> (Logits) and <c>mask</c> (Target).
    /// </summary>
    private bool ParseAttributeTerms(INamedTypeSymbol type, List<TermSpec> terms)
    {
        var attributes = type.GetAttributes().Where(a => a.AttributeClass?.ContainingNamespace?.ToDisplayString() == Ns && IsVocabulary(a.AttributeClass)).ToList();
        AttributeData? Find(string name) => attributes.FirstOrDefault(a => a.AttributeClass!.Name == name);
        double Named(AttributeData a, string key, double fallback)
        {
            foreach (var kv in a.NamedArguments)
            {
                if (kv.Key == key && kv.Value.Value is { } v)
                {
                    return System.Convert.ToDouble(v, CultureInfo.InvariantCulture);
                }
            }

            return fallback;
        }

        Location? Where(AttributeData a) => a.ApplicationSyntaxReference?.GetSyntax(_ct).GetLocation();

        string[] builtIns = { "WeightedBceAttribute", "WeightedIoUAttribute", "SoftDiceAttribute", "FocalAttribute", "TverskyAttribute" };
        if (!attributes.Any(a => builtIns.Contains(a.AttributeClass!.Name)))
        {
            return false;
        }

        int? pred = null, mask = null;
        int? Pred(AttributeData a) => pred ??= InputFor("pred", InputRole.Logits, Where(a), a.AttributeClass!.Name);
        int? Mask(AttributeData a) => mask ??= InputFor("mask", InputRole.Target, Where(a), a.AttributeClass!.Name);

        int? weight = null;
        int? Weight(AttributeData owner)
        {
            if (weight is int w)
            {
                return w;
            }

            if (Find("BoundaryWeightAttribute") is not { } bw)
            {
                return weight = _g.Const(1);
            }

            double k = Named(bw, "Kernel", AttributeDefaults.BoundaryKernel), gain = Named(bw, "Gain", AttributeDefaults.BoundaryGain);
            if (!IsKernel(k))
            {
                Report(DiagnosticDescriptors.BadKernel, Where(bw), "BoundaryWeight", k.ToString(CultureInfo.InvariantCulture));
                return null;
            }

            if (!Check(bw, "Gain", gain, true))
            {
                return null;
            }

            if (Mask(owner) is not int m)
            {
                return null;
            }

            return weight = CallPrelude("BoundaryWeight", T + ",int,double", Where(bw), m, _g.Const(k), _g.Const(gain));
        }

        bool Check(AttributeData a, string what, double value, bool ok)
        {
            string name = a.AttributeClass!.Name.Replace("Attribute", string.Empty);
            if (!IsFiniteFloat(value))
            {
                Report(DiagnosticDescriptors.BadAttributeArgument, Where(a), $"{name}: {what} must be a finite number within float's range; {NotFiniteFloat(value)}");
                return false;
            }

            if (!ok)
            {
                Report(DiagnosticDescriptors.BadAttributeArgument, Where(a), $"{name}: {what} = {value.ToString(CultureInfo.InvariantCulture)} is out of range");
            }

            return ok;
        }

        // The reference interpreter evaluates an attribute term as the prelude call it stands for.
        var predArg = new ReferenceArg.Input("pred");
        var maskArg = new ReferenceArg.Input("mask");
        ReferenceArg Num(double v) => new ReferenceArg.Number(v, Integer: false);
        ReferenceArg WeightArg() => new ReferenceArg.Nested(Find("BoundaryWeightAttribute") is { } bw
            ? new ReferenceCall(CallOwner.Prelude, "BoundaryWeight", new ReferenceArg[] { maskArg, new ReferenceArg.Number((int)Named(bw, "Kernel", AttributeDefaults.BoundaryKernel), Integer: true), Num(Named(bw, "Gain", AttributeDefaults.BoundaryGain)) }.ToEquatable())
            : new ReferenceCall(CallOwner.Reference, "Ones", new ReferenceArg[] { maskArg }.ToEquatable()));

        void Add(AttributeData a, string termName, int? root, params ReferenceArg[] args)
        {
            double w = Named(a, "Weight", AttributeDefaults.Weight);
            if (root is int r && Check(a, "Weight", w, true))
            {
                terms.Add(new TermSpec(termName, r, w, false, new ReferenceCall(CallOwner.Prelude, termName, args.ToEquatable())));
            }
        }

        foreach (var a in attributes.OrderBy(a => a.ApplicationSyntaxReference?.Span.Start ?? 0))
        {
            if (Pred(a) is not int p || Mask(a) is not int m)
            {
                return true;
            }

            switch (a.AttributeClass!.Name)
            {
                case "WeightedBceAttribute":
                    if (Weight(a) is int wb)
                    {
                        Add(a, "WeightedBce", CallPrelude("WeightedBce", L + "," + T + "," + F, Where(a), p, m, wb), predArg, maskArg, WeightArg());
                    }

                    break;
                case "WeightedIoUAttribute":
                    double s = Named(a, "Smooth", AttributeDefaults.Smooth);
                    if (Check(a, "Smooth", s, s >= 0) && Weight(a) is int wi)
                    {
                        Add(a, "WeightedIoU", CallPrelude("WeightedIoU", L + "," + T + "," + F + ",double", Where(a), p, m, wi, _g.Const(s)), predArg, maskArg, WeightArg(), Num(s));
                    }

                    break;
                case "SoftDiceAttribute":
                    double sd = Named(a, "Smooth", AttributeDefaults.Smooth);
                    if (Check(a, "Smooth", sd, sd >= 0))
                    {
                        Add(a, "SoftDice", CallPrelude("SoftDice", L + "," + T + ",double", Where(a), p, m, _g.Const(sd)), predArg, maskArg, Num(sd));
                    }

                    break;
                case "FocalAttribute":
                    double alpha = Named(a, "Alpha", AttributeDefaults.FocalAlpha), gamma = Named(a, "Gamma", AttributeDefaults.FocalGamma);
                    if (Check(a, "Alpha", alpha, alpha >= 0 && alpha <= 1) && Check(a, "Gamma", gamma, gamma >= 0))
                    {
                        Add(a, "Focal", CallPrelude("Focal", L + "," + T + ",double,double", Where(a), p, m, _g.Const(alpha), _g.Const(gamma)), predArg, maskArg, Num(alpha), Num(gamma));
                    }

                    break;
                case "TverskyAttribute":
                    double ta = Named(a, "Alpha", AttributeDefaults.TverskyAlpha), tb = Named(a, "Beta", AttributeDefaults.TverskyBeta), ts = Named(a, "Smooth", AttributeDefaults.Smooth);
                    if (Check(a, "Alpha", ta, ta >= 0) && Check(a, "Beta", tb, tb >= 0) && Check(a, "Smooth", ts, ts >= 0))
                    {
                        Add(a, "Tversky", CallPrelude("Tversky", L + "," + T + ",double,double,double", Where(a), p, m, _g.Const(ta), _g.Const(tb), _g.Const(ts)), predArg, maskArg, Num(ta), Num(tb), Num(ts));
                    }

                    break;
            }
        }

        return true;
    }

    private int? CallPrelude(string name, string signature, Location? location, params int[] args)
    {
        var method = PreludeMethod(name, signature);
        if (method is null)
        {
            Report(DiagnosticDescriptors.NotInlinable, location, "LossDsl.Prelude." + name);
            return null;
        }

        var env = new Dictionary<ISymbol, int>(SymbolEqualityComparer.Default);
        for (int i = 0; i < args.Length; i++)
        {
            env[method.Parameters[i]] = args[i];
            NameNode(args[i], method.Parameters[i].Name, NameKind.Parameter);
        }

        return InlineMethod(method, env, location);
    }
}
