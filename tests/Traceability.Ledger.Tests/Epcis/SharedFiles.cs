namespace Traceability.Ledger.Tests.Epcis;

/// <summary>
/// The shared conformance material lives outside the repository, in ../shared relative to the repository root
/// (the folder holding Traceability.sln). Tests that need it use [SharedFact] / [SharedTheory], which report
/// themselves skipped, by name, when the folder is absent, rather than passing without checking anything.
/// </summary>
public static class SharedFiles
{
    public const string SkipReason = "../shared not found: skipped";

    private static readonly Lazy<string?> RepoRootLazy = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Traceability.sln"))) return dir.FullName;
        return null;
    });

    private static readonly Lazy<string?> RootLazy = new(() =>
    {
        if (RepoRootLazy.Value is not { } repo) return null;
        var shared = Path.GetFullPath(Path.Combine(repo, "..", "shared"));
        return Directory.Exists(shared) ? shared : null;
    });

    /// <summary>The repository root (the folder holding Traceability.sln), or null.</summary>
    public static string? RepoRoot => RepoRootLazy.Value;

    /// <summary>The ../shared folder, or null when it is absent.</summary>
    public static string? Root => RootLazy.Value;

    /// <summary>A path inside ../shared (only call it from a test that [SharedFact]/[SharedTheory] guards).</summary>
    public static string PathOf(params string[] parts) =>
        Path.Combine([Root ?? throw new InvalidOperationException(SkipReason), .. parts]);

    /// <summary>Files under a folder of ../shared, relative to it, sorted; empty when ../shared is absent.</summary>
    public static IEnumerable<string> Files(string folder, params string[] extensions)
    {
        if (Root is null) return [];
        var dir = Path.Combine(Root, folder);
        if (!Directory.Exists(dir)) return [];
        return Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Where(f => extensions.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
            .Select(f => Path.GetRelativePath(dir, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal);
    }
}

/// <summary>A fact that needs ../shared: skipped with "../shared not found: skipped" when it is absent.</summary>
public sealed class SharedFactAttribute : FactAttribute
{
    public SharedFactAttribute()
    {
        if (SharedFiles.Root is null) Skip = SharedFiles.SkipReason;
    }
}

/// <summary>A theory that needs ../shared: skipped with "../shared not found: skipped" when it is absent.</summary>
public sealed class SharedTheoryAttribute : TheoryAttribute
{
    public SharedTheoryAttribute()
    {
        if (SharedFiles.Root is null) Skip = SharedFiles.SkipReason;
    }
}
