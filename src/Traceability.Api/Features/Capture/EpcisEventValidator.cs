using System.Text.RegularExpressions;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Validation;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Capture;

/// <summary>
/// The capture rules on each event, beyond what the parser already refuses: the constraints of the EPCIS 2.0 JSON schema
/// that the typed model does not enforce by itself, the CBV vocabularies, EPC syntax, and a document-supplied
/// <c>ni:</c> eventID that must equal the computed CBV 2.0 hash. Every failure names the event's index and the field.
/// </summary>
public static partial class EpcisEventValidator
{
    [GeneratedRegex(@"^[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00)\z")]
    private static partial Regex TimeZoneOffset();

    /// <summary>Documents of at least this many events are checked on several cores.</summary>
    public const int ParallelFrom = 16;

    /// <summary>Documents of two events or more that name at least this many EPCs together are checked on several cores too.</summary>
    public const int ParallelFromEpcs = 1_000;

    /// <summary>
    /// Whether the events are worth spreading over the cores: many events, or few that each name many EPCs (a recall's
    /// ten events of 10,000 EPCs each). One event is always checked on the calling thread.
    /// </summary>
    public static bool CheckedInParallel(IReadOnlyCollection<EpcisEvent> events)
    {
        if (events.Count >= ParallelFrom) return true;
        if (events.Count < 2) return false;
        var epcs = 0;
        foreach (var e in events)
            if ((epcs += e.EpcList.Count + e.ChildEpcs.Count + e.InputEpcList.Count + e.OutputEpcList.Count) >= ParallelFromEpcs) return true;
        return false;
    }

    public static IReadOnlyList<ValidatedEvent> ValidateAll(IReadOnlyList<EpcisEvent> events, bool strictEventIds = false)
    {
        var (results, errors) = Check(events.Select((e, i) => (i, e)).ToList(), strictEventIds);
        if (errors.Count > 0) throw Rejection(errors, events.Count);
        return results;
    }

    /// <summary>Validates (index, event) pairs; returns the valid ones (by position in the input) and every error.</summary>
    public static (ValidatedEvent[] Valid, List<FieldError> Errors) Check(IReadOnlyList<(int Index, EpcisEvent Event)> events, bool strictEventIds = false)
    {
        var results = new ValidatedEvent[events.Count];
        var errors = new System.Collections.Concurrent.ConcurrentBag<FieldError>();
        void CheckOne(int i)
        {
            var local = new List<FieldError>();
            var v = Validate(events[i].Index, events[i].Event, local, strictEventIds);
            foreach (var e in local) errors.Add(e);
            if (v is not null) results[i] = v;
        }

        // Hashing and serialising are the CPU work of a capture: a large document spreads them over the cores. A small one
        // (a scan group, a single event: tens of microseconds) is checked on the request's thread; Parallel.For would
        // wake a second worker for it.
        if (!CheckedInParallel(events.Select(e => e.Event).ToList()))
            for (var i = 0; i < events.Count; i++) CheckOne(i);
        else
            Parallel.For(0, events.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, CheckOne);
        return (results, errors.OrderBy(e => e.Index).ThenBy(e => e.Field, StringComparer.Ordinal).ToList());
    }

    public static RequestValidationException Rejection(IReadOnlyList<FieldError> errors, int eventCount)
    {
        var bad = errors.Select(e => e.Index).Distinct().Count();
        return new RequestValidationException($"{bad} of {eventCount} events are invalid; nothing was stored", errors, unprocessable: true);
    }

