using System.Diagnostics;
using System.Diagnostics.Metrics;
using Mediator;
using Traceability.Api.Infrastructure.Errors;

namespace Traceability.Api.Infrastructure.Requests;

/// <summary>
/// A request that can be checked on its own, before its handler runs. <see cref="ValidationBehavior{TMessage,TResponse}"/>
/// turns the errors into one 400 ProblemDetails naming every field. Checks that need the database stay in the handler.
/// </summary>
public interface IValidate
{
    /// <summary>The title of the 400, e.g. "Invalid member".</summary>
    static abstract string Invalid { get; }

    IEnumerable<FieldError> Validate();
}

/// <summary>Every field error of an <see cref="IValidate"/> request, before its handler: 400 through ProblemDetailsExceptionHandler.</summary>
public sealed class ValidationBehavior<TMessage, TResponse> : IPipelineBehavior<TMessage, TResponse>
    where TMessage : notnull, IMessage, IValidate
{
    public ValueTask<TResponse> Handle(TMessage message, MessageHandlerDelegate<TMessage, TResponse> next, CancellationToken ct)
    {
        var errors = message.Validate().ToList();
        if (errors.Count > 0) throw new RequestValidationException(TMessage.Invalid, errors);
        return next(message, ct);
    }
}

/// <summary>
/// The log line and the <c>trace.request.duration</c> histogram (meter "Traceability", tags <c>request.type</c> and
/// <c>outcome</c>: ok, refused — a 4xx the caller caused — or error) shared by every request.
/// </summary>
public sealed class RequestTiming(IMeterFactory meters, ILoggerFactory logs)
{
    public const string MeterName = "Traceability";
    public const string DurationInstrument = "trace.request.duration";

    /// <summary>The log category of the request lines: <c>Logging__LogLevel__Traceability.Requests=Warning</c> keeps only the slow ones.</summary>
    public const string LogCategory = "Traceability.Requests";

    public ILogger Log { get; } = logs.CreateLogger(LogCategory);

    /// <summary>A request slower than this is logged as a warning: every use case answers well within it at its size limits.</summary>
    public static readonly TimeSpan SlowAfter = TimeSpan.FromSeconds(2);

    public Histogram<double> Duration { get; } = meters.Create(MeterName)
        .CreateHistogram<double>(DurationInstrument, unit: "s", description: "Time to handle one command or query, by request type");

    /// <summary>"CaptureEpcisDocument.Command" rather than "Command": nested request types are named with their container.</summary>
    public static string NameOf(Type type) => type.DeclaringType is { } outer ? NameOf(outer) + "." + type.Name : type.Name;

    public static bool IsRefusal(Exception e) => e is RequestValidationException or NotFoundException or ForbiddenException or ConflictException
        or PayloadTooLargeException or UnsupportedMediaTypeException;
}

/// <summary>One log line per request with its type and elapsed time (a warning past <see cref="RequestTiming.SlowAfter"/>), and the duration histogram.</summary>
public sealed class TimingBehavior<TMessage, TResponse>(RequestTiming timing) : IPipelineBehavior<TMessage, TResponse>
    where TMessage : notnull, IMessage
{
    private static readonly string RequestType = RequestTiming.NameOf(typeof(TMessage));

    public async ValueTask<TResponse> Handle(TMessage message, MessageHandlerDelegate<TMessage, TResponse> next, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var outcome = "error";
        try
        {
            var response = await next(message, ct);
            outcome = "ok";
            return response;
        }
        catch (Exception e) when (RequestTiming.IsRefusal(e))
        {
            outcome = "refused";
            throw;
        }
        finally
        {
            var elapsed = Stopwatch.GetElapsedTime(started);
            timing.Duration.Record(elapsed.TotalSeconds, new("request.type", RequestType), new("outcome", outcome));
            if (elapsed > RequestTiming.SlowAfter)
                timing.Log.LogWarning("{RequestType} {Outcome} in {ElapsedMs:0.0} ms (slow: over {SlowMs} ms)", RequestType, outcome, elapsed.TotalMilliseconds, RequestTiming.SlowAfter.TotalMilliseconds);
            else
                timing.Log.LogInformation("{RequestType} {Outcome} in {ElapsedMs:0.0} ms", RequestType, outcome, elapsed.TotalMilliseconds);
        }
    }
}
