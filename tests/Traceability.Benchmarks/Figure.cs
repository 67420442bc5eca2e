namespace Traceability.Benchmarks;

/// <summary>One measured figure. <paramref name="Target"/> is the goal it is held to, when it has one.</summary>
public sealed record Figure(string Name, double Value, string Unit, string? Detail = null, string? Target = null, bool? MeetsTarget = null);
