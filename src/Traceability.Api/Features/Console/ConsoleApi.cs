using System.Collections.Frozen;
using Microsoft.AspNetCore.Http.HttpResults;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;

namespace Traceability.Api.Features.Console;

/// <summary>
/// The members' console at /console: static HTML, ES modules and CSS embedded in the assembly (with ECharts and the
/// maps bundled at build), a sign-in that trades an API key for a cookie session (<see cref="ConsoleSessions"/>), and a
/// strict Content-Security-Policy on every response, so that the pages can load nothing from another host and run no
/// inline script. The pages call the same /api/v1 endpoints as any client, with the session cookie.
/// </summary>
public static class ConsoleApi
{
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public const string LangCookie = "trace_lang";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>
    {
        [".html"] = "text/html; charset=utf-8", [".js"] = "text/javascript; charset=utf-8", [".css"] = "text/css; charset=utf-8",
        [".json"] = "application/json; charset=utf-8", [".svg"] = "image/svg+xml", [".png"] = "image/png", [".txt"] = "text/plain; charset=utf-8",
    }.ToFrozenDictionary();

    private static readonly Lazy<FrozenDictionary<string, byte[]>> Files = new(() =>
    {
        var asm = typeof(ConsoleApi).Assembly;
        return asm.GetManifestResourceNames().Where(n => n.StartsWith("console/", StringComparison.Ordinal)).ToFrozenDictionary(
            n => n["console/".Length..], n =>
            {
                using var s = asm.GetManifestResourceStream(n)!;
                using var m = new MemoryStream();
                s.CopyTo(m);
                return m.ToArray();
            }, StringComparer.Ordinal);
    });

    public sealed record SignIn(string? ApiKey);
    public sealed record SessionInfo(string MemberId, string Name, string Role, string? Gln, IReadOnlyList<string> RegionCodes, string Lang);

    public static IServiceCollection AddConsole(this IServiceCollection services) => services.AddSingleton<ConsoleSessions>();

    public static IEndpointRouteBuilder MapConsole(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("console").WithTags("Console").ExcludeFromDescription();
        group.AddEndpointFilter(async (ctx, next) =>
        {
            var h = ctx.HttpContext.Response.Headers;
            h.ContentSecurityPolicy = ContentSecurityPolicy;
            h.XContentTypeOptions = "nosniff";
            h["Referrer-Policy"] = "no-referrer";
            h.XFrameOptions = "DENY";
            return await next(ctx);
        });
        group.MapGet("", Index);
        group.MapGet("session", GetSession);
        group.MapPost("session", SignInAsync);
        group.MapDelete("session", SignOut);
        group.MapGet("{**path}", Static);
        return app;
    }

    /// <summary>The page shell in the language of the lang cookie, else of Accept-Language.</summary>
    private static IResult Index(HttpContext http)
    {
        var html = System.Text.Encoding.UTF8.GetString(Files.Value["index.html"]).Replace("<html lang=\"zh-CN\">", $"<html lang=\"{Lang(http)}\">", StringComparison.Ordinal);
        http.Response.Headers.CacheControl = "no-store";
        return Results.Content(html, "text/html; charset=utf-8");
    }

    private static IResult Static(string path, HttpContext http)
    {
        if (path == "index.html" || !Files.Value.TryGetValue(path, out var bytes)) return Results.NotFound();
        var type = ContentTypes.GetValueOrDefault(Path.GetExtension(path), "application/octet-stream");
        http.Response.Headers.CacheControl = path.StartsWith("vendor/", StringComparison.Ordinal) ? "public, max-age=86400" : "no-cache";
        return Results.Bytes(bytes, type);
    }

    /// <summary>The signed-in member, or 204 when not signed in (an expected answer for the page, not an error in its console).</summary>
    private static Results<Ok<SessionInfo>, NoContent> GetSession(HttpContext http)
    {
        var caller = http.RequestServices.GetRequiredService<ConsoleSessions>().Authenticate(http);
        return caller is null ? TypedResults.NoContent() : TypedResults.Ok(Info(caller, http));
    }

    private static async Task<Results<Ok<SessionInfo>, ProblemHttpResult>> SignInAsync(SignIn body, HttpContext http, ApiKeyService keys, ConsoleSessions sessions)
    {
        // The CSRF header on the sign-in too, so that another site cannot sign a browser in to an account of its choosing.
        if (http.Request.Headers[ConsoleSessions.CsrfHeader] != "1")
            return TypedResults.Problem(statusCode: 403, title: "Forbidden", type: ProblemDetailsExceptionHandler.TypeBase + "forbidden",
                detail: $"Sign in from the console (it sends {ConsoleSessions.CsrfHeader}: 1).");
        if (string.IsNullOrWhiteSpace(body.ApiKey) || body.ApiKey.Length > 200)
            throw RequestValidationException.ForField("apiKey", "apiKey is the member's API key (at most 200 characters).");
        var caller = await keys.FindAsync(body.ApiKey.Trim(), http.RequestAborted);
        if (caller is null) return Unauthorized("This API key is not valid.");
        sessions.End(http.Request.Cookies[ConsoleSessions.Cookie]);
        http.Response.Cookies.Append(ConsoleSessions.Cookie, sessions.Start(caller), ConsoleSessions.CookieOptions(http));
        return TypedResults.Ok(Info(caller, http));
    }

    private static IResult SignOut(HttpContext http, ConsoleSessions sessions)
    {
        if (http.Request.Headers[ConsoleSessions.CsrfHeader] != "1")
            return TypedResults.Problem(statusCode: 403, title: "Forbidden", type: ProblemDetailsExceptionHandler.TypeBase + "forbidden",
                detail: $"Sign out from the console (it sends {ConsoleSessions.CsrfHeader}: 1).");
        sessions.End(http.Request.Cookies[ConsoleSessions.Cookie]);
        http.Response.Cookies.Delete(ConsoleSessions.Cookie, ConsoleSessions.CookieOptions(http));
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult Unauthorized(string detail) =>
        TypedResults.Problem(statusCode: 401, title: "Unauthorized", type: ProblemDetailsExceptionHandler.TypeBase + "unauthorized", detail: detail);

    private static SessionInfo Info(Caller c, HttpContext http) => new(c.MemberId, c.Name, c.Role.ToWire(), c.Gln, c.RegionCodes, Lang(http));

    /// <summary>"en" or "zh-CN": the lang cookie the toggle sets, else the first of Accept-Language that is one of them (Chinese by default).</summary>
    public static string Lang(HttpContext http)
    {
        if (http.Request.Cookies.TryGetValue(LangCookie, out var c) && c is "en" or "zh-CN") return c;
        foreach (var l in http.Request.GetTypedHeaders().AcceptLanguage.OrderByDescending(l => l.Quality ?? 1))
        {
            var tag = l.Value.Value ?? "";
            if (tag.StartsWith("en", StringComparison.OrdinalIgnoreCase)) return "en";
            if (tag.StartsWith("zh", StringComparison.OrdinalIgnoreCase)) return "zh-CN";
        }
        return "zh-CN";
    }
}
