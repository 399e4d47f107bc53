using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;

namespace LossDsl.CodeFixes;

/// <summary>
/// Fixes the two mechanical diagnostics of a loss class: LD0001 (the class, or a class containing it, is not
/// <c>partial</c>) adds <c>partial</c>; LD0002 (the class is not <c>static</c>) adds <c>static</c>. The modifiers land in
/// C#'s usual order (<c>public static partial class</c>), trivia and attributes stay where they were.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(LossClassModifierCodeFix)), Shared]
public sealed class LossClassModifierCodeFix : CodeFixProvider
{
    /// <summary>LD0001 in the generator's descriptors (a test keeps the two in step).</summary>
    internal const string NotPartialId = "LD0001";

    /// <summary>LD0002 in the generator's descriptors.</summary>
    internal const string NotStaticId = "LD0002";

    internal const string MakePartialKey = "LossDsl.MakePartial";
    internal const string MakeStaticKey = "LossDsl.MakeStatic";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(NotPartialId, NotStaticId);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return;
        }

        foreach (var diagnostic in context.Diagnostics)
        {
            // The generator reports at the type's identifier.
            var declaration = root.FindToken(diagnostic.Location.SourceSpan.Start).Parent?.AncestorsAndSelf().OfType<TypeDeclarationSyntax>().FirstOrDefault();
            if (declaration is null || declaration.Identifier.Span != diagnostic.Location.SourceSpan)
            {
                continue;
            }

            bool partial = diagnostic.Id == NotPartialId;
            string name = declaration.Identifier.ValueText;
            context.RegisterCodeFix(
                CodeAction.Create(
                    partial ? $"Make '{name}' partial" : $"Make '{name}' static",
                    ct => AddModifierAsync(context.Document, declaration, partial, ct),
                    partial ? MakePartialKey : MakeStaticKey),
                diagnostic);
        }
    }

    private static async Task<Document> AddModifierAsync(Document document, TypeDeclarationSyntax declaration, bool partial, CancellationToken ct)
    {
        var editor = await DocumentEditor.CreateAsync(document, ct).ConfigureAwait(false);
        var generator = editor.Generator;
        var modifiers = generator.GetModifiers(declaration);
        editor.ReplaceNode(declaration, generator.WithModifiers(declaration, partial ? modifiers.WithPartial(true) : modifiers.WithIsStatic(true)));
        return editor.GetChangedDocument();
    }
}