    private static ValidatedEvent? Validate(int index, EpcisEvent e, List<FieldError> errors, bool strictEventIds)
    {
        void Fail(string field, string message) => errors.Add(new FieldError(field, message, index));

        if (e.Type is not ("ObjectEvent" or "AggregationEvent" or "TransactionEvent" or "TransformationEvent" or "AssociationEvent"))
            Fail("type", $"'{e.Type}' is not an EPCIS 2.0 event type.");
        if (!HasExplicitOffset(e.EventTimeText))
            Fail("eventTime", $"'{e.EventTimeText}' has no time zone: an eventTime ends with Z or an offset (+HH:MM / -HH:MM).");
        if (!TimeZoneOffset().IsMatch(e.EventTimeZoneOffset ?? ""))
            Fail("eventTimeZoneOffset", $"'{e.EventTimeZoneOffset}' is not an offset of the form +HH:MM or -HH:MM.");

        if (e.Type == "TransformationEvent")
        {
            if (e.Action is not null) Fail("action", "A TransformationEvent has no action.");
        }
        else if (e.Action is not ("ADD" or "OBSERVE" or "DELETE"))
            Fail("action", e.Action is null ? "action is required (ADD, OBSERVE or DELETE)." : $"'{e.Action}' is not ADD, OBSERVE or DELETE.");

        // The "required" and "anyOf" clauses of the EPCIS 2.0 JSON schema, per type.
        switch (e.Type)
        {
            case "ObjectEvent" when e.EpcList.Count == 0 && e.QuantityList.Count == 0 && (e.SensorElements.Count == 0 || e.ReadPoint is null):
                Fail("epcList", "An ObjectEvent names EPCs (epcList), quantities (quantityList), or sensor data (sensorElementList) with a readPoint.");
                break;
            case "AggregationEvent" when e.Action is "ADD" or "DELETE" && e.ParentId is null:
                Fail("parentID", $"An AggregationEvent with action {e.Action} needs parentID.");
                break;
            case "AssociationEvent" when e.ParentId is null:
                Fail("parentID", "An AssociationEvent needs parentID.");
                break;
            case "TransactionEvent" when e.BizTransactions.Count == 0:
                Fail("bizTransactionList", "A TransactionEvent needs at least one bizTransaction.");
                break;
            case "TransformationEvent":
                var noInputs = e.InputEpcList.Count + e.InputQuantityList.Count == 0;
                var noOutputs = e.OutputEpcList.Count + e.OutputQuantityList.Count == 0;
                if (e.TransformationId is null ? noInputs || noOutputs : noInputs && noOutputs)
                    Fail("inputEPCList", "A TransformationEvent names inputs and outputs, or a transformationID with inputs or outputs.");
                break;
        }

        if (e.QuantityList.Count + e.ChildQuantityList.Count + e.InputQuantityList.Count + e.OutputQuantityList.Count > 0)
            foreach (var (field, list) in new[] { ("quantityList", e.QuantityList), ("childQuantityList", e.ChildQuantityList),
                         ("inputQuantityList", e.InputQuantityList), ("outputQuantityList", e.OutputQuantityList) })
                foreach (var q in list)
                    if (QuantityProblem(q.Quantity) is { } problem) Fail($"{field}.quantity", $"{q.EpcClass}: {problem}");

        // Every event is checked: look for a long value without building anything, and name it only when there is one.
        if (AnyLong(e.Extensions) || AnyLong(e.IlmdElements) || AnyLong(e.ErrorDeclaration?.Extensions ?? []) || e.SensorElements.Any(se => AnyLong(se.Extensions)))
        {
            var extensions = e.Extensions.Concat(e.IlmdElements).Concat(e.ErrorDeclaration?.Extensions ?? [])
                .Concat(e.SensorElements.SelectMany(se => se.Extensions));
            if (LongExtensionValue(extensions) is { } tooLong)
                Fail(tooLong.Name, $"the value of {tooLong.Name} is {tooLong.Value.Length} characters long; at most {TextLimits.ExtensionValue} are accepted.");
        }

        if (CbvVocabularyCheck.Check(e.BizStep, "BizStep-", CbvVocabulary.BizSteps, "business step") is { } bizStepError) Fail("bizStep", bizStepError);
        if (CbvVocabularyCheck.Check(e.Disposition, "Disp-", CbvVocabulary.Dispositions, "disposition") is { } dispError) Fail("disposition", dispError);
        foreach (var t in e.BizTransactions)
            if (CbvVocabularyCheck.Check(t.Type, "BTT-", CbvVocabulary.BizTransactionTypes, "business transaction type") is { } m) Fail("bizTransactionList.type", m);
        foreach (var t in e.Sources.Concat(e.Destinations))
            if (CbvVocabularyCheck.Check(t.Type, "SDT-", CbvVocabulary.SourceDestinationTypes, "source/destination type") is { } m) Fail("sourceList.type", m);

        var identifiers = new List<(string, string)>();
        void Ids(IEnumerable<string> values, string field, string role)
        {
            foreach (var value in values)
            {
                if (Gs1Identifiers.TryCanonicalId(value, out var canonical, out var problem)) identifiers.Add((canonical, role));
                else Fail(field, problem!);
            }
        }
        Ids(e.EpcList, "epcList", EpcRoles.Epc);
        if (e.ParentId is not null) Ids([e.ParentId], "parentID", EpcRoles.Parent);
        Ids(e.ChildEpcs, "childEPCs", EpcRoles.Child);
        Ids(e.InputEpcList, "inputEPCList", EpcRoles.Input);
        Ids(e.OutputEpcList, "outputEPCList", EpcRoles.Output);
        Ids(e.QuantityList.Concat(e.ChildQuantityList).Concat(e.InputQuantityList).Concat(e.OutputQuantityList).Select(q => q.EpcClass), "quantityList.epcClass", EpcRoles.Class);
        if (e.ReadPoint is not null && !Gs1Identifiers.TryCanonicalId(e.ReadPoint, out _, out var rpProblem)) Fail("readPoint.id", rpProblem!);
        if (e.BizLocation is not null && !Gs1Identifiers.TryCanonicalId(e.BizLocation, out _, out var blProblem)) Fail("bizLocation.id", blProblem!);

        string hash;
        try { hash = EventHash.Compute(e); }
        catch (Exception ex) when (ex is FormatException or EpcisFormatException or ArgumentException)
        {
            Fail("event", $"The CBV 2.0 event hash cannot be computed: {ex.Message}");
            return null;
        }
        string? warning = null;
        if (e.EventId is { } id && id.StartsWith("ni:", StringComparison.OrdinalIgnoreCase) && !SameHash(id, hash))
        {
            var message = $"eventID '{id}' disagrees with the event's CBV 2.0 hash '{hash}'.";
            if (strictEventIds) Fail("eventID", message);
            else warning = message + " The event keeps its eventID; the ledger identifies it by the computed hash.";
        }

        return errors.Count > 0 ? null : new ValidatedEvent(index, e, hash, EpcisJsonLd.WriteEvent(e), identifiers) { Warning = warning };
    }

