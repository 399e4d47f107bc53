using System.Linq;
using LossDsl.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace LossDsl.Generators.Diagnostics;

/// <summary>A location detached from any syntax tree, so it can live in a cached pipeline model.</summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public static LocationInfo? From(Location? location) =>
        location is null || !location.IsInSource ? null : new LocationInfo(location.SourceTree!.FilePath, location.SourceSpan, location.GetLineSpan().Span);

    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);
}

/// <summary>A diagnostic as a value: descriptor id, location and message arguments.</summary>
internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, ImmutableEquatableArray<string> Args)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, Location? location, params string[] args) =>
        new(descriptor.Id, LocationInfo.From(location), args.ToEquatable());

    public Diagnostic ToDiagnostic() =>
        Diagnostic.Create(DiagnosticDescriptorsById.Get(Id), Location?.ToLocation() ?? Microsoft.CodeAnalysis.Location.None, Args.Cast<object>().ToArray());
}

internal static class DiagnosticDescriptorsById
{
    private static readonly System.Collections.Generic.Dictionary<string, DiagnosticDescriptor> ById =
        typeof(DiagnosticDescriptors).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
            .ToDictionary(d => d.Id);

    public static DiagnosticDescriptor Get(string id) => ById[id];

    public static System.Collections.Generic.IEnumerable<DiagnosticDescriptor> All => ById.Values.OrderBy(d => d.Id, System.StringComparer.Ordinal);
}
