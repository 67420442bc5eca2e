namespace Traceability.Api.Infrastructure.Http;

/// <summary>
/// Browser protections. Every answer: X-Content-Type-Options nosniff (a JSON or CSV body is never run as a script or
/// page) and Referrer-Policy no-referrer (a consumer page's URL holds the unit's serial). HTML answers (consumer pages,
/// the OpenAPI UI) also get a Content-Security-Policy: scripts, styles and images from this origin only (inline styles
/// and data: images, which the pages and the UI use), no plug-ins, no framing (frame-ancestors 'none', and X-Frame-Options
/// for older browsers), unless the answer set a policy of its own (the console's is stricter).
/// </summary>
public static class SecurityHeaders
{
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; " +
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((http, next) =>
    {
        http.Response.OnStarting(static state =>
        {
            var response = ((HttpContext)state).Response;
            var headers = response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            if (response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true)
            {
                if (string.IsNullOrEmpty(headers.ContentSecurityPolicy)) headers.ContentSecurityPolicy = ContentSecurityPolicy; // a page's own stricter policy (the console's) stays
                headers.XFrameOptions = "DENY";
            }
            return Task.CompletedTask;
        }, http);
        return next(http);
    });
}
