using System.Globalization;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Epcis;

/// <summary>An EPCIS exception of the REST binding: its <c>type</c> is <c>epcisException:{Name}</c>.</summary>
public sealed class EpcisException(int status, string name, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string Name { get; } = name;
    public string Title { get; } = title;

    public static EpcisException QueryParameter(string parameter, string detail) =>
        new(400, "QueryParameterException", "Invalid query parameter", $"{parameter}: {detail}");

    public static EpcisException NoSuchResource(string detail) => new(404, "NoSuchResourceException", "Resource not found", detail);
}

/// <summary>The field a query orders by: the ledger sequence when the query names none.</summary>
public enum EpcisOrder { Sequence, EventTime, RecordTime }

/// <summary>
/// EPC patterns of the query language, as conditions on event_epcs.epc (canonical Digital Link for GS1 keys, other URIs
/// as given): the values equal to one of <see cref="Exact"/>, or starting with one of <see cref="Prefixes"/>.
/// </summary>
public sealed record EpcMatch(IReadOnlyList<string> Exact, IReadOnlyList<string> Prefixes);

/// <summary>A parsed GET /epcis/events query (the binding's SimpleEventQuery parameters this repository answers).</summary>
public sealed record EpcisQuery
{
    public IReadOnlyList<string>? EventTypes { get; init; }
    public string? GeEventTime { get; init; }
    public string? LtEventTime { get; init; }
    public string? GeRecordTime { get; init; }
    public string? LtRecordTime { get; init; }
    public IReadOnlyList<string>? Actions { get; init; }
    public IReadOnlyList<string>? BizSteps { get; init; }
    public IReadOnlyList<string>? Dispositions { get; init; }
    public IReadOnlyList<string>? ReadPoints { get; init; }
    public IReadOnlyList<string>? BizLocations { get; init; }
    public IReadOnlyList<string>? EventIds { get; init; }

    /// <summary>MATCH_* parameters: which event_epcs roles, and the patterns (all parameters given must match: AND).</summary>
    public IReadOnlyList<(IReadOnlyList<string> Roles, bool NotTransformation, EpcMatch Match)> EpcMatches { get; init; } = [];

    public EpcisOrder OrderBy { get; init; }
    public bool Descending { get; init; }
    public int? EventCountLimit { get; init; }
    public int PerPage { get; init; } = EpcisQueryParameters.DefaultPerPage;
    public string? NextPageToken { get; init; }

    /// <summary>Not a parameter: a subscription's delivery reads up to the last event there was when it started.</summary>
    public long? MaxSequence { get; init; }

    /// <summary>The filter parameters as given, in a stable order: what a page token is bound to.</summary>
    public string Fingerprint { get; init; } = "";
}

/// <summary>
/// Reads the query string of GET /epcis/events into an <see cref="EpcisQuery"/>, refusing (QueryParameterException) an
/// unknown parameter, one this repository does not support, or a bad value, naming the parameter. Multi-valued
/// parameters are pipe-delimited (<c>EQ_bizStep=shipping|receiving</c>), as the binding's OpenAPI says, or repeated.
/// </summary>
public static class EpcisQueryParameters
{
    public const int DefaultPerPage = 30;
    public const int MaxPerPage = 1000;
    public const int MaxValues = 100;

    /// <summary>The parameters answered, as OPTIONS and the docs list them.</summary>
    public static readonly IReadOnlyList<string> Supported =
    [
        "eventType", "GE_eventTime", "LT_eventTime", "GE_recordTime", "LT_recordTime", "EQ_action", "EQ_bizStep", "EQ_disposition",
        "EQ_readPoint", "WD_readPoint", "EQ_bizLocation", "WD_bizLocation", "MATCH_epc", "MATCH_parentID", "MATCH_inputEPC",
        "MATCH_outputEPC", "MATCH_anyEPC", "MATCH_epcClass", "MATCH_anyEPCClass", "EQ_eventID", "orderBy", "orderDirection",
        "eventCountLimit", "perPage", "nextPageToken",
    ];

    /// <summary>Parameters of the binding this repository does not answer: refused by name rather than ignored.</summary>
    private static readonly HashSet<string> KnownUnsupported = new(StringComparer.Ordinal)
    {
        "EQ_persistentDisposition_set", "EQ_persistentDisposition_unset", "EQ_transformationID", "MATCH_inputEPCClass", "MATCH_outputEPCClass",
        "EQ_quantity", "GT_quantity", "GE_quantity", "LT_quantity", "LE_quantity", "EXISTS_errorDeclaration", "GE_errorDeclarationTime",
        "LT_errorDeclarationTime", "EQ_errorReason", "EQ_correctiveEventID", "maxEventCount", "GE_startTime", "LT_startTime", "GE_endTime",
        "LT_endTime", "EQ_type", "EQ_deviceID", "EQ_dataProcessingMethod", "EQ_microorganism", "EQ_chemicalSubstance", "EQ_bizRules",
        "EQ_stringValue", "EQ_hexBinaryValue", "EQ_uriValue", "EQ_booleanValue",
    };

