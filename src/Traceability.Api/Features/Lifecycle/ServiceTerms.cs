using System.Text.Json;
using Traceability.Api.Infrastructure.Errors;

namespace Traceability.Api.Features.Lifecycle;

/// <summary>
/// A product's after-sales service terms (<c>service</c> on POST /api/v1/products): an inspection every
/// <see cref="InspectionIntervalDays"/> days from installation (then from the last inspection), a pressure test every
/// <see cref="PressureTestIntervalMonths"/> months from production (then from the last repair), and a service life of
/// <see cref="ServiceLifeMonths"/> months from production.
/// </summary>
public sealed record ServiceTerms(int? InspectionIntervalDays = null, int? ServiceLifeMonths = null, int? PressureTestIntervalMonths = null)
{
    public const int MaxDays = 3650;
    public const int MaxMonths = 600;

    public static void Validate(ServiceTerms? terms, List<FieldError> errors)
    {
        if (terms is null) return;
        if (terms.InspectionIntervalDays is < 1 or > MaxDays) errors.Add(new("service.inspectionIntervalDays", $"inspectionIntervalDays is 1 to {MaxDays}."));
        if (terms.ServiceLifeMonths is < 1 or > MaxMonths) errors.Add(new("service.serviceLifeMonths", $"serviceLifeMonths is 1 to {MaxMonths}."));
        if (terms.PressureTestIntervalMonths is < 1 or > MaxMonths) errors.Add(new("service.pressureTestIntervalMonths", $"pressureTestIntervalMonths is 1 to {MaxMonths}."));
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonSerializerOptions.Web);

    public static ServiceTerms? FromJson(string? json) => json is null ? null : JsonSerializer.Deserialize<ServiceTerms>(json, JsonSerializerOptions.Web);
}

/// <summary>The dates an installed unit is due, from its terms and its record (pure; <see cref="ControlPointStep"/> stores them).</summary>
public sealed record DueDates(DateTimeOffset? Inspection, DateTimeOffset? PressureTest, DateTimeOffset? ServiceLifeEnds)
{
    public static DueDates Of(ServiceTerms? terms, DateTimeOffset installedAt, DateTimeOffset? producedAt, DateTimeOffset? lastInspection, DateTimeOffset? lastRepair)
    {
        if (terms is null) return new(null, null, null);
        var born = producedAt ?? installedAt;
        return new(
            terms.InspectionIntervalDays is { } d ? (lastInspection ?? installedAt).AddDays(d) : null,
            terms.PressureTestIntervalMonths is { } p ? (lastRepair ?? born).AddMonths(p) : null,
            terms.ServiceLifeMonths is { } m ? born.AddMonths(m) : null);
    }
}

/// <summary>Where an installed unit stands on a day: expired (past its service life), overdue, due (before the date asked), or ok.</summary>
public static class ServiceStatus
{
    public const string Expired = "expired";
    public const string Overdue = "overdue";
    public const string Due = "due";
    public const string Ok = "ok";

    /// <summary>The status and the date that decides it (the earliest due date, or the end of service life when expired).</summary>
    public static (string Status, DateTimeOffset? DueDate, string? Kind) Of(DueDates d, DateTimeOffset now, DateTimeOffset before)
    {
        if (d.ServiceLifeEnds is { } end && end <= now) return (Expired, end, "service-life");
        var next = new[] { (d.Inspection, "inspection"), (d.PressureTest, "pressure-test") }.Where(x => x.Item1 is not null).OrderBy(x => x.Item1).FirstOrDefault();
        if (next.Item1 is { } due)
        {
            if (due <= now) return (Overdue, due, next.Item2);
            if (due <= before) return (Due, due, next.Item2);
            return (Ok, due, next.Item2);
        }
        if (d.ServiceLifeEnds is { } ends && ends <= before) return (Due, ends, "service-life");
        return (Ok, d.ServiceLifeEnds, d.ServiceLifeEnds is null ? null : "service-life");
    }
}
