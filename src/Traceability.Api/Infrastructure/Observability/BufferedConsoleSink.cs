using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;

namespace Traceability.Api.Infrastructure.Observability;

/// <summary>
/// Log lines to standard output when it is a pipe or a file (scripts/run, a supervisor, a test): each entry formatted
/// on the thread that logs it, written by one background writer with as many lines per write() as are waiting. Serilog's
/// console sink writes and flushes every line on the logging thread under the console's lock: with one request log line
/// per request, a system call per request and a wake-up of the reader per line. Lines keep their order; an entry of
/// level Error or above returns only once it and every line before it are written (a crash right after it keeps it).
/// </summary>
public sealed class BufferedConsoleSink : ILogEventSink, IDisposable
{
    /// <summary>At most this many lines wait for the writer; a logger finding it full waits (the output is too slow).</summary>
    public const int MaxWaiting = 10_000;

    private readonly ITextFormatter _formatter;
    private readonly Stream _output;
    private readonly Channel<string> _lines = Channel.CreateBounded<string>(new BoundedChannelOptions(MaxWaiting)
        { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly Lock _queue = new(); // a line's number and its place in the channel are taken together
    private readonly object _progress = new();
    private readonly Task _writer;
    private long _queued;
    private long _written;

    public BufferedConsoleSink(ITextFormatter formatter, Stream output)
    {
        _formatter = formatter;
        _output = output;
        _writer = Task.Run(WriteAsync);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Dispose();
    }

    public void Emit(LogEvent logEvent)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        _formatter.Format(logEvent, text);
        var line = text.ToString();
        long number;
        while (true)
        {
            lock (_queue)
            {
                if (_lines.Writer.TryWrite(line)) { number = ++_queued; break; }
            }
            if (!_lines.Writer.WaitToWriteAsync().AsTask().GetAwaiter().GetResult())
            {
                // stopped: written here, after everything the writer had
                _writer.Wait(TimeSpan.FromSeconds(5));
                lock (_progress) WriteNow(line);
                return;
            }
        }
        if (logEvent.Level >= LogEventLevel.Error) WaitWritten(number);
    }

    /// <summary>Stops taking lines and writes those waiting (at most a few seconds).</summary>
    public void Dispose()
    {
        _lines.Writer.TryComplete();
        _writer.Wait(TimeSpan.FromSeconds(5));
    }

    private void WaitWritten(long number)
    {
        lock (_progress)
            while (Interlocked.Read(ref _written) < number && !_writer.IsCompleted) Monitor.Wait(_progress, 100);
    }

    private async Task WriteAsync()
    {
        using var writer = new StreamWriter(_output, new UTF8Encoding(false), 64 * 1024, leaveOpen: true) { AutoFlush = false };
        long count = 0;
        while (await _lines.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            try
            {
                while (_lines.Reader.TryRead(out var line)) { writer.Write(line); count++; }
                writer.Flush();
            }
            catch (IOException)
            {
                // the reader went away: the lines are lost, as the console sink's would be, and logging goes on
                while (_lines.Reader.TryRead(out _)) count++;
            }
            lock (_progress)
            {
                Interlocked.Exchange(ref _written, count);
                Monitor.PulseAll(_progress);
            }
        }
    }

    private void WriteNow(string line)
    {
        try
        {
            var bytes = Encoding.UTF8.GetBytes(line);
            _output.Write(bytes);
            _output.Flush();
        }
        catch (IOException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
