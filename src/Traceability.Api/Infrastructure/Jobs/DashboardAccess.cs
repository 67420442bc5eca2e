using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Hangfire;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Configuration;

namespace Traceability.Api.Infrastructure.Jobs;

/// <summary>
/// The Hangfire dashboard at /hangfire, for the admin only, from a browser: GET /hangfire/login shows a form for the
/// admin key; POST /hangfire/login checks it and sets a cookie holding a data-protected, expiring ticket (never the
/// key), HttpOnly, SameSite=Strict, sent only to /hangfire. Member keys, wrong keys and requests without that cookie
/// are refused wherever they come from (Hangfire's own default admits any local request; it is replaced here).
/// </summary>
public static class DashboardAccess
{
    public const string Path = "/hangfire";
    public const string LoginPath = Path + "/login";
    public const string Scheme = "trace-dashboard";
    public const string CookieName = "trace_dashboard";
    public static readonly TimeSpan SessionLifetime = TimeSpan.FromHours(8);
    private const string Policy = "trace-dashboard-admin";
    private const string AdminRole = "admin";

    public static IServiceCollection AddDashboardAccess(this IServiceCollection services, TraceOptions options)
    {
        // The ticket's keys are kept in the data folder, so a session survives a restart of the same service.
        services.AddDataProtection().SetApplicationName("Traceability")
            .PersistKeysToFileSystem(new DirectoryInfo(System.IO.Path.Combine(options.DataDir, "dashboard-keys")));
        services.AddAuthentication(Scheme).AddCookie(Scheme, c =>
        {
            c.Cookie.Name = CookieName;
            c.Cookie.Path = Path;
            c.Cookie.HttpOnly = true;
            c.Cookie.SameSite = SameSiteMode.Strict;
            c.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            c.ExpireTimeSpan = SessionLifetime;
            c.SlidingExpiration = false;
            c.LoginPath = LoginPath;
            c.Events.OnRedirectToAccessDenied = ctx => { ctx.Response.StatusCode = StatusCodes.Status403Forbidden; return Task.CompletedTask; };
        });
        services.AddAuthorizationBuilder().AddPolicy(Policy, p => p.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser().RequireRole(AdminRole));
        return services;
    }

    /// <summary>True only for a request carrying the admin's dashboard session (where it comes from does not matter).</summary>
    public static bool IsAdminSession(ClaimsPrincipal? user) =>
        user?.Identities.Any(i => i.IsAuthenticated && i.AuthenticationType == Scheme && i.HasClaim(ClaimTypes.Role, AdminRole)) == true;

    internal static void MapDashboard(this WebApplication app)
    {
        var dashboard = new DashboardOptions
        {
            Authorization = [new AdminSessionFilter()],
            AsyncAuthorization = [],
            DashboardTitle = "Traceability jobs",
            AppPath = "/swagger",
            DisplayStorageConnectionString = false, // the PostgreSQL connection string may hold a password
        };
        // The policy turns a browser without a session to the sign-in form; the filter is Hangfire's own gate.
        app.MapHangfireDashboard(Path, dashboard, app.Services.GetRequiredService<JobStorage>()).RequireAuthorization(Policy);
        app.MapGet(LoginPath, (string? returnUrl) => Form(returnUrl, null, StatusCodes.Status200OK)).ExcludeFromDescription();
        app.MapPost(LoginPath, SignInAsync).ExcludeFromDescription();
        app.MapPost(Path + "/logout", async (HttpContext http) =>
        {
            await http.SignOutAsync(Scheme);
            return Results.Redirect(LoginPath, preserveMethod: false);
        }).ExcludeFromDescription();
    }

    private static async Task<IResult> SignInAsync(HttpContext http, AdminKey admin, ILoggerFactory logs)
    {
        var form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync(http.RequestAborted) : null;
        var key = form?["key"].ToString() ?? "";
        var returnUrl = form?["returnUrl"].ToString();
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(key.Trim()), Encoding.UTF8.GetBytes(admin.Value)))
        {
            logs.CreateLogger(typeof(DashboardAccess)).LogWarning("Dashboard sign-in refused from {Client}: not the admin key", http.Connection.RemoteIpAddress);
            return Form(returnUrl, "That is not the admin key.", StatusCodes.Status401Unauthorized);
        }
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, Caller.AdminId), new Claim(ClaimTypes.Role, AdminRole)], Scheme);
        await http.SignInAsync(Scheme, new ClaimsPrincipal(identity), new AuthenticationProperties { IsPersistent = true });
        // Only a path inside the dashboard is followed, so the form cannot be used to send the admin elsewhere.
        var target = returnUrl is { Length: > 0 } r && (r == Path || r.StartsWith(Path + "/", StringComparison.Ordinal)) && !r.Contains("//", StringComparison.Ordinal) ? r : Path;
        return Results.Redirect(target, preserveMethod: false);
    }

    private static IResult Form(string? returnUrl, string? error, int status) => Results.Content($$"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Traceability jobs: sign in</title>
        <style>body{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}input{width:100%;padding:.5rem;margin:.5rem 0;box-sizing:border-box}p.error{color:#b00020}</style></head>
        <body><h1>Jobs dashboard</h1>
        {{(error is null ? "" : $"<p class=\"error\">{WebUtility.HtmlEncode(error)}</p>")}}
        <form method="post" action="{{LoginPath}}">
        <label for="key">Admin key (<code>data/admin-key</code>)</label>
        <input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
        <input type="hidden" name="returnUrl" value="{{WebUtility.HtmlEncode(returnUrl ?? Path)}}">
        <input type="submit" value="Sign in">
        </form></body></html>
        """, "text/html; charset=utf-8", Encoding.UTF8, status);

    /// <summary>Hangfire's gate: the admin's dashboard session, and nothing else (in particular not the request's address).</summary>
    public sealed class AdminSessionFilter : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context) => IsAdminSession(context.GetHttpContext().User);
    }
}
