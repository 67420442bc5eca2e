using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http.HttpResults;
using Nethereum.RPC.Eth.DTOs;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Chain;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Chain;
using Traceability.Chain.ContractDefinition;

namespace Traceability.Api.Features.Consortium;

/// <summary>
/// An anchor's witnesses as the contract records them: who cosigned (in order), out of how many witnesses, the
/// threshold k and whether the anchor is final (at least k cosignatures). Read from the chain, never stored.
/// </summary>
public sealed record WitnessView(IReadOnlyList<string> Cosigners, int Threshold, int Witnesses, bool Final);

/// <summary>
/// Reads witness standing from the contract, kept for <see cref="MaxAge"/> per anchor so that pages and bundles do not
/// ask the chain on every request. Null when no chain is configured or it cannot be read: callers show nothing then.
/// </summary>
public sealed class AnchorWitnesses(ChainConnection chain, ILogger<AnchorWitnesses> log)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(10);
    private const int Capacity = 10_000;
    private readonly ConcurrentDictionary<long, (long At, WitnessView View)> _views = new();

    public async Task<WitnessView?> GetAsync(long anchorSequence, CancellationToken ct)
    {
        if (chain.Registry is not { } registry) return null;
        var now = Environment.TickCount64;
        if (_views.TryGetValue(anchorSequence, out var hit) && now - hit.At < MaxAge.TotalMilliseconds) return hit.View;
        try
        {
            var c = await registry.GetCosignaturesAsync(anchorSequence, ct);
            var view = new WitnessView(c.Cosigners, c.Threshold, c.WitnessCount, c.Final);
            if (_views.Count >= Capacity) _views.Clear();
            _views[anchorSequence] = (now, view);
            return view;
        }
        catch (Exception e) when (e is ChainUnavailableException or Nethereum.JsonRpc.Client.RpcResponseException or ContractRevertedException or InvalidOperationException)
        {
            log.LogWarning("Cannot read the witnesses of anchor {Anchor}: {Error}", anchorSequence, e.Message);
            return null;
        }
    }

    /// <summary>Forget what was read (after the admin changed witnesses or the threshold).</summary>
    public void Forget() => _views.Clear();
}

/// <summary>
/// The consortium's witnesses, administered through the contract's owner key (the service's anchoring key on a devnet
/// it deployed): <c>GET /api/v1/consortium</c>, <c>POST|DELETE /api/v1/consortium/witnesses</c>,
/// <c>PUT /api/v1/consortium/threshold</c>. The chain is the only record: nothing is kept in the database.
/// </summary>
public static class ConsortiumApi
{
    private static readonly TimeSpan ReceiptTimeout = TimeSpan.FromMinutes(2);

    public sealed record WitnessRequest(string? Address);
    public sealed record ThresholdRequest(int? K);
    public sealed record ConsortiumResponse(string Contract, string Owner, IReadOnlyList<string> Witnesses, int WitnessCount, int Threshold, int MaxWitnesses);

    public static IServiceCollection AddConsortium(this IServiceCollection services)
    {
        services.AddSingleton<AnchorPromises>();
        services.AddHostedService(sp => sp.GetRequiredService<AnchorPromises>());
        services.AddSingleton<Capture.IReceiptPromise>(sp => sp.GetRequiredService<AnchorPromises>());
        services.AddSingleton<AnchorWitnesses>();
        services.AddScoped<LateAnchors>();
        return services;
    }

