using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Infrastructure.Auth;

/// <summary>The caller behind an X-Api-Key: a member, or the admin (the key given to scripts/run).</summary>
public sealed record Caller(string MemberId, MemberRole Role, string Name, string? Gln, IReadOnlyList<string> RegionCodes)
{
    public const string AdminId = "admin";
    public bool SeesEverything => Role is MemberRole.Admin or MemberRole.Regulator;
}

/// <summary>API keys: 32 random bytes, shown once, stored as their SHA-256 hash.</summary>
public sealed class ApiKeyService(IServiceScopeFactory scopes, AdminKey adminKey)
{
    private readonly ConcurrentDictionary<string, Caller> _cache = new(StringComparer.Ordinal);

    public static string NewKey() => "tk_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public async Task<Caller?> FindAsync(string key, CancellationToken ct)
    {
        if (CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(adminKey.Value)))
            return new Caller(Caller.AdminId, MemberRole.Admin, "admin", null, []);
        var hash = Hash(key);
        if (_cache.TryGetValue(hash, out var cached)) return cached;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TraceDbContext>();
        var m = await db.Members.AsNoTracking().FirstOrDefaultAsync(x => x.ApiKeyHash == hash, ct);
        if (m is null) return null;
        var caller = new Caller(m.Id, m.Role, m.Name, m.Gln, m.RegionCodes);
        _cache[hash] = caller;
        return caller;
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
