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

    public const string SharedMissing = "../shared not found beside the repository: skipped";

    public static string SharedPath(params string[] parts) =>
        Path.Combine([Shared ?? throw new InvalidOperationException(SharedMissing), .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Traceability.sln"))) return dir.FullName;
        throw new InvalidOperationException("Traceability.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A fact that needs ../shared: skipped, by name, when it is absent.</summary>
public sealed class SharedFactAttribute : FactAttribute
{
    public SharedFactAttribute() { if (RepoPaths.Shared is null) Skip = RepoPaths.SharedMissing; }
}

/// <summary>A theory that needs ../shared: skipped, by name, when it is absent.</summary>
public sealed class SharedTheoryAttribute : TheoryAttribute
{
    public SharedTheoryAttribute() { if (RepoPaths.Shared is null) Skip = RepoPaths.SharedMissing; }
}
