using System.Data.Common;
using Traceability.Api.Domain;
using Traceability.Api.Features.Alerts;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Consumer;

/// <summary>The diversion alert, raised by scans and by sale events alike: the dealer, the territory expected, the region seen.</summary>
public static class Diversion
{
    public sealed record Dealer(string Id, string Name, IReadOnlyList<string> RegionCodes);

    public static async Task RaiseAsync(DbConnection conn, DbTransaction? tx, string epc, Dealer dealer, string region, string source,
        long? eventSequence, DateTimeOffset at, CancellationToken ct)
    {
        var gtin = Gs1Key.GtinOf(epc);
        if (conn.State != System.Data.ConnectionState.Open) await conn.OpenAsync(ct);
        var detail = new
        {
            source,
            dealer = new { id = dealer.Id, name = dealer.Name },
            expectedRegions = dealer.RegionCodes,
            actualRegion = region,
            eventSequence,
        };
        await AlertWriter.RaiseAsync(conn, tx, AlertTypes.Diversion, epc, gtin, await LotOfAsync(conn, tx, epc, ct), detail, at,
            $"diversion:{epc}:{dealer.Id}:{region}", ct);
    }

    private static async Task<string?> LotOfAsync(DbConnection conn, DbTransaction? tx, string epc, CancellationToken ct)
    {
        await using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "SELECT COALESCE((SELECT lot FROM units WHERE epc = @e), (SELECT lot FROM codes WHERE epc = @e))";
        Sql.AddParameter(cmd, "@e", epc);
        return await cmd.ExecuteScalarAsync(ct) as string;
    }
}
