using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Infrastructure.Auth;

/// <summary>
/// The caller behind an X-Api-Key: a member, or the admin (the key given to scripts/run). <see cref="KeyId"/> names the
/// member's key the request came with (null for the admin).
/// </summary>
public sealed record Caller(string MemberId, MemberRole Role, string Name, string? Gln, IReadOnlyList<string> RegionCodes, string? KeyId = null)
{
    public const string AdminId = "admin";
    public bool SeesEverything => Role is MemberRole.Admin or MemberRole.Regulator;
}

/// <summary>
/// API keys: 32 random bytes, shown once, stored as their SHA-256 hash (member_keys; a member may hold several). A key is
/// refused once revoked or once its member is deactivated, from the next request on. On SQLite one process serves the
/// file (SqliteOwnership), so every revocation passes through this instance and clears the cache here; on PostgreSQL
/// instances share the database and another instance may revoke, so each request reads the key row (one unique-index
/// lookup). The last use is written at most once a minute per key.
/// </summary>
public sealed class ApiKeyService(IServiceScopeFactory scopes, AdminKey adminKey, TraceOptions options, TimeProvider time, ConsoleSessions sessions,
    ILogger<ApiKeyService> log)
{
    /// <summary>Longer header values are not keys (a key is 67 characters): refused without hashing.</summary>
    public const int MaxKeyLength = 200;

    private readonly bool _cached = !options.UsesPostgres;
    private readonly ConcurrentDictionary<string, Caller> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _lastUseMinute = new(StringComparer.Ordinal);
    private long _generation;

    public static string NewKey() => "tk_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public static string NewKeyId() => "k_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    public async Task<Caller?> FindAsync(string key, CancellationToken ct)
    {
        if (CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(adminKey.Value)))
            return new Caller(Caller.AdminId, MemberRole.Admin, "admin", null, []);
        if (key.Length > MaxKeyLength) return null;
        var hash = Hash(key);
        if (!_cached || !_cache.TryGetValue(hash, out var caller))
        {
            // A revocation between this read and the cache write below must not leave the old answer cached.
            var generation = Interlocked.Read(ref _generation);
            caller = await LoadAsync(hash, ct);
            if (caller is null) return null;
            if (_cached && Interlocked.Read(ref _generation) == generation) _cache[hash] = caller;
        }
        await TouchAsync(caller.KeyId!, ct);
        return caller;
    }

    /// <summary>A key was revoked: refused from the next request on, and the console sessions signed in with it end.</summary>
    public void Revoked(string keyId) => Forget(c => c.KeyId == keyId);

    /// <summary>A member was deactivated: all its keys are refused from the next request on, its console sessions end.</summary>
    public void Deactivated(string memberId) => Forget(c => c.MemberId == memberId);

    private void Forget(Func<Caller, bool> which)
    {
        Interlocked.Increment(ref _generation);
        foreach (var (hash, caller) in _cache)
            if (which(caller)) _cache.TryRemove(hash, out _);
        sessions.EndWhere(which);
    }

    private async Task<Caller?> LoadAsync(string hash, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TraceDbContext>();
        var found = await (
            from k in db.MemberKeys.AsNoTracking()
            join m in db.Members.AsNoTracking() on k.MemberId equals m.Id
            where k.KeyHash == hash && k.RevokedAt == null && m.DeactivatedAt == null
            select new { KeyId = k.Id, Member = m }).FirstOrDefaultAsync(ct);
        return found is null ? null : new Caller(found.Member.Id, found.Member.Role, found.Member.Name, found.Member.Gln, found.Member.RegionCodes, found.KeyId);
    }

    /// <summary>Writes the key's last use when it was not written yet in this minute (by this process).</summary>
    private async Task TouchAsync(string keyId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var minute = now.ToUnixTimeSeconds() / 60;
        var written = _lastUseMinute.GetValueOrDefault(keyId, -1);
        if (written == minute) return;
        if (written == -1 ? !_lastUseMinute.TryAdd(keyId, minute) : !_lastUseMinute.TryUpdate(keyId, minute, written)) return; // another request writes it
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TraceDbContext>();
            var conn = await Sql.OpenAsync(db, ct);
            await Sql.ExecAsync(conn, null, "UPDATE member_keys SET last_used_at = @t WHERE id = @id", ct, ("@t", DbTime.Format(now)), ("@id", keyId));
        }
        catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException)
        {
            // The request goes on: a last-used time a minute late is better than a refused call.
            log.LogWarning(e, "Could not record the last use of key {KeyId}", keyId);
        }
    }
}