    public static RouteGroupBuilder MapConsortiumApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("api/v1/consortium").WithTags("Consortium");
        group.MapGet("", GetAsync).RequireRoles()
            .WithSummary("The contract's witnesses and threshold k, read from the chain").ProducesProblem(503);
        group.MapPost("witnesses", AddWitnessAsync).RequireRoles(MemberRole.Admin)
            .WithSummary("Make an address a witness (the service sends the owner's setWitness transaction)").ProducesProblem(400).ProducesProblem(422).ProducesProblem(503);
        group.MapDelete("witnesses/{address}", RemoveWitnessAsync).RequireRoles(MemberRole.Admin)
            .WithSummary("Stop an address being a witness; refused (422 InvalidWitnessThreshold) while fewer than k would remain").ProducesProblem(400).ProducesProblem(422).ProducesProblem(503);
        group.MapPut("threshold", SetThresholdAsync).RequireRoles(MemberRole.Admin)
            .WithSummary("Set k, the cosignatures that make an anchor final (1 to the number of witnesses)").ProducesProblem(400).ProducesProblem(422).ProducesProblem(503);
        return group;
    }

    private static Task<Results<Ok<ConsortiumResponse>, ProblemHttpResult>> GetAsync(ChainConnection chain, CancellationToken ct) =>
        OnChainAsync(chain, registry => ReadAsync(registry, ct));

    private static Task<Results<Ok<ConsortiumResponse>, ProblemHttpResult>> AddWitnessAsync(WitnessRequest request, ChainConnection chain, AnchorWitnesses witnesses, CancellationToken ct) =>
        ChangeAsync(chain, witnesses, registry => registry.SetWitnessAsync(Address(request.Address), true, ct), ct);

    private static Task<Results<Ok<ConsortiumResponse>, ProblemHttpResult>> RemoveWitnessAsync(string address, ChainConnection chain, AnchorWitnesses witnesses, CancellationToken ct) =>
        ChangeAsync(chain, witnesses, registry => registry.SetWitnessAsync(Address(address), false, ct), ct);

    private static Task<Results<Ok<ConsortiumResponse>, ProblemHttpResult>> SetThresholdAsync(ThresholdRequest request, ChainConnection chain, AnchorWitnesses witnesses, CancellationToken ct) =>
        ChangeAsync(chain, witnesses, registry => registry.SetWitnessThresholdAsync(request.K is { } k and >= 1 and <= 64 ? k
            : throw RequestValidationException.ForField("k", "k is required: the number of cosignatures that make an anchor final, from 1 to the number of witnesses (at most 64)."), ct), ct);

    private static string Address(string? address)
    {
        if (string.IsNullOrWhiteSpace(address)) throw RequestValidationException.ForField("address", "address is required (0x and 40 hex digits).");
        try { return EthAddress.Normalize(address.Trim()); }
        catch (FormatException e) { throw RequestValidationException.ForField("address", e.Message); }
    }

    private static async Task<Results<Ok<ConsortiumResponse>, ProblemHttpResult>> ChangeAsync(ChainConnection chain, AnchorWitnesses witnesses,
        Func<AnchorRegistryClient, Task<string>> send, CancellationToken ct) =>
        await OnChainAsync(chain, async registry =>
        {
            // sent with the owner's key (TRACE_CHAIN_OWNER_KEY, else the anchoring key), as member addresses are: on the
            // devnet scripts/run starts, the deployer owns the registry and the anchoring key is only authorised to anchor
            var owner = chain.OwnerRegistry ?? registry;
            var tx = await send(owner);
            var receipt = await owner.WaitForReceiptAsync(tx, ReceiptTimeout, ct);
            if (!receipt.Succeeded) throw new ConflictException($"The transaction {tx} reverted in block {receipt.BlockNumber}.");
            witnesses.Forget();
            return await ReadAsync(registry, ct);
        });

    private static async Task<ConsortiumResponse> ReadAsync(AnchorRegistryClient registry, CancellationToken ct)
    {
        // The contract keeps no list of witnesses: the WitnessChanged events name every address ever set, isWitness says which still are.
        var changed = registry.Web3.Eth.GetEvent<WitnessChangedEventDTO>(registry.ContractAddress);
        var logs = await changed.GetAllChangesAsync(changed.CreateFilterInput(BlockParameter.CreateEarliest(), BlockParameter.CreateLatest())).WaitAsync(ct);
        var current = new List<string>();
        foreach (var address in logs.Where(l => !l.Log.Removed).Select(l => EthAddress.Normalize(l.Event.Account)).Distinct())
            if (await registry.IsWitnessAsync(address, ct)) current.Add(address);
        return new ConsortiumResponse(registry.ContractAddress, await registry.OwnerAsync(ct), current,
            await registry.WitnessCountAsync(ct), await registry.WitnessThresholdAsync(ct), 64);
    }

    private static async Task<Results<Ok<ConsortiumResponse>, ProblemHttpResult>> OnChainAsync(ChainConnection chain, Func<AnchorRegistryClient, Task<ConsortiumResponse>> action)
    {
        if (chain.Registry is not { } registry)
            return Unavailable(chain.ConfigurationProblem ?? "no chain configured");
        try
        {
            return TypedResults.Ok(await action(registry));
        }
        catch (ContractRevertedException e)
        {
            var why = e.ErrorName == "NotOwner" ? "the service's owner key (TRACE_CHAIN_OWNER_KEY, else its anchoring key " + chain.SignerAddress +
                ") is not the contract's owner, who alone sets witnesses" : e.Message;
            throw new RequestValidationException("The contract refused the change", [new FieldError("contract", why, Rule: e.ErrorName)], unprocessable: true) { Type = "rule-violation" };
        }
        catch (Exception e) when (e is ChainUnavailableException or Nethereum.JsonRpc.Client.RpcResponseException or TimeoutException)
        {
            return Unavailable(e.Message);
        }
    }

    private static ProblemHttpResult Unavailable(string detail) =>
        TypedResults.Problem(statusCode: 503, title: "The chain is unavailable", detail: detail, type: ProblemDetailsExceptionHandler.TypeBase + "chain-unavailable");
}
