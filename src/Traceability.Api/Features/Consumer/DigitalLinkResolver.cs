using System.Text.Json.Nodes;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Consumer;

/// <summary>
/// The service as a GS1 Digital Link resolver for the codes it issued: its description at /.well-known/gs1resolver, and on
/// the Digital Link path (/01/{gtin}/21/{serial}) the link types of the GS1 Web vocabulary: <c>?linkType=all</c> answers
/// the linkset (RFC 9264, application/linkset+json) of gs1:pip (the consumer page), gs1:traceability (the code's events on
/// /epcis), gs1:recallStatus (its status) and the public proof bundles of its journey; <c>?linkType=gs1:traceability</c>
/// redirects to the events; <c>?linkType=gs1:recallStatus</c> answers the status; <c>gs1:pip</c> is the page itself.
/// </summary>
public sealed class DigitalLinkResolver(TraceOptions options)
{
    public const string Gs1Voc = "https://gs1.org/voc/";
    public const string ProofRelation = "https://traceability.example/voc/proofBundle";
    public const string LinksetMedia = "application/linkset+json";

    /// <summary>The resolver description file (GS1-Conformant Resolver standard).</summary>
    public JsonObject Description() => new()
    {
        ["name"] = "Traceability ledger",
        ["resolverRoot"] = Base,
        ["supportedPrimaryKeys"] = new JsonArray("01"),
        ["supportedLinkTypes"] = new JsonArray(
            Link("gs1:pip", "Product information page"),
            Link("gs1:traceability", "EPCIS events of the item"),
            Link("gs1:recallStatus", "Recall status of the item")),
        ["linkTypeDefaultCanBeLinkset"] = true,
        ["supportedContextValues"] = new JsonArray(),
        ["validatesCheckDigits"] = true,
    };

    private static JsonObject Link(string curie, string title) => new() { ["namespace"] = Gs1Voc, ["prefix"] = "gs1:", ["profile"] = curie, ["title"] = title };

    private string Base => options.PublicBaseUrl.TrimEnd('/');

    /// <summary>
    /// What the Digital Link path answers for <paramref name="linkType"/>; null when the consumer page itself is meant
    /// (gs1:pip, gs1:defaultLink).
    /// </summary>
    public async Task<IResult?> HandleAsync(string linkType, string gtin, string serial, string? lot, TraceDbContext db, ConsumerViewCache views, CancellationToken ct)
    {
        var type = linkType.StartsWith(Gs1Voc, StringComparison.Ordinal) ? "gs1:" + linkType[Gs1Voc.Length..] : linkType;
        if (type is "gs1:pip" or "gs1:defaultLink") return null;
        var gtin14 = gtin.Length is 8 or 12 or 13 or 14 && gtin.All(char.IsAsciiDigit) ? gtin.PadLeft(14, '0') : null;
        if (gtin14 is null || Gs1Identifiers.CheckDigit(gtin14.AsSpan(0, 13)) != gtin14[13] || serial.Length is 0 or > 20)
            return Results.Problem(statusCode: 404, title: "Not found", detail: $"'{gtin}/{serial}' is not a GTIN with a serial.");
        var model = await views.GetAsync(db, gtin14, serial, lot, ct);
        var page = $"{Base}/01/{gtin14}" + (lot is null ? "" : "/10/" + Uri.EscapeDataString(lot)) + "/21/" + Uri.EscapeDataString(serial);
        var events = $"{Base}/epcis/epcs/{Uri.EscapeDataString(model.Epc)}/events";
        var status = new JsonObject
        {
            ["epc"] = model.Epc,
            ["gtin"] = gtin14,
            ["serial"] = serial,
            ["lot"] = model.Lot,
            ["known"] = model.Known,
            ["status"] = model.Status,
            ["recalled"] = model.Status == "recalled",
        };
        switch (type)
        {
            case "gs1:traceability":
                return Results.Redirect(events, permanent: false, preserveMethod: true);
            case "gs1:recallStatus":
                return Results.Json(status, statusCode: model.Known ? 200 : 404);
            case "all" or "linkset":
                var anchor = new JsonObject
                {
                    ["anchor"] = $"https://id.gs1.org/01/{gtin14}/21/{Uri.EscapeDataString(serial)}",
                    [Gs1Voc + "pip"] = new JsonArray(new JsonObject { ["href"] = page, ["title"] = "Product information page", ["type"] = "text/html", ["hreflang"] = new JsonArray("zh", "en") }),
                    [Gs1Voc + "traceability"] = new JsonArray(new JsonObject { ["href"] = events, ["title"] = "EPCIS 2.0 events of the item (X-Api-Key)", ["type"] = "application/ld+json" }),
                    [Gs1Voc + "recallStatus"] = new JsonArray(new JsonObject { ["href"] = page + "?linkType=gs1:recallStatus", ["title"] = $"Status: {model.Status}", ["type"] = "application/json" }),
                    [Gs1Voc + "defaultLink"] = new JsonArray(new JsonObject { ["href"] = page, ["title"] = "Product information page", ["type"] = "text/html" }),
                };
                var proofs = model.Steps.Where(s => s.ProofPublic && s.Anchor is not null)
                    .Select(s => (JsonNode)new JsonObject { ["href"] = $"{page}/proofs/{s.Sequence}", ["title"] = $"Proof bundle of event {s.Sequence} ({s.Step})", ["type"] = "application/json" })
                    .ToArray();
                if (proofs.Length > 0) anchor[ProofRelation] = new JsonArray(proofs);
                return Results.Text(new JsonObject { ["linkset"] = new JsonArray(anchor) }.ToJsonString(), LinksetMedia, System.Text.Encoding.UTF8, model.Known ? 200 : 404);
            default:
                return Results.Problem(statusCode: 404, title: "Link type not found",
                    detail: $"No '{linkType}' link for this item; the link types are all, gs1:pip, gs1:traceability and gs1:recallStatus.");
        }
    }
}
