using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Traceability.Api.Features.Anchoring;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Chain;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Chain;

namespace Traceability.Api.Features.Platform;

/// <summary>GET /health (database and chain) and GET /api/v1/chain.</summary>
public static class PlatformApi
{
    public sealed record Check(string Status, string? Detail);
    public sealed record HealthResponse(string Status, Check Database, Check Chain, Check Anchoring);
    public sealed record ChainResponse(string? RpcUrl, long? ChainId, string? Contract, string? Anchorer);

    public static void MapPlatformApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", HealthAsync).WithTags("Platform")
            .WithSummary("200 when the database and the chain answer and the chain holds every anchor the ledger confirmed; 503 otherwise, with the reason (the event count only to admin and regulator keys)");
        app.MapGet("/api/v1/chain", ChainAsync).WithTags("Platform").WithSummary("The chain and AnchorRegistry the service anchors to");
    }

    private static async Task<JsonHttpResult<HealthResponse>> HealthAsync(HttpContext http, TraceDbContext db, ChainConnection chain, ChainHealth chainHealth, CancellationToken ct)
    {
        Check database, chainCheck;
        try
        {
            // Anyone may ask whether the service is up; how much business it records is for the operator and regulators.
            if (await ApiKeyAuth.AuthenticateAsync(http) is { SeesEverything: true })
                database = new Check("ok", $"{await db.Events.CountAsync(ct)} events");
            else
            {
                await db.Database.ExecuteSqlRawAsync("SELECT 1", ct);
                database = new Check("ok", null);
            }
        }
        catch (Exception e) { database = new Check("down", e.Message); }

        if (chain.ConfigurationProblem is { } problem) chainCheck = new Check("down", problem);
        else
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(3));
                var block = (await chain.Web3!.Eth.Blocks.GetBlockNumber.SendRequestAsync().WaitAsync(timeout.Token)).Value;
                chainCheck = !await chain.HasCodeAsync(chain.Contract!, timeout.Token)
                    ? new Check("down", $"no contract code at {chain.Contract} on {chain.RpcUrl}")
                    : new Check("ok", $"block {block}");
                if (database.Status == "ok" &&
                    await chainHealth.LostAnchorsAsync(t => ChainLedgerCheck.FindProblemAsync(db, chain, t), fresh: false, timeout.Token) is { } lost)
                    chainCheck = new Check("down", lost);
            }
            catch (Exception e) { chainCheck = new Check("down", $"{chain.RpcUrl}: {e.Message}"); }
        }
        var anchoring = chainHealth.Problem is { } p ? new Check("degraded", p) : new Check("ok", null);

        var status = database.Status != "ok" || chainCheck.Status != "ok" ? "degraded" : anchoring.Status == "ok" ? "healthy" : "degraded";
        var code200 = database.Status == "ok" && chainCheck.Status == "ok";
        return TypedResults.Json(new HealthResponse(status, database, chainCheck, anchoring), statusCode: code200 ? 200 : 503);
    }

    private static async Task<Ok<ChainResponse>> ChainAsync(ChainConnection chain, CancellationToken ct)
    {
        long? chainId = chain.KnownChainId;
        if (chainId is null && chain.Rpc is not null)
        {
            try { chainId = await chain.GetChainIdAsync(ct); } catch (Exception) { /* reported by /health */ }
        }
        return TypedResults.Ok(new ChainResponse(chain.RpcUrl, chainId, chain.Contract, chain.SignerAddress));
    }
}
