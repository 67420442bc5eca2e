using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Api.Infrastructure.Requests;
using Traceability.Api.Infrastructure.Validation;

namespace Traceability.Api.Features.Members;

/// <summary>
/// A member's API keys (several per member, each revocable on its own) and the member's deactivation. The member itself
/// or the admin manages its keys; only the admin deactivates a member. Keys are shown once and kept as SHA-256 hashes.
/// </summary>
public static class MemberKeys
{
    public const int MaxLabel = 100;
    /// <summary>Live keys a member may hold at once: enough for every system and person of a member, bounded all the same.</summary>
    public const int MaxLiveKeys = 50;

    public sealed record IssueKeyRequest(string? Label);
    public sealed record IssuedKey(string Id, string Label, DateTimeOffset CreatedAt, string ApiKey);
    public sealed record KeyInfo(string Id, string Label, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);
    public sealed record KeyList(string MemberId, IReadOnlyList<KeyInfo> Keys);
    public sealed record DeactivatedMember(string Id, string Name, string Role, DateTimeOffset DeactivatedAt, int KeysRefused);

    private static readonly MemberRole[] MemberRoleList = [MemberRole.Manufacturer, MemberRole.Logistics, MemberRole.Dealer, MemberRole.Service, MemberRole.Regulator];

    public static void MapMemberKeys(this RouteGroupBuilder group)
    {
        group.MapPost("members/{id}/keys", IssueAsync).RequireRoles(MemberRoleList)
            .WithSummary("Issue another API key for the member (the member itself, or admin); the key is in the answer and nowhere else")
            .ProducesProblem(400).ProducesProblem(403).ProducesProblem(404).ProducesProblem(409);
        group.MapGet("members/{id}/keys", ListAsync).RequireRoles(MemberRoleList)
            .WithSummary("The member's keys: id, label, created, last used (to the minute), revoked").ProducesProblem(403).ProducesProblem(404);
        group.MapDelete("members/{id}/keys/{keyId}", RevokeAsync).RequireRoles(MemberRoleList)
            .WithSummary("Revoke a key: refused from the next request on").ProducesProblem(403).ProducesProblem(404);
        group.MapPost("members/{id}/deactivate", DeactivateAsync).RequireRoles(MemberRole.Admin)
            .WithSummary("Deactivate a member (admin): every key of it is refused from the next request on").ProducesProblem(404);
    }

    public sealed record IssueKey(string MemberId, string? Label, Caller Caller) : ICommand<IssuedKey>, IValidate
    {
        public static string Invalid => "Invalid key request";

        public IEnumerable<FieldError> Validate()
        {
            var errors = new List<FieldError>();
            TextLimits.Check(errors, "label", Label, MaxLabel);
            return errors;
        }

        public sealed class Handler(TraceDbContext db, TimeProvider time) : ICommandHandler<IssueKey, IssuedKey>
        {
            public async ValueTask<IssuedKey> Handle(IssueKey command, CancellationToken ct)
            {
                var member = await RequireManagedAsync(db, command.MemberId, command.Caller, ct);
                if (member.DeactivatedAt is not null) throw new ConflictException($"Member '{member.Id}' is deactivated; it gets no new keys.");
                var live = await db.MemberKeys.CountAsync(k => k.MemberId == member.Id && k.RevokedAt == null, ct);
                if (live >= MaxLiveKeys) throw new ConflictException($"Member '{member.Id}' holds {live} live keys, the most allowed; revoke one first.");
                var key = ApiKeyService.NewKey();
                var row = new MemberKey
                {
                    Id = ApiKeyService.NewKeyId(), MemberId = member.Id, KeyHash = ApiKeyService.Hash(key), CreatedAt = time.GetUtcNow(),
                    Label = string.IsNullOrWhiteSpace(command.Label) ? "key" : command.Label.Trim(),
                };
                db.MemberKeys.Add(row);
                await db.SaveChangesAsync(ct);
                return new IssuedKey(row.Id, row.Label, row.CreatedAt, key);
            }
        }
    }