    /// <summary>Whether any extension field (at any depth; the parser bounds the depth) is longer than <see cref="TextLimits.ExtensionValue"/>.</summary>
    private static bool AnyLong(IReadOnlyList<EpcisExtension> extensions)
    {
        foreach (var x in extensions)
            if (x.Value.Length > TextLimits.ExtensionValue || (x.Children.Count > 0 && AnyLong(x.Children))) return true;
        return false;
    }

    /// <summary>The first extension field (at any depth) whose text is longer than <see cref="TextLimits.ExtensionValue"/>, or null.</summary>
    private static EpcisExtension? LongExtensionValue(IEnumerable<EpcisExtension> extensions)
    {
        var stack = new Stack<EpcisExtension>(extensions);
        while (stack.Count > 0)
        {
            var x = stack.Pop();
            if (x.Value.Length > TextLimits.ExtensionValue) return x;
            foreach (var c in x.Children) stack.Push(c);
        }
        return null;
    }

    /// <summary>An xsd:dateTimeStamp carries its zone: Z, or ±hh:mm after the time (a time without one is ambiguous).</summary>
    public static bool HasExplicitOffset(string? time)
    {
        var s = (time ?? "").AsSpan().Trim();
        if (s.Length < 17) return false;
        if (s[^1] is 'Z' or 'z') return true;
        return s.Length >= 6 && s[^6] is '+' or '-' && char.IsAsciiDigit(s[^5]) && char.IsAsciiDigit(s[^4]) && s[^3] == ':'
            && char.IsAsciiDigit(s[^2]) && char.IsAsciiDigit(s[^1]);
    }

    /// <summary>Why a quantity is refused (not a finite number, or negative), or null; an absent quantity is allowed.</summary>
    public static string? QuantityProblem(string? quantity)
    {
        if (quantity is null) return null;
        if (!decimal.TryParse(quantity, System.Globalization.NumberStyles.AllowLeadingSign | System.Globalization.NumberStyles.AllowDecimalPoint | System.Globalization.NumberStyles.AllowExponent,
                System.Globalization.CultureInfo.InvariantCulture, out var q))
            return $"quantity '{quantity}' is not a number.";
        return q < 0 ? $"quantity {quantity} is negative." : null;
    }



    private static bool SameHash(string supplied, string computed)
    {
        try { return EventHash.Digest(supplied).AsSpan().SequenceEqual(EventHash.Digest(computed)); }
        catch (FormatException) { return false; }
    }
}
