using System.Text.RegularExpressions;

namespace Traceability.Api.Tests.Architecture;

/// <summary>
/// The feature folders of the API depend on each other without a circle (a feature is read and changed in its folder;
/// a circle would make two features one). Read from the sources: a feature uses another when it names its namespace
/// (<c>Features.X</c>) or one of its types qualified by the feature's name (<c>X.Type</c>).
/// </summary>
public sealed class FeatureDependencyTests
{
    private static readonly string Features = Path.Combine(RepoPaths.Root, "src", "Traceability.Api", "Features");

    public static Dictionary<string, HashSet<string>> Dependencies()
    {
        var features = Directory.GetDirectories(Features).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
        var uses = features.ToDictionary(f => f, _ => new HashSet<string>(StringComparer.Ordinal));
        foreach (var feature in features)
        {
            var text = string.Join('\n', Directory.EnumerateFiles(Path.Combine(Features, feature), "*.cs", SearchOption.AllDirectories).Select(File.ReadAllText));
            foreach (var other in features.Where(o => o != feature))
                if (Regex.IsMatch(text, $@"Features\.{other}\b|(?<![\w.]){other}\.[A-Z]")) uses[feature].Add(other);
        }
        return uses;
    }

    [Fact]
    public void NoFeatureDependsOnAnotherInACircle()
    {
        var uses = Dependencies();
        uses.Should().NotBeEmpty();
        var circles = new List<string>();
        foreach (var (feature, direct) in uses)
            foreach (var other in direct)
                if (Reaches(uses, other, feature, [])) circles.Add($"{feature} -> {other} -> ... -> {feature}");
        circles.Should().BeEmpty("feature folders must depend on each other without a circle");
    }

    [Fact]
    public void CaptureDependsOnNoOtherFeature()
    {
        // the capture pipeline (ICaptureStep) lives in Capture; the features that take part plug steps into it
        Dependencies()["Capture"].Should().BeEmpty();
    }

    private static bool Reaches(Dictionary<string, HashSet<string>> uses, string from, string to, HashSet<string> seen)
    {
        if (from == to) return true;
        if (!seen.Add(from)) return false;
        return uses[from].Any(next => Reaches(uses, next, to, seen));
    }
}
