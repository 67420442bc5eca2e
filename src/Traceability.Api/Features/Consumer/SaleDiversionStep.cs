using Traceability.Api.Features.Capture;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Consumer;

/// <summary>
/// Capture step: a sale (bizStep retail_selling) at a place (bizLocation, else readPoint, in the locations master data)
/// whose region lies outside the territory of the dealer the unit was shipped to (units.shipped_to_member_id, kept by
/// the tracing projection, which must be registered before this step) raises a diversion alert, in the capture's
/// transaction. It never refuses the event: the sale happened and is recorded; the manufacturer is told.
/// </summary>
public sealed class SaleDiversionStep : ICaptureStep
{
    public async ValueTask ApplyAsync(CaptureContext context, AppendedEvent appended, CancellationToken ct)
    {
        var e = appended.Validated.Event;
        if (CbvVocabulary.BizStepName(e.BizStep) != "retail_selling") return;
        var placeId = e.BizLocation ?? e.ReadPoint;
        if (placeId is null || !Gs1Canonical(placeId, out var place)) return;

        string? region;
        await using (var cmd = context.Command("SELECT region_code FROM locations WHERE id = @id"))
        {
            Sql.AddParameter(cmd, "@id", place);
            region = await cmd.ExecuteScalarAsync(ct) as string;
        }
        if (region is null) return;

        foreach (var (epc, role) in appended.Validated.Identifiers)
        {
            if (role != Domain.EpcRoles.Epc) continue;
            Diversion.Dealer? dealer = null;
            await using (var cmd = context.Command(
                "SELECT m.id, m.name, m.region_codes FROM units u JOIN members m ON m.id = u.shipped_to_member_id WHERE u.epc = @e"))
            {
                Sql.AddParameter(cmd, "@e", epc);
                await using var r = await cmd.ExecuteReaderAsync(ct);
                if (await r.ReadAsync(ct))
                    dealer = new Diversion.Dealer(r.GetString(0), r.GetString(1), r.GetString(2).Split(',', StringSplitOptions.RemoveEmptyEntries));
            }
            if (dealer is null || dealer.RegionCodes.Count == 0 || Regions.Inside(region, dealer.RegionCodes)) continue;
            await Diversion.RaiseAsync(context.Connection, context.Transaction, epc, dealer, region, "sale", appended.Sequence, context.RecordTime, ct);
        }
    }

    private static bool Gs1Canonical(string id, out string canonical) =>
        Gs1Identifiers.TryCanonicalId(id, out canonical, out _);
}
