using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Traceability.Api.Tests.Support;
using Xunit.Abstractions;

namespace Traceability.Api.Tests.Hostile;

/// <summary>
/// Bad inputs as data (Hostile/corpus.jsonl, one case a line: the request — method, path, the caller's role, headers,
/// a body or the name of a generator for huge ones — and the status expected), sent over HTTP to the real service.
/// Every answer has the expected status; every 4xx is a ProblemDetails (but the consumer page of an unknown code, which
/// is the consumer's own answer); a refused request leaves every table's row count as it was (no partial write).
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class HostileCorpusTests(ChainFixture chain, HostileWorld world, ITestOutputHelper output) : IClassFixture<HostileWorld>
{
    public static string CorpusPath => Path.Combine(AppContext.BaseDirectory, "Hostile", "corpus.jsonl");

    public static IReadOnlyList<JsonObject> Corpus { get; } = File.ReadLines(CorpusPath)
        .Where(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith("//", StringComparison.Ordinal))
        .Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    public static IEnumerable<object[]> Cases() => Corpus.Select(c => new object[] { (string)c["name"]! });

    [Fact]
    public void TheCorpusHoldsAtLeast200UniquelyNamedCases()
    {
        Corpus.Count.Should().BeGreaterThanOrEqualTo(200);
        Corpus.Select(c => (string)c["name"]!).Should().OnlyHaveUniqueItems();
        Corpus.Should().OnlyContain(c => c["expect"] != null && (int)c["expect"]! >= 200 && (int)c["expect"]! < 500);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task AnswersAsExpected(string name)
    {
        var c = Corpus.Single(x => (string)x["name"]! == name);
        await world.StartAsync(chain);
        var expected = (int)c["expect"]!;
        var before = world.Counts();

        using var request = Build(c);
        var watch = Stopwatch.StartNew();
        using var response = await world.Clients[(string?)c["as"] ?? "anonymous"].SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        output.WriteLine($"{(int)response.StatusCode} in {watch.ElapsedMilliseconds} ms: {(body.Length > 2000 ? body[..2000] + "…" : body)}");

        ((int)response.StatusCode).Should().Be(expected, body.Length > 1000 ? body[..1000] : body);
        if ((string?)c["answer"] == "consumer-unknown")
        {
            // the consumer side answers an unknown code with its own page (HTML, or its JSON): "unknown, possibly counterfeit"
            if (response.Content.Headers.ContentType?.MediaType == "application/json") ((bool)JsonNode.Parse(body)!["known"]!).Should().BeFalse();
            else response.Content.Headers.ContentType?.MediaType.Should().Be("text/html");
            world.Counts().Should().Be(before);
        }
        else if (expected >= 400)
        {
            response.Content.Headers.ContentType?.MediaType.Should().Be("application/problem+json");
            var problem = JsonNode.Parse(body)!;
            ((int)problem["status"]!).Should().Be(expected);
            ((string?)problem["title"]).Should().NotBeNullOrEmpty();
            if (c["mentions"] is JsonValue mention) body.Should().Contain((string)mention!);
            world.Counts().Should().Be(before, "a refused request writes nothing");
        }
    }

    /// <summary>Generated documents per run: 10,000 (about 55 s here, 2 cores shared), or TRACE_HOSTILE_DOCUMENTS.</summary>
    public static int GeneratedDocuments =>
        int.TryParse(Environment.GetEnvironmentVariable("TRACE_HOSTILE_DOCUMENTS"), out var n) && n > 0 ? n : 10_000;

    [Fact]
    public async Task GeneratedDocumentsNeverGetA5xxNorWriteHalfADocument()
    {
        await world.StartAsync(chain);
        var client = world.Clients["manufacturer"];
        var statuses = new SortedDictionary<int, int>();
        var watch = Stopwatch.StartNew();
        for (var seed = 0; seed < GeneratedDocuments; seed++)
        {
            var (body, type) = Mutations.Make(seed, world.Values["EPC"]);
            var before = world.EventCount();
            using var content = new StringContent(body, new UTF8Encoding(false));
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
            using var response = await client.PostAsync("/api/v1/capture", content);
            var answer = await response.Content.ReadAsStringAsync();
            var status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            var because = $"seed {seed}: {(body.Length > 300 ? body[..300] + "…" : body)} → {(answer.Length > 500 ? answer[..500] : answer)}";

            status.Should().BeLessThan(500, because);
            var after = world.EventCount();
            if (status == 201)
            {
                var receipts = JsonNode.Parse(answer)!["receipts"]!.AsArray();
                var appended = receipts.Select(r => (long)r!["sequence"]!).Where(s => s > before).Distinct().Count();
                (after - before).Should().Be(appended, because);
            }
            else
            {
                after.Should().Be(before, "a refused document stores nothing: " + because);
                response.Content.Headers.ContentType?.MediaType.Should().Be("application/problem+json", because);
            }
        }
        output.WriteLine($"{GeneratedDocuments} documents in {watch.Elapsed.TotalSeconds:F1} s: {string.Join(", ", statuses.Select(s => $"{s.Value} × {s.Key}"))}");
        statuses.Keys.Should().Contain([201, 400, 422], "the mutations reach the parser, the validator and the store");
    }

    private HttpRequestMessage Build(JsonObject c)
    {
        var hasBody = c["json"] is not null || c["body"] is not null || c["event"] is not null || c["generate"] is not null || c["base64"] is not null;
        var method = new HttpMethod((string?)c["method"] ?? (hasBody ? "POST" : "GET"));
        var path = world.Fill((string?)c["path"] ?? "/api/v1/capture");
        var request = new HttpRequestMessage(method, path);
        var contentType = (string?)c["contentType"];
        HttpContent? content = null;
        if (c["json"] is { } json)
            content = Text(world.Fill(json.ToJsonString()), contentType ?? "application/json");
        else if (c["body"] is { } raw)
            content = Text(world.Fill((string)raw!), contentType ?? "application/ld+json");
        else if (c["base64"] is { } b64)
            content = Bytes(Convert.FromBase64String((string)b64!), contentType ?? "application/ld+json");
        else if (c["event"] is JsonObject change)
            content = Text(world.Fill(Mutated(change)), contentType ?? "application/ld+json");
        else if (c["generate"] is { } generator)
        {
            var (bytes, type) = Generators.Make((string)generator!, world);
            content = ((string)generator!).Contains("-chunked", StringComparison.Ordinal)
                ? Chunked(bytes, contentType ?? type) // no Content-Length: the service counts the bytes as they come
                : Bytes(bytes, contentType ?? type);
        }
        if (content is not null && contentType == "") content.Headers.ContentType = null;
        request.Content = content;
        foreach (var (k, v) in c["headers"]?.AsObject() ?? [])
            if (!request.Headers.TryAddWithoutValidation(k, world.Fill((string)v!))) request.Content?.Headers.TryAddWithoutValidation(k, (string)v!);
        return request;
    }

    /// <summary>The valid commissioning document with the event changed: "set" (null removes the field) and "raw" (text spliced into the event).</summary>
    private static string Mutated(JsonObject change)
    {
        var e = HostileWorld.Event("{NEWEPC}");
        foreach (var (k, v) in change["set"]?.AsObject() ?? [])
        {
            if (v is null) e.Remove(k);
            else e[k] = v.DeepClone();
        }
        var text = HostileWorld.Document(e).ToJsonString();
        if (change["raw"] is { } raw) text = text.Replace("{\"type\":\"ObjectEvent\",", "{\"type\":\"ObjectEvent\"," + (string)raw! + ",", StringComparison.Ordinal);
        return text;
    }

    private static StringContent Text(string text, string type)
    {
        var content = new StringContent(text, new UTF8Encoding(false));
        content.Headers.ContentType = type.Length == 0 ? null : MediaTypeHeaderValue.Parse(type);
        return content;
    }

    private static StreamContent Chunked(byte[] bytes, string type)
    {
        var content = new StreamContent(new UnseekableStream(new MemoryStream(bytes)));
        if (type.Length > 0) content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
        return content;
    }

    /// <summary>A stream whose length cannot be known in advance, so HttpClient sends it chunked.</summary>
    private sealed class UnseekableStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static ByteArrayContent Bytes(byte[] bytes, string type)
    {
        var content = new ByteArrayContent(bytes);
        if (type.Length > 0) content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
        return content;
    }
}

/// <summary>Bodies too large or too regular to write in the corpus, by name ("deep-json:100000").</summary>
public static class Generators
{
    public static (byte[] Body, string ContentType) Make(string spec, HostileWorld world)
    {
        var parts = spec.Split(':');
        var n = parts.Length > 1 ? int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) : 0;
        string json = "application/ld+json", xml = "application/xml";
        return parts[0] switch
        {
            "deep-json" => (Utf8(Nest(n)), json),
            "deep-event" => (Utf8(Doc(world, e => e["example:deep"] = JsonNode.Parse(Nest(n), documentOptions: new JsonDocumentOptions { MaxDepth = n + 8 }))), json),
            "deep-event-raw" => (Utf8(Doc(world, _ => { }).Replace("\"ilmd\":", "\"example:deep\":" + Nest(n) + ",\"ilmd\":", StringComparison.Ordinal)), json),
            "deep-bad-event" => (Utf8(Doc(world, e => e.Remove("eventTime")).Replace("\"ilmd\":", "\"example:deep\":" + Nest(n) + ",\"ilmd\":", StringComparison.Ordinal)), json),
            "deep-xml" => (Utf8(HostileWorld.Xml(HostileWorld.NewEpc(), "<example:d>" + Repeat("<x>", n) + Repeat("</x>", n) + "</example:d>")), xml),
            "laughs-xml" => (Utf8(HostileWorld.Xml(HostileWorld.NewEpc(), "<example:note>&lol9;</example:note>", Laughs)), xml),
            "entity-xml" => (Utf8(HostileWorld.Xml(HostileWorld.NewEpc(), "<example:note>" + Repeat("&big;", n) + "</example:note>",
                "<!DOCTYPE d [<!ENTITY big \"" + new string('x', 5000) + "\">]>")), xml),
            "xxe-xml" => (Utf8(HostileWorld.Xml(HostileWorld.NewEpc(), "<example:note>&x;</example:note>", "<!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>")), xml),
            "long-extension" => (Utf8(Doc(world, e => e["example:note"] = new string('x', n))), json),
            "long-ilmd" => (Utf8(Doc(world, e => e["ilmd"]!["example:note"] = new string('y', n))), json),
            "many-events" => (Utf8(HostileWorld.Document(Enumerable.Range(0, n).Select(_ => HostileWorld.Event(HostileWorld.NewEpc())).ToArray()).ToJsonString()), json),
            "padded" => (Utf8(Doc(world, _ => { }) + new string(' ', n)), json),
            "long-string-json" => (Utf8("{\"name\":\"" + new string('n', n) + "\",\"role\":\"dealer\"}"), "application/json"),
            "big-json-import" => (Utf8("[{\"gtin\":\"" + HostileWorld.Gtin + "\",\"name\":\"" + new string('n', n) + "\"}]"), "application/json"),
            "big-csv-import" or "big-csv-import-chunked" => (CsvOfSize(n), "text/csv"),
            "csv-columns" => (Utf8(string.Join(",", Enumerable.Range(0, n).Select(i => "x" + i.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "\n"), "text/csv"),
            "csv-cells" => (Utf8("gtin,name\n" + HostileWorld.Gtin + ",milk" + Repeat(",x", n - 2) + "\n"), "text/csv"),
            "csv-long-field" => (Utf8("gtin,name\n" + HostileWorld.Gtin + "," + new string('n', n) + "\n"), "text/csv"),
            "scan-codes" => (Utf8("{\"codes\":[" + string.Join(",", Enumerable.Range(0, n).Select(i => $"\"C{i}\"")) + "]}"), "application/json"),
            "lookup-codes" => (Utf8("[" + string.Join(",", Enumerable.Range(0, n).Select(i => $"\"C{i}\"")) + "]"), "application/json"),
            "lookup-text" => (Utf8(string.Join("\n", Enumerable.Range(0, n).Select(i => $"C{i}"))), "text/plain"),
            "many-rules" => (Utf8("{\"rules\":[" + string.Join(",", Enumerable.Range(0, n).Select(i =>
                $"{{\"name\":\"r{i}\",\"kind\":\"requires\",\"step\":\"shipping\",\"after\":\"inspecting\"}}")) + "]}"), "application/json"),
            "many-keys" => (Utf8("{" + string.Join(",", Enumerable.Range(0, n).Select(i => $"\"k{i}\":{i}")) + ",\"name\":\"x\",\"role\":\"dealer\"}"), "application/json"),
            _ => throw new ArgumentException($"no generator '{parts[0]}'"),
        };
    }

    private const string Laughs = "<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">" +
        "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\"><!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">" +
        "<!ENTITY lol9 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">]>";

    private static string Doc(HostileWorld world, Action<JsonObject> change)
    {
        var e = HostileWorld.Event(HostileWorld.NewEpc());
        change(e);
        return HostileWorld.Document(e).ToJsonString(new JsonSerializerOptions { MaxDepth = 200_000 });
    }

    public static string Nest(int depth) => new StringBuilder(2 * depth + 1).Append('[', depth).Append('1').Append(']', depth).ToString();

    /// <summary>A products CSV of at least <paramref name="size"/> bytes: the header, then rows of one product.</summary>
    private static byte[] CsvOfSize(int size)
    {
        var row = Utf8(HostileWorld.Gtin + "," + new string('n', 1000) + "\n");
        var header = Utf8("gtin,name\n");
        var bytes = new byte[header.Length + ((size - header.Length) / row.Length + 1) * row.Length];
        header.CopyTo(bytes, 0);
        for (var at = header.Length; at < bytes.Length; at += row.Length) row.CopyTo(bytes, at);
        return bytes;
    }

    private static string Repeat(string s, int n) => new StringBuilder(s.Length * n).Insert(0, s, n).ToString();

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
}
