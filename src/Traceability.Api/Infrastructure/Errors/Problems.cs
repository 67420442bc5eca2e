using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Traceability.Api.Infrastructure.Errors;

/// <summary>One problem with one field of the request; <see cref="Index"/> is the event's position in a capture document.</summary>
/// <summary>A capture rule's refusal also names the <see cref="Rule"/> and the <see cref="Epc"/>.</summary>
public sealed record FieldError(string Field, string Message, int? Index = null, string? Rule = null, string? Epc = null);

/// <summary>The request is malformed or breaks a validation rule: 400 (or 422 when <see cref="Unprocessable"/>).</summary>
public sealed class RequestValidationException(string title, IReadOnlyList<FieldError> errors, bool unprocessable = false) : Exception(title)
{
    public IReadOnlyList<FieldError> Errors { get; } = errors;
    public bool Unprocessable { get; } = unprocessable;

    /// <summary>The last segment of the ProblemDetails type URI ("validation", or e.g. "rule-violation").</summary>
    public string Type { get; init; } = "validation";

    public static RequestValidationException ForField(string field, string message) => new($"Invalid {field}", [new FieldError(field, message)]);
}

public sealed class NotFoundException(string what) : Exception($"{what} was not found.");

/// <summary>The caller is known but may not see or do this (e.g. a manufacturer asking about another's lot): 403.</summary>
public sealed class ForbiddenException(string message) : Exception(message);

public sealed class ConflictException(string message) : Exception(message);

public sealed class PayloadTooLargeException(string message) : Exception(message);

public sealed class UnsupportedMediaTypeException(string message) : Exception(message);

/// <summary>Maps the exceptions above to RFC 7807 ProblemDetails with a stable <c>type</c>; anything else is a 500.</summary>
public sealed class ProblemDetailsExceptionHandler(IProblemDetailsService problems, ILogger<ProblemDetailsExceptionHandler> log) : IExceptionHandler
{
    public const string TypeBase = "https://traceability.example/problems/";

    /// <summary>
    /// The field a request that could not be bound gets wrong: the JSON path of a body System.Text.Json refused (a value
    /// of the wrong type, a duplicate key, a lone surrogate, too deep), else the parameter the framework names.
    /// </summary>
    public static (string Name, string Message)? BadRequestField(BadHttpRequestException bad)
    {
        if (bad.InnerException is System.Text.Json.JsonException json)
        {
            var path = json.Path is null or "$" ? "body" : json.Path.StartsWith("$.", StringComparison.Ordinal) ? json.Path[2..] : json.Path;
            return (path, $"{path}: the body is not JSON this request can read: {json.Message}");
        }
        var named = System.Text.RegularExpressions.Regex.Match(bad.Message, "parameter \"(?:[^\"]* )?([A-Za-z_][A-Za-z0-9_]*)\"");
        if (!named.Success) return null;
        var name = named.Groups[1].Value;
        return bad.Message.Contains(" body", StringComparison.Ordinal)
            ? ("body", $"body: {bad.Message}")
            : (name, $"{name}: {bad.Message}");
    }

    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        var (status, type, title) = exception switch
        {
            RequestValidationException { Unprocessable: true } v => (StatusCodes.Status422UnprocessableEntity, v.Type, v.Message),
            RequestValidationException v => (StatusCodes.Status400BadRequest, v.Type, v.Message),
            NotFoundException => (StatusCodes.Status404NotFound, "not-found", "Not found"),
            ForbiddenException => (StatusCodes.Status403Forbidden, "forbidden", "Forbidden"),
            ConflictException => (StatusCodes.Status409Conflict, "conflict", "Conflict"),
            PayloadTooLargeException => (StatusCodes.Status413PayloadTooLarge, "too-large", "Payload too large"),
            UnsupportedMediaTypeException => (StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "Unsupported media type"),
            BadHttpRequestException b when b.StatusCode == StatusCodes.Status413PayloadTooLarge => (413, "too-large", "Payload too large"),
            BadHttpRequestException b => (b.StatusCode, "bad-request", "Bad request"),
            _ => (StatusCodes.Status500InternalServerError, "internal", "An unexpected error occurred"),
        };
        if (status == 500) log.LogError(exception, "Unhandled exception on {Method} {Path}", http.Request.Method, http.Request.Path);

        var details = new ProblemDetails
        {
            Status = status,
            Type = TypeBase + type,
            Title = title,
            Detail = status == 500 ? null : exception.Message,
            Instance = http.Request.Path,
        };
        if (exception is RequestValidationException rv)
            details.Extensions["errors"] = rv.Errors.Select(e => new { index = e.Index, field = e.Field, message = e.Message, rule = e.Rule, epc = e.Epc }).ToArray();
        else if (exception is BadHttpRequestException bad && BadRequestField(bad) is { } field)
        {
            details.Detail = field.Message;
            details.Extensions["errors"] = new[] { new { index = (int?)null, field = field.Name, message = field.Message, rule = (string?)null, epc = (string?)null } };
        }

        http.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = details, Exception = exception });
    }
}
