using Xunit;

namespace Traceability.Testing;

/// <summary>The repository root (the folder holding Traceability.sln) and ../shared beside it.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>../shared from the repository root, or null on a machine without it.</summary>
    public static string? Shared { get; } = Directory.Exists(Path.Combine(Root, "..", "shared", "conformance"))
        ? Path.GetFullPath(Path.Combine(Root, "..", "shared"))
        : null;

    public const string SharedMissing = "../shared not found beside the repository: skipped (CI=true makes this a failure)";

    /// <summary>
    /// True under CI (the variable CI set to "true", in any case). Tests that skip locally for want of a part
    /// (../shared, PostgreSQL, chromium) run under CI and fail loudly instead, so a CI machine cannot pass without them.
    /// </summary>
    public static bool OnCi { get; } = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Official EPCIS examples (under conformance/epcis-examples) that repeat a key in one object: AssociationEvent-h
    /// names its eventID twice (a hash and a UUID). The parser refuses duplicate keys, so these are refused on purpose.
    /// </summary>
    public static IReadOnlySet<string> ExamplesWithDuplicateKeys { get; } = new HashSet<string>(StringComparer.Ordinal) { "AssociationEvent/AssociationEvent-h.jsonld" };

    public static string SharedPath(params string[] parts) =>
        Path.Combine([Shared ?? throw new InvalidOperationException(SharedMissing), .. parts]);

    /// <summary>Files under a folder of ../shared, relative to it, sorted; empty when ../shared is absent.</summary>
    public static IEnumerable<string> SharedFiles(string folder, params string[] extensions)
    {
        if (Shared is null) return [];
        var dir = Path.Combine(Shared, folder);
        if (!Directory.Exists(dir)) return [];
        return Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Where(f => extensions.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
            .Select(f => Path.GetRelativePath(dir, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Traceability.sln"))) return dir.FullName;
        throw new InvalidOperationException("Traceability.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A fact that needs ../shared: skipped, by name, when it is absent; under CI it runs and fails.</summary>
public sealed class SharedFactAttribute : FactAttribute
{
    public SharedFactAttribute() { if (RepoPaths.Shared is null && !RepoPaths.OnCi) Skip = RepoPaths.SharedMissing; }
}

/// <summary>
/// A theory that needs ../shared: skipped, by name, when it is absent (one skipped test: its rows are the files that
/// are missing); under CI it runs and fails ("no data found").
/// </summary>
public sealed class SharedTheoryAttribute : TheoryAttribute
{
    public SharedTheoryAttribute() { if (RepoPaths.Shared is null && !RepoPaths.OnCi) Skip = RepoPaths.SharedMissing; }
}
