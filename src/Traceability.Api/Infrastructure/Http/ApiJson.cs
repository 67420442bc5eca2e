using System.Text.Json;
using System.Text.Json.Serialization;

namespace Traceability.Api.Infrastructure.Http;

/// <summary>How the API reads and writes JSON bodies (set on ASP.NET Core's options at start-up; clients such as the tests read answers with the same).</summary>
public static class ApiJson
{
    public static void Configure(JsonSerializerOptions o)
    {
        o.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        o.AllowDuplicateProperties = false; // a request naming a field twice is refused (400), not read by its last value
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
    }

    /// <summary>ASP.NET Core's defaults for the web (camelCase names) with <see cref="Configure"/> applied.</summary>
    public static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Configure(o);
        return o;
    }
}