/// <summary>The admin key: TRACE_ADMIN_KEY, or generated once and kept in the data folder (admin-key, mode 0600).</summary>
public sealed class AdminKey(string value)
{
    public string Value { get; } = value;

    public static AdminKey LoadOrCreate(string? configured, string dataDir)
    {
        if (!string.IsNullOrWhiteSpace(configured)) return new AdminKey(configured.Trim());
        var path = Path.Combine(dataDir, "admin-key");
        if (File.Exists(path)) return new AdminKey(File.ReadAllText(path).Trim());
        var key = ApiKeyService.NewKey();
        Directory.CreateDirectory(dataDir);
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, key + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(tmp, path, overwrite: true);
        return new AdminKey(key);
    }
}

/// <summary>Endpoint filter: 401 without a valid X-Api-Key, 403 when the caller's role is not among those allowed.</summary>
public static class ApiKeyAuth
{
    public const string Header = "X-Api-Key";
    private const string CallerItem = "trace.caller";

    public static TBuilder RequireRoles<TBuilder>(this TBuilder builder, params MemberRole[] roles) where TBuilder : IEndpointConventionBuilder
    {
        builder.AddEndpointFilter(async (ctx, next) =>
        {
            var http = ctx.HttpContext;
            var caller = await AuthenticateAsync(http);
            if (caller is null)
                return Results.Problem(statusCode: 401, title: "Unauthorized", type: Errors.ProblemDetailsExceptionHandler.TypeBase + "unauthorized",
                    detail: $"Send a valid member API key in the {Header} header (or sign in to the console; its changes need the {ConsoleSessions.CsrfHeader}: 1 header).");
            if (roles.Length > 0 && caller.Role != MemberRole.Admin && !roles.Contains(caller.Role))
                return Results.Problem(statusCode: 403, title: "Forbidden", type: Errors.ProblemDetailsExceptionHandler.TypeBase + "forbidden",
                    detail: $"Role '{caller.Role.ToWire()}' may not do this; allowed: {string.Join(", ", roles.Select(r => r.ToWire()).Append("admin"))}.");
            return await next(ctx);
        });
        builder.WithMetadata(new ApiKeyRequirement());
        return builder;
    }

    /// <summary>The authenticated caller; only valid inside an endpoint protected by <see cref="RequireRoles{TBuilder}"/>.</summary>
    public static Caller Caller(this HttpContext http) =>
        http.Items[CallerItem] as Caller ?? throw new InvalidOperationException("The endpoint is not protected by RequireRoles.");

    /// <summary>The caller if a valid key was sent, else null (for endpoints open to anyone that show more to members).</summary>
    public static async Task<Caller?> AuthenticateAsync(HttpContext http)
    {
        if (http.Items[CallerItem] is Caller known) return known;
        if (!http.Request.Headers.TryGetValue(Header, out var values) || values.Count != 1 || string.IsNullOrWhiteSpace(values[0]))
        {
            // No key: the console's signed-in session, if any (ConsoleSessions; unsafe methods need its CSRF header).
            var session = http.RequestServices.GetService<ConsoleSessions>()?.Authenticate(http);
            if (session is not null) http.Items[CallerItem] = session;
            return session;
        }
        var caller = await http.RequestServices.GetRequiredService<ApiKeyService>().FindAsync(values[0]!, http.RequestAborted);
        if (caller is not null) http.Items[CallerItem] = caller;
        return caller;
    }
}

/// <summary>Marks endpoints that need X-Api-Key (the OpenAPI document shows it).</summary>
public sealed class ApiKeyRequirement;
