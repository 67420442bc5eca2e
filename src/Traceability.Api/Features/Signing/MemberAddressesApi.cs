using System.Data.Common;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Chain;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Api.Infrastructure.Requests;
using Traceability.Chain;
using Traceability.Chain.ContractDefinition;

namespace Traceability.Api.Features.Signing;

/// <summary>
/// A member's signing addresses: added with a personal signature proving the member holds the key, registered on chain
/// (registerMember, sent with the registry owner's key) before they are recorded; revoked on chain before they are
/// marked revoked. The chain is the record a verifier trusts; this table is the service's copy, for capture.
/// </summary>
public static class MemberAddressesApi
{
    public sealed record AddAddressRequest(string? Address, string? Signature);
    public sealed record MemberAddressResponse(string Address, string MemberId, string MemberIdBytes32, bool Active,
        long RegisteredBlock, string RegisteredTx, DateTimeOffset RegisteredAt, long? RevokedBlock, string? RevokedTx, DateTimeOffset? RevokedAt);
    public sealed record MemberAddressList(IReadOnlyList<MemberAddressResponse> Items);

    private static readonly TimeSpan ReceiptTimeout = TimeSpan.FromMinutes(2);

    public static RouteGroupBuilder MapMemberAddressesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("api/v1/members/{id}/addresses").WithTags("Members and master data");
        group.MapPost("", AddAsync).RequireRoles(MemberRole.Manufacturer, MemberRole.Logistics, MemberRole.Dealer, MemberRole.Regulator)
            .WithSummary("Add a signing address: {address (EIP-55), signature: personal_sign of 'Traceability: member <id> uses address <address>'}; registered on chain")
            .ProducesProblem(400).ProducesProblem(403).ProducesProblem(404).ProducesProblem(409).ProducesProblem(422).ProducesProblem(503);
        group.MapGet("", ListAsync).RequireRoles(MemberRole.Manufacturer, MemberRole.Logistics, MemberRole.Dealer, MemberRole.Regulator)
            .WithSummary("The member's signing addresses, active and revoked").ProducesProblem(403).ProducesProblem(404);
        group.MapDelete("{address}", RevokeAsync).RequireRoles(MemberRole.Manufacturer, MemberRole.Logistics, MemberRole.Dealer, MemberRole.Regulator)
            .WithSummary("Revoke a signing address on chain (the member or admin); what it signed before stays attributed to the member")
            .ProducesProblem(403).ProducesProblem(404).ProducesProblem(409).ProducesProblem(503);
        return group;
    }

    private static async Task<Results<Created<MemberAddressResponse>, ProblemHttpResult>> AddAsync(string id, AddAddressRequest request, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var caller = http.Caller();
        RequireSelfOrAdmin(id, caller); // before the body is looked at: another member learns nothing from field errors
        try
        {
            var added = await mediator.Send(new AddAddress(id, request, caller), ct);
            return TypedResults.Created($"/api/v1/members/{id}/addresses/{added.Address}", added);
        }
        catch (Exception e) when (ChainProblem(e) is { } problem) { return problem; }
    }

    private static async Task<Ok<MemberAddressList>> ListAsync(string id, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(await mediator.Send(new ListAddresses(id, http.Caller()), ct));

    private static async Task<Results<Ok<MemberAddressResponse>, ProblemHttpResult>> RevokeAsync(string id, string address, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        try { return TypedResults.Ok(await mediator.Send(new RevokeAddress(id, address, http.Caller()), ct)); }
        catch (Exception e) when (ChainProblem(e) is { } problem) { return problem; }
    }

    /// <summary>503 naming why the chain did not take the transaction (unreachable, not configured, a revert, not the owner).</summary>
    private static ProblemHttpResult? ChainProblem(Exception e) => e switch
    {
        ChainRefusal or ChainUnavailableException or ContractRevertedException or TimeoutException => TypedResults.Problem(statusCode: 503,
            title: "The chain did not take the transaction", detail: e is ContractRevertedException r && r.ErrorName == "NotOwner"
                ? "The service's key is not the AnchorRegistry owner: set TRACE_CHAIN_OWNER_KEY to register member addresses. " + e.Message : e.Message,
            type: ProblemDetailsExceptionHandler.TypeBase + "chain-unavailable"),
        _ => null,
    };

    public sealed record AddAddress(string MemberId, AddAddressRequest Request, Caller Caller) : ICommand<MemberAddressResponse>, IValidate
    {
        public static string Invalid => "Invalid address";

        public IEnumerable<FieldError> Validate()
        {
            var errors = new List<FieldError>();
            if (AddressProblem(Request.Address) is { } problem) errors.Add(new("address", problem));
            if (!MemberSignatures.TryParseSignature(Request.Signature, out _))
                errors.Add(new("signature", "signature must be 0x and 130 hex digits (r, s, v), the personal_sign of 'Traceability: member <id> uses address <address>'."));
            return errors;
        }

        public sealed class Handler(TraceDbContext db, ChainConnection chain, TimeProvider time) : ICommandHandler<AddAddress, MemberAddressResponse>
        {
            public async ValueTask<MemberAddressResponse> Handle(AddAddress command, CancellationToken ct)
            {
                var (memberId, request, caller) = command;
                var memberIdBytes = await RequireMemberAsync(db, memberId, caller, ct);
                var address = request.Address!;
                MemberSignatures.TryParseSignature(request.Signature, out var signature);
                var text = MemberSignatures.AddressClaim(memberId, address);
                if (MemberSignatures.RecoverPersonal(text, signature) != address)
                    throw Rule("signature", "address-signature", $"The signature is not {address}'s personal signature of '{text}'.");

                var conn = await Sql.OpenAsync(db, ct);
                if (await FindAsync(conn, address, ct) is { } existing)
                    throw new ConflictException(existing.Active
                        ? $"{address} is already an address of member {existing.MemberId}."
                        : $"{address} was revoked in block {existing.RevokedBlock}; a revoked address is never registered again (register a new one).");

                var registry = RequireOwner(chain);
                string tx;
                long block;
                try
                {
                    var receipt = await registry.WaitForReceiptAsync(await registry.RegisterMemberAsync(address, memberIdBytes, ct), ReceiptTimeout, ct);
                    if (!receipt.Succeeded) throw new ChainRefusal($"registerMember({address}) was mined but reverted (transaction {receipt.TransactionHash}).");
                    (tx, block) = (receipt.TransactionHash, receipt.BlockNumber);
                }
                catch (ContractRevertedException e) when (e.ErrorName == AnchorRegistryErrors.NameOf<AlreadyRegisteredError>())
                {
                    // Registered on chain before (e.g. a request that ended before its row was written): adopt it if it is this member's.
                    var m = await registry.MemberOfAsync(address, ct);
                    if (!m.MemberId.AsSpan().SequenceEqual(memberIdBytes)) throw new ConflictException($"{address} belongs to another member on chain.");
                    (tx, block) = ("", m.ValidFromBlock);
                }
                catch (ContractRevertedException e) when (e.ErrorName == AnchorRegistryErrors.NameOf<AddressRevokedError>())
                {
                    throw new ConflictException($"{address} was revoked on chain; a revoked address is never registered again.");
                }

                var now = time.GetUtcNow();
                await Sql.ExecAsync(conn, null,
                    "INSERT INTO member_addresses (address, member_id, registered_at, registered_tx, registered_block) VALUES (@a, @m, @t, @tx, @b)", ct,
                    ("@a", address), ("@m", memberId), ("@t", DbTime.Format(now)), ("@tx", tx), ("@b", block));
                return (await FindAsync(conn, address, ct))!;
            }
        }
    }

    public sealed record ListAddresses(string MemberId, Caller Caller) : IQuery<MemberAddressList>
    {
        public sealed class Handler(TraceDbContext db) : IQueryHandler<ListAddresses, MemberAddressList>
        {
            public async ValueTask<MemberAddressList> Handle(ListAddresses query, CancellationToken ct)
            {
                if (!query.Caller.SeesEverything && query.Caller.MemberId != query.MemberId) throw new ForbiddenException("A member sees its own addresses only.");
                if (await db.Members.FindAsync([query.MemberId], ct) is null) throw new NotFoundException($"Member {query.MemberId}");
                var conn = await Sql.OpenAsync(db, ct);
                return new MemberAddressList(await Sql.ListAsync(conn, null, SelectSql + " WHERE member_id = @m ORDER BY registered_block, address", Read, ct, ("@m", query.MemberId)));
            }
        }
    }

    public sealed record RevokeAddress(string MemberId, string Address, Caller Caller) : ICommand<MemberAddressResponse>
    {
        public sealed class Handler(TraceDbContext db, ChainConnection chain, TimeProvider time) : ICommandHandler<RevokeAddress, MemberAddressResponse>
        {
            public async ValueTask<MemberAddressResponse> Handle(RevokeAddress command, CancellationToken ct)
            {
                var (memberId, given, caller) = command;
                await RequireMemberAsync(db, memberId, caller, ct);
                string address;
                try { address = EthAddress.Normalize(given); }
                catch (FormatException e) { throw RequestValidationException.ForField("address", e.Message); }
                var conn = await Sql.OpenAsync(db, ct);
                var row = await FindAsync(conn, address, ct);
                if (row is null || row.MemberId != memberId) throw new NotFoundException($"Address {address} of member {memberId}");
                if (!row.Active) throw new ConflictException($"{address} was already revoked in block {row.RevokedBlock}.");

                var registry = RequireOwner(chain);
                string tx;
                long block;
                try
                {
                    var receipt = await registry.WaitForReceiptAsync(await registry.RevokeMemberAsync(address, ct), ReceiptTimeout, ct);
                    if (!receipt.Succeeded) throw new ChainRefusal($"revokeMember({address}) was mined but reverted (transaction {receipt.TransactionHash}).");
                    (tx, block) = (receipt.TransactionHash, receipt.BlockNumber);
                }
                catch (ContractRevertedException e) when (e.ErrorName == AnchorRegistryErrors.NameOf<AddressRevokedError>())
                {
                    (tx, block) = ("", (await registry.MemberOfAsync(address, ct)).ValidUntilBlock); // revoked before: record the chain's block
                }
                await Sql.ExecAsync(conn, null,
                    "UPDATE member_addresses SET revoked_at = @t, revoked_tx = @tx, revoked_block = @b WHERE address = @a AND revoked_block IS NULL", ct,
                    ("@t", DbTime.Format(time.GetUtcNow())), ("@tx", tx), ("@b", block), ("@a", address));
                return (await FindAsync(conn, address, ct))!;
            }
        }
    }

    /// <summary>Why <paramref name="address"/> is not an EIP-55 checksummed address, or null.</summary>
    public static string? AddressProblem(string? address)
    {
        if (string.IsNullOrEmpty(address)) return "address is required.";
        try
        {
            if (EthAddress.Normalize(address) != address) return $"address must be written with its EIP-55 checksum: {EthAddress.Normalize(address)}.";
        }
        catch (FormatException e)
        {
            return e.Message;
        }
        return null;
    }

    /// <summary>An address of <paramref name="memberId"/> active now (the service's copy of the chain's record).</summary>
    public static async Task<bool> IsActiveAsync(DbConnection conn, DbTransaction? tx, string address, string memberId, CancellationToken ct) =>
        await Sql.LongAsync(conn, tx, "SELECT COUNT(*) FROM member_addresses WHERE address = @a AND member_id = @m AND revoked_block IS NULL", ct,
            ("@a", address), ("@m", memberId)) > 0;

    private static void RequireSelfOrAdmin(string memberId, Caller caller)
    {
        if (caller.Role != MemberRole.Admin && caller.MemberId != memberId) throw new ForbiddenException("A member adds and revokes its own addresses only (or the admin).");
    }

    private static async Task<byte[]> RequireMemberAsync(TraceDbContext db, string memberId, Caller caller, CancellationToken ct)
    {
        RequireSelfOrAdmin(memberId, caller);
        if (await db.Members.FindAsync([memberId], ct) is null) throw new NotFoundException($"Member {memberId}");
        try { return MemberSignatures.MemberIdBytes32(memberId); }
        catch (ArgumentException e) { throw Rule("id", "member-id-bytes32", e.Message); }
    }

    private static AnchorRegistryClient RequireOwner(ChainConnection chain) =>
        chain.ConfigurationProblem is { } problem ? throw new ChainRefusal(problem) : chain.OwnerRegistry!;

    private static RequestValidationException Rule(string field, string rule, string message) =>
        new("The request breaks a rule", [new FieldError(field, message, Rule: rule)], unprocessable: true) { Type = "rule-violation" };

    private const string SelectSql =
        "SELECT address, member_id, registered_block, registered_tx, registered_at, revoked_block, revoked_tx, revoked_at FROM member_addresses";

    private static async Task<MemberAddressResponse?> FindAsync(DbConnection conn, string address, CancellationToken ct) =>
        (await Sql.ListAsync(conn, null, SelectSql + " WHERE address = @a", Read, ct, ("@a", address))).FirstOrDefault();

    private static MemberAddressResponse Read(DbDataReader r)
    {
        var memberId = r.GetString(1);
        var revokedBlock = r.Long(5);
        return new MemberAddressResponse(r.GetString(0), memberId, Hex.Encode(MemberSignatures.MemberIdBytes32(memberId)), revokedBlock is null,
            r.GetInt64(2), r.GetString(3), DbTime.Parse(r.GetString(4)), revokedBlock, r.Str(6), r.Str(7) is { } at ? DbTime.Parse(at) : null);
    }
}

/// <summary>The chain refused or could not take a transaction the request needs: 503 naming why.</summary>
public sealed class ChainRefusal(string message) : Exception(message);
