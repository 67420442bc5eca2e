using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Traceability.Api.Infrastructure.Auth;

/// <summary>
/// The console's sign-in sessions: signing in with an API key creates a session whose random id (32 bytes) goes in an
/// HttpOnly, SameSite=Strict cookie; the key itself is never stored or sent back. Only the id's SHA-256 is kept, in
/// memory (a restart signs everyone out; with several instances behind one address, pin the console to one). A session
/// ends on sign-out, after 8 hours unused, or 24 hours after sign-in. A request authenticated by the cookie may only
/// change something (POST, PUT, PATCH, DELETE) when it carries the header X-Trace-Console: 1, which another site's form
/// cannot send and its scripts cannot send cross-origin without a CORS grant (there is none).
/// </summary>
public sealed class ConsoleSessions(TimeProvider time)
{
    public const string Cookie = "trace_console";
    public const string CsrfHeader = "X-Trace-Console";
    public static readonly TimeSpan Idle = TimeSpan.FromHours(8);
    public static readonly TimeSpan Absolute = TimeSpan.FromHours(24);
    public const int MaxSessions = 10_000;

    private sealed class Session(Caller caller, DateTimeOffset created)
    {
        public Caller Caller { get; } = caller;
        public DateTimeOffset Created { get; } = created;
        public DateTimeOffset LastSeen { get; set; } = created;
    }

    private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);

    /// <summary>A new session for the caller; the id to put in the cookie.</summary>
    public string Start(Caller caller)
    {
        var now = time.GetUtcNow();
        if (_sessions.Count >= MaxSessions)
        {
            foreach (var (k, s) in _sessions) if (Expired(s, now)) _sessions.TryRemove(k, out _);
            foreach (var (k, _) in _sessions.OrderBy(x => x.Value.LastSeen).Take(Math.Max(0, _sessions.Count - MaxSessions + 1))) _sessions.TryRemove(k, out _);
        }
        var id = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        _sessions[Hash(id)] = new Session(caller, now);
        return id;
    }

    public void End(string? id)
    {
        if (!string.IsNullOrEmpty(id)) _sessions.TryRemove(Hash(id), out _);
    }

    /// <summary>Ends every session whose caller matches (its key was revoked, its member deactivated).</summary>
    public void EndWhere(Func<Caller, bool> which)
    {
        foreach (var (k, s) in _sessions)
            if (which(s.Caller)) _sessions.TryRemove(k, out _);
    }

    /// <summary>The caller of a live session (and the session is refreshed), else null.</summary>
    public Caller? Find(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 100) return null;
        var key = Hash(id);
        if (!_sessions.TryGetValue(key, out var s)) return null;
        var now = time.GetUtcNow();
        if (Expired(s, now))
        {
            _sessions.TryRemove(key, out _);
            return null;
        }
        s.LastSeen = now;
        return s.Caller;
    }

    /// <summary>The caller of the request's console cookie, when it has one and, for an unsafe method, the CSRF header.</summary>
    public Caller? Authenticate(HttpContext http)
    {
        if (!http.Request.Cookies.TryGetValue(Cookie, out var id)) return null;
        if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method) && !HttpMethods.IsOptions(http.Request.Method)
            && http.Request.Headers[CsrfHeader] != "1")
            return null;
        return Find(id);
    }

    public static CookieOptions CookieOptions(HttpContext http) => new()
    {
        HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = http.Request.IsHttps, Path = "/", IsEssential = true,
    };

    private static bool Expired(Session s, DateTimeOffset now) => now - s.LastSeen > Idle || now - s.Created > Absolute;

    private static string Hash(string id) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)));
}