    public sealed record ListKeys(string MemberId, Caller Caller) : IQuery<KeyList>
    {
        public sealed class Handler(TraceDbContext db) : IQueryHandler<ListKeys, KeyList>
        {
            public async ValueTask<KeyList> Handle(ListKeys query, CancellationToken ct)
            {
                var member = await RequireManagedAsync(db, query.MemberId, query.Caller, ct);
                var keys = await db.MemberKeys.AsNoTracking().Where(k => k.MemberId == member.Id).ToListAsync(ct);
                return new KeyList(member.Id, keys.OrderBy(k => k.CreatedAt).ThenBy(k => k.Id)
                    .Select(k => new KeyInfo(k.Id, k.Label, k.CreatedAt, k.LastUsedAt, k.RevokedAt)).ToList());
            }
        }
    }

    public sealed record RevokeKey(string MemberId, string KeyId, Caller Caller) : ICommand<KeyInfo>
    {
        public sealed class Handler(TraceDbContext db, ApiKeyService keys, TimeProvider time) : ICommandHandler<RevokeKey, KeyInfo>
        {
            public async ValueTask<KeyInfo> Handle(RevokeKey command, CancellationToken ct)
            {
                var member = await RequireManagedAsync(db, command.MemberId, command.Caller, ct);
                var key = await db.MemberKeys.FirstOrDefaultAsync(k => k.Id == command.KeyId && k.MemberId == member.Id, ct)
                    ?? throw new NotFoundException($"Key '{command.KeyId}' of member '{member.Id}'");
                if (key.RevokedAt is null)
                {
                    key.RevokedAt = time.GetUtcNow();
                    await db.SaveChangesAsync(ct);
                }
                keys.Revoked(key.Id);
                return new KeyInfo(key.Id, key.Label, key.CreatedAt, key.LastUsedAt, key.RevokedAt);
            }
        }
    }

    public sealed record DeactivateMember(string MemberId) : ICommand<DeactivatedMember>
    {
        public sealed class Handler(TraceDbContext db, ApiKeyService keys, TimeProvider time) : ICommandHandler<DeactivateMember, DeactivatedMember>
        {
            public async ValueTask<DeactivatedMember> Handle(DeactivateMember command, CancellationToken ct)
            {
                var member = await db.Members.FindAsync([command.MemberId], ct) ?? throw new NotFoundException($"Member '{command.MemberId}'");
                member.DeactivatedAt ??= time.GetUtcNow();
                await db.SaveChangesAsync(ct);
                keys.Deactivated(member.Id);
                var refused = await db.MemberKeys.CountAsync(k => k.MemberId == member.Id && k.RevokedAt == null, ct);
                return new DeactivatedMember(member.Id, member.Name, member.Role.ToWire(), member.DeactivatedAt.Value, refused);
            }
        }
    }

    /// <summary>The member whose keys the caller manages: itself, or any member for the admin (403 otherwise, 404 when unknown).</summary>
    private static async Task<Member> RequireManagedAsync(TraceDbContext db, string memberId, Caller caller, CancellationToken ct)
    {
        if (caller.Role != MemberRole.Admin && caller.MemberId != memberId) throw new ForbiddenException("A member manages its own keys only.");
        return await db.Members.AsNoTracking().FirstOrDefaultAsync(m => m.Id == memberId, ct) ?? throw new NotFoundException($"Member '{memberId}'");
    }

    private static async Task<Created<IssuedKey>> IssueAsync(string id, IssueKeyRequest? request, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var key = await mediator.Send(new IssueKey(id, request?.Label, http.Caller()), ct);
        return TypedResults.Created($"/api/v1/members/{id}/keys/{key.Id}", key);
    }

    private static async Task<Ok<KeyList>> ListAsync(string id, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(await mediator.Send(new ListKeys(id, http.Caller()), ct));

    private static async Task<Ok<KeyInfo>> RevokeAsync(string id, string keyId, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(await mediator.Send(new RevokeKey(id, keyId, http.Caller()), ct));

    private static async Task<Ok<DeactivatedMember>> DeactivateAsync(string id, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(await mediator.Send(new DeactivateMember(id), ct));
}
