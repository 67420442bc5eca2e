using System.Globalization;
using System.Text.Json.Nodes;

namespace Traceability.Api.Features.Epcis;

/// <summary>
/// The schedule of a scheduled query subscription, as the binding writes it: <c>second</c>, <c>minute</c>, <c>hour</c>,
/// <c>dayOfMonth</c>, <c>month</c>, <c>dayOfWeek</c> (1 Monday .. 7 Sunday), each a comma-separated list of numbers and
/// ranges (<c>[1-5]</c> or <c>1-5</c>), <c>*</c>, or a step (<c>*/10</c>, <c>0/30</c>), in UTC. An omitted <c>second</c> is
/// 0 (<c>{"hour":"1","minute":"5"}</c> runs once a day at 01:05:00); any other omitted field matches every value.
/// </summary>
public sealed class QuerySchedule
{
    private static readonly (string Name, int Min, int Max)[] Fields =
        [("second", 0, 59), ("minute", 0, 59), ("hour", 0, 23), ("dayOfMonth", 1, 31), ("month", 1, 12), ("dayOfWeek", 1, 7)];

    private readonly bool[][] _allowed;

    private QuerySchedule(bool[][] allowed, JsonObject definition)
    {
        _allowed = allowed;
        Definition = definition;
    }

    /// <summary>The schedule as given (only the fields given).</summary>
    public JsonObject Definition { get; }

    /// <summary>The schedule, or the field and what is wrong with it.</summary>
    public static QuerySchedule Parse(JsonObject schedule)
    {
        var allowed = new bool[Fields.Length][];
        foreach (var (key, _) in schedule)
            if (!Fields.Any(f => f.Name == key)) throw Invalid("schedule", $"'{key}' is not a schedule field (second, minute, hour, dayOfMonth, month, dayOfWeek).");
        for (var i = 0; i < Fields.Length; i++)
        {
            var (name, min, max) = Fields[i];
            var node = schedule[name];
            string? text = node switch
            {
                null => null,
                JsonValue v when v.TryGetValue<string>(out var s) => s,
                JsonValue v when v.TryGetValue<int>(out var n) => n.ToString(CultureInfo.InvariantCulture),
                _ => throw Invalid($"schedule.{name}", "must be a string such as \"5\", \"1,15,30\", \"[1-5]\" or \"*/10\"."),
            };
            allowed[i] = new bool[max + 1];
            if (text is null)
            {
                for (var v = name == "second" ? 0 : min; v <= (name == "second" ? 0 : max); v++) allowed[i][v] = true;
                continue;
            }
            if (text.Length is 0 or > 200) throw Invalid($"schedule.{name}", "is empty or longer than 200 characters.");
            foreach (var item in text.Split(','))
            {
                var (from, to, step) = Item(item.Trim(), min, max) ?? throw Invalid($"schedule.{name}", $"'{item}' is not a number, range or step from {min} to {max}.");
                for (var v = from; v <= to; v += step) allowed[i][v] = true;
            }
        }
        return new QuerySchedule(allowed, (JsonObject)schedule.DeepClone());
    }

    private static (int From, int To, int Step)? Item(string item, int min, int max)
    {
        var step = 1;
        var slash = item.IndexOf('/');
        if (slash >= 0)
        {
            if (!int.TryParse(item[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out step) || step < 1) return null;
            item = item[..slash];
        }
        if (item.StartsWith('[') && item.EndsWith(']')) item = item[1..^1];
        int from, to;
        if (item == "*") (from, to) = (min, max);
        else if (item.Split('-') is [var a, var b] && Number(a, out from) && Number(b, out to)) { }
        else if (Number(item, out from)) to = slash >= 0 ? max : from;
        else return null;
        return from < min || to > max || from > to ? null : (from, to, step);
    }

    private static bool Number(string s, out int n) => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out n);

    private static EpcisException Invalid(string field, string detail) =>
        new(400, "SubscriptionControlsException", "Invalid subscription", $"{field}: {detail}");

    /// <summary>The first time strictly after <paramref name="after"/> (UTC, whole seconds) the schedule matches; null when none within 5 years (e.g. 31 February).</summary>
    public DateTimeOffset? Next(DateTimeOffset after)
    {
        var t = after.UtcDateTime;
        t = new DateTime(t.Year, t.Month, t.Day, t.Hour, t.Minute, t.Second, DateTimeKind.Utc).AddSeconds(1);
        var end = t.AddYears(5);
        while (t < end)
        {
            var dow = t.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)t.DayOfWeek;
            if (!_allowed[4][t.Month]) { t = new DateTime(t.Year, t.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1); continue; }
            if (!_allowed[3][t.Day] || !_allowed[5][dow]) { t = t.Date.AddDays(1); continue; }
            if (!_allowed[2][t.Hour]) { t = t.Date.AddHours(t.Hour + 1); continue; }
            if (!_allowed[1][t.Minute]) { t = t.Date.AddHours(t.Hour).AddMinutes(t.Minute + 1); continue; }
            if (!_allowed[0][t.Second]) { t = t.AddSeconds(1); continue; }
            return new DateTimeOffset(t);
        }
        return null;
    }
}