    private static readonly HashSet<string> EventTypeNames = new(StringComparer.Ordinal)
    {
        "ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent",
    };

    private static readonly string[] AnyEpcRoles = [EpcRoles.Epc, EpcRoles.Child, EpcRoles.Parent, EpcRoles.Input, EpcRoles.Output];

    public static EpcisQuery Parse(IEnumerable<KeyValuePair<string, string[]>> parameters)
    {
        var all = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (name, values) in parameters)
        {
            if (!Supported.Contains(name))
            {
                throw KnownUnsupported.Contains(name)
                    ? EpcisException.QueryParameter(name, "this repository does not support this parameter.")
                    : EpcisException.QueryParameter(name, $"unknown parameter; the parameters answered are {string.Join(", ", Supported)}.");
            }
            all[name] = values.ToList();
        }

        string? Single(string name)
        {
            if (!all.TryGetValue(name, out var v)) return null;
            if (v.Count != 1 || v[0].Length == 0) throw EpcisException.QueryParameter(name, "give exactly one non-empty value.");
            return v[0];
        }
        IReadOnlyList<string>? Many(string name)
        {
            if (!all.TryGetValue(name, out var v)) return null;
            var items = v.SelectMany(x => x.Split('|')).Select(x => x.Trim()).ToList();
            if (items.Count == 0 || items.Any(x => x.Length == 0)) throw EpcisException.QueryParameter(name, "a value is empty.");
            if (items.Count > MaxValues) throw EpcisException.QueryParameter(name, $"at most {MaxValues} values.");
            return items.Distinct(StringComparer.Ordinal).ToList();
        }
        string? Time(string name)
        {
            var v = Single(name)?.Replace(' ', '+'); // an offset's '+' sent unencoded arrives as a space
            if (v is null) return null;
            if (v.Length < 20 || v[10] != 'T' || !DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t))
                throw EpcisException.QueryParameter(name, $"'{v}' is not a date-time (RFC 3339, e.g. 2026-11-01T08:00:00Z or 2026-11-01T08:00:00.000+08:00).");
            return DbTime.Format(t);
        }
        int? Integer(string name, int min, int max)
        {
            var v = Single(name);
            if (v is null) return null;
            if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < min || n > max)
                throw EpcisException.QueryParameter(name, $"'{v}' is not an integer from {min} to {max}.");
            return n;
        }

        var types = Many("eventType");
        foreach (var t in types ?? [])
            if (!EventTypeNames.Contains(t)) throw EpcisException.QueryParameter("eventType", $"'{t}' is not an EPCIS 2.0 event type.");
        var actions = Many("EQ_action");
        foreach (var a in actions ?? [])
            if (a is not ("ADD" or "OBSERVE" or "DELETE")) throw EpcisException.QueryParameter("EQ_action", $"'{a}' is not ADD, OBSERVE or DELETE.");

        var orderText = Single("orderBy");
        var order = orderText switch
        {
            null => EpcisOrder.Sequence,
            "eventTime" => EpcisOrder.EventTime,
            "recordTime" => EpcisOrder.RecordTime,
            _ => throw EpcisException.QueryParameter("orderBy", $"'{orderText}' cannot be ordered by here; use eventTime or recordTime."),
        };
        var direction = Single("orderDirection");
        if (direction is not (null or "ASC" or "DESC")) throw EpcisException.QueryParameter("orderDirection", $"'{direction}' is not ASC or DESC.");
        var limit = Integer("eventCountLimit", 1, int.MaxValue);
        if (limit is not null && orderText is null) throw EpcisException.QueryParameter("eventCountLimit", "needs orderBy (the first N events in which order?).");

        var geEvent = Time("GE_eventTime");
        var ltEvent = Time("LT_eventTime");
        var geRecord = Time("GE_recordTime");
        var ltRecord = Time("LT_recordTime");
        // No order asked for: any order may be answered; a time window is answered in its own order, from its index.
        if (orderText is null && (geEvent ?? ltEvent) is not null) order = EpcisOrder.EventTime;
        else if (orderText is null && (geRecord ?? ltRecord) is not null) order = EpcisOrder.RecordTime;

        var matches = new List<(IReadOnlyList<string>, bool, EpcMatch)>();
        void Match(string name, string[] roles, bool notTransformation = false)
        {
            if (Many(name) is { } patterns) matches.Add((roles, notTransformation, Patterns(name, patterns)));
        }
        Match("MATCH_epc", [EpcRoles.Epc, EpcRoles.Child]);
        Match("MATCH_parentID", [EpcRoles.Parent]);
        Match("MATCH_inputEPC", [EpcRoles.Input]);
        Match("MATCH_outputEPC", [EpcRoles.Output]);
        Match("MATCH_anyEPC", AnyEpcRoles);
        // event_epcs has one "class" role for every quantity list; a TransformationEvent's are its input and output lists
        Match("MATCH_epcClass", [EpcRoles.Class], notTransformation: true);
        Match("MATCH_anyEPCClass", [EpcRoles.Class]);

        var fingerprint = string.Join("&", all.Where(p => p.Key is not ("perPage" or "nextPageToken"))
            .Select(p => p.Key + "=" + string.Join("|", p.Value)));

        return new EpcisQuery
        {
            EventTypes = types,
            GeEventTime = geEvent,
            LtEventTime = ltEvent,
            GeRecordTime = geRecord,
            LtRecordTime = ltRecord,
            Actions = actions,
            BizSteps = Many("EQ_bizStep")?.Select(CbvVocabulary.ExpandBizStep).ToList(),
            Dispositions = Many("EQ_disposition")?.Select(CbvVocabulary.ExpandDisposition).ToList(),
            ReadPoints = Locations(Many("EQ_readPoint"), Many("WD_readPoint")),
            BizLocations = Locations(Many("EQ_bizLocation"), Many("WD_bizLocation")),
            EventIds = Many("EQ_eventID"),
            EpcMatches = matches,
            OrderBy = order,
            Descending = orderText is not null && direction != "ASC", // the binding's default direction is DESC
            EventCountLimit = limit,
            PerPage = Integer("perPage", 1, MaxPerPage) ?? DefaultPerPage,
            NextPageToken = Single("nextPageToken"),
            Fingerprint = fingerprint,
        };
    }

    /// <summary>
    /// EQ_ and WD_ of a location: the values as given and as canonical Digital Links (events keep the form they were
    /// captured in). The repository holds no location hierarchy (master data), so "with descendants" is the location itself.
    /// </summary>
    private static IReadOnlyList<string>? Locations(IReadOnlyList<string>? eq, IReadOnlyList<string>? wd)
    {
        if (eq is null && wd is null) return null;
        var set = new List<string>();
        foreach (var v in (eq ?? []).Concat(wd ?? []))
        {
            set.Add(v);
            if (Gs1Identifiers.TryToCanonicalDigitalLink(v, out var dl)) set.Add(dl);
        }
        return set.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The pattern forms of the query language (EPCIS 2.0 section 8.2.7.1.1) and their Digital Link equivalents:
    /// <list type="bullet">
    /// <item>an EPC URN or GS1 Digital Link: that identifier (EPC URNs and Digital Links name the same EPC);</item>
    /// <item><c>urn:epc:idpat:sgtin:CP.ITEM.*</c>: every serial (and, for classes, every lot) of that GTIN;</item>
    /// <item><c>urn:epc:idpat:sgtin:CP.*.*</c>: every GTIN of that company prefix; <c>urn:epc:idpat:sscc:CP.*</c> likewise;</item>
    /// <item>a Digital Link ending in <c>/*</c> (<c>https://id.gs1.org/01/{gtin}/21/*</c>, <c>.../01/{gtin}/10/*</c>): that prefix;</item>
    /// <item>another <c>urn:epc:idpat:scheme:A.B.*</c>: the <c>urn:epc:id:scheme:A.B.</c> URNs stored as they were captured.</item>
    /// </list>
    /// </summary>
    public static EpcMatch Patterns(string parameter, IReadOnlyList<string> patterns)
    {
        var exact = new List<string>();
        var prefixes = new List<string>();
        foreach (var p in patterns)
        {
            if (p.StartsWith("urn:epc:idpat:", StringComparison.Ordinal))
            {
                if (!IdPattern(p, prefixes)) throw EpcisException.QueryParameter(parameter, $"'{p}' is not an EPC pattern this repository can match.");
                continue;
            }
            if (p.EndsWith("/*", StringComparison.Ordinal) && p.StartsWith("http", StringComparison.Ordinal))
            {
                var head = p[..^2];
                // the prefix as a canonical Digital Link: the host and the key as the hash algorithm writes them
                if (TryCanonicalPrefix(head, out var prefix)) prefixes.Add(prefix);
                else if (Gs1Identifiers.TryToCanonicalDigitalLink(head, out var canonicalHead)) prefixes.Add(canonicalHead + "/");
                else throw EpcisException.QueryParameter(parameter, $"'{p}' is not a GS1 Digital Link pattern this repository can match.");
                continue;
            }
            if (p.Contains('*', StringComparison.Ordinal))
                throw EpcisException.QueryParameter(parameter, $"'{p}': '*' stands only for a whole serial, item reference or lot (urn:epc:idpat:..., or a Digital Link ending in /*).");
            if (!Uri.TryCreate(p, UriKind.Absolute, out _)) throw EpcisException.QueryParameter(parameter, $"'{p}' is not a URI.");
            exact.Add(Gs1Identifiers.TryToCanonicalDigitalLink(p, out var dl) ? dl : p);
        }
        return new EpcMatch(exact.Distinct(StringComparer.Ordinal).ToList(), prefixes.Distinct(StringComparer.Ordinal).ToList());
    }

    /// <summary>
    /// A GTIN Digital Link pattern (<c>https://example.com/01/09521234543213/21/*</c> comes here without its last
    /// segment): the canonical host and 14-digit GTIN, then /21/ or /10/.
    /// </summary>
    private static bool TryCanonicalPrefix(string head, out string prefix)
    {
        prefix = "";
        var i = head.IndexOf("/01/", StringComparison.Ordinal);
        if (i < 0) return false;
        var rest = head[(i + 4)..].Split('/');
        if (rest[0].Length is not (8 or 12 or 13 or 14) || !rest[0].All(char.IsAsciiDigit)) return false;
        var gtin = rest[0].PadLeft(14, '0');
        prefix = "https://id.gs1.org/01/" + gtin + "/" + string.Join("/", rest.Skip(1)) + (rest.Length > 1 ? "/" : "");
        return rest.Length <= 2 && (rest.Length == 1 || rest[1] is "21" or "10");
    }

    private static bool IdPattern(string p, List<string> prefixes)
    {
        var body = p["urn:epc:idpat:".Length..];
        var colon = body.IndexOf(':');
        if (colon <= 0) return false;
        var scheme = body[..colon];
        var parts = body[(colon + 1)..].Split('.');
        var stars = parts.Reverse().TakeWhile(x => x == "*").Count();
        if (stars == 0 || parts.Take(parts.Length - stars).Any(x => x.Length == 0 || x.Contains('*', StringComparison.Ordinal))) return false;
        var fixedParts = parts.Take(parts.Length - stars).ToArray();

        if (scheme == "sgtin" && parts.Length == 3 && fixedParts.Length >= 1 && fixedParts.All(x => x.All(char.IsAsciiDigit)))
        {
            var cp = fixedParts[0];
            if (fixedParts.Length == 2)
            {
                // indicator digit + company prefix + item reference: a whole GTIN (the check digit computed)
                var item = fixedParts[1];
                if (cp.Length + item.Length != 13 || item.Length < 1) return false;
                var gtin13 = item[0] + cp + item[1..];
                prefixes.Add($"https://id.gs1.org/01/{gtin13}{Gs1Identifiers.CheckDigit(gtin13)}");
            }
            else
            {
                if (cp.Length is < 6 or > 12) return false;
                for (var indicator = '0'; indicator <= '9'; indicator++) prefixes.Add($"https://id.gs1.org/01/{indicator}{cp}");
            }
            prefixes.Add($"urn:epc:id:sgtin:{string.Join(".", fixedParts)}.");
            return true;
        }
        if (scheme == "sscc" && parts.Length == 2 && fixedParts.Length == 1 && fixedParts[0].All(char.IsAsciiDigit) && fixedParts[0].Length is >= 6 and <= 12)
        {
            for (var extension = '0'; extension <= '9'; extension++) prefixes.Add($"https://id.gs1.org/00/{extension}{fixedParts[0]}");
            prefixes.Add($"urn:epc:id:sscc:{fixedParts[0]}.");
            return true;
        }
        if (scheme is "sgtin" or "sscc") return false;
        // other schemes: the URNs as captured (GS1 keys are stored as Digital Links, so this finds only non-GS1 schemes)
        prefixes.Add($"urn:epc:id:{scheme}:{string.Join(".", fixedParts)}.");
        return true;
    }
}
