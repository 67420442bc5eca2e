using Traceability.Api.Features.Capture;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Epcis;

/// <summary>
/// Keeps <c>event_times</c> in step inside the capture when that costs no more than appending: when the index holds
/// every event before this capture (projected_to is the sequence just before its first event) and none of its events is
/// earlier than the index's last time (<see cref="EventTimeIndex.AppendsInCapture"/>), its rows go at the end of the
/// index, sorted, and projected_to moves to its last event, in the capture's transaction. Events of a line come this
/// way, and the event-time queries then find them in the index at once. Otherwise (a document of older events, or
/// events still waiting for the background) they are left to <see cref="EventTimeIndex"/>, which copies them in large
/// sorted batches, so older times never spread a capture's writes over the index.
/// </summary>
public sealed class EventTimeStep : ICaptureStep
{
    private readonly List<(string Time, long Sequence)> _appended = [];

    public ValueTask BeginAsync(CaptureContext context, IReadOnlyList<ValidatedEvent> events, CancellationToken ct)
    {
        _appended.Clear();
        return ValueTask.CompletedTask;
    }

    public ValueTask ApplyAsync(CaptureContext context, AppendedEvent appended, CancellationToken ct)
    {
        _appended.Add((DbTime.Format(appended.Validated.Event.EventTime), appended.Sequence)); // as the events row stores it
        return ValueTask.CompletedTask;
    }

    public async ValueTask CompleteAsync(CaptureContext context, CancellationToken ct)
    {
        if (_appended.Count == 0) return;
        var first = _appended[0].Sequence; // appended in sequence order
        var last = _appended[^1].Sequence;
        var projectedTo = await Sql.LongAsync(context.Connection, context.Transaction, "SELECT projected_to FROM event_times_projected", ct);
        if (projectedTo != first - 1) return; // a backlog: the background copies it, and these after it
        _appended.Sort((a, b) => string.CompareOrdinal(a.Time, b.Time) is var byTime and not 0 ? byTime : a.Sequence.CompareTo(b.Sequence));
        var lastIndexed = (await Sql.ListAsync(context.Connection, context.Transaction,
            "SELECT event_time FROM event_times ORDER BY event_time DESC, sequence DESC LIMIT 1", r => r.GetString(0), ct)).FirstOrDefault();
        if (!EventTimeIndex.AppendsInCapture(projectedTo, first, lastIndexed, _appended[0].Time)) return;
        foreach (var (time, sequence) in _appended)
            await context.ExecAsync("INSERT INTO event_times (event_time, sequence) VALUES (@t, @s)", ct, ("@t", time), ("@s", sequence));
        await Sql.ExecAsync(context.Connection, context.Transaction, "UPDATE event_times_projected SET projected_to = @t", ct, ("@t", last));
    }
}
