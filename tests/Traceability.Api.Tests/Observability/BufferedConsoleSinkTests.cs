using System.Text;
using Serilog.Events;
using Serilog.Formatting.Display;
using Serilog.Parsing;
using Traceability.Api.Infrastructure.Observability;

namespace Traceability.Api.Tests.Observability;

/// <summary>The log writer for standard output as a pipe or a file: every line, in order, errors written before Emit returns.</summary>
public sealed class BufferedConsoleSinkTests
{
    private static readonly MessageTemplateTextFormatter Format = new("[{Level:u3}] {Message:lj}{NewLine}", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void EveryLineIsWrittenOnceInEachLoggersOrder()
    {
        var output = new RecordingStream(TimeSpan.Zero);
        using (var sink = new BufferedConsoleSink(Format, output))
            Parallel.For(0, 4, t => { for (var i = 0; i < 5_000; i++) sink.Emit(Entry(LogEventLevel.Information, $"t{t} {i}")); });

        var lines = output.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().HaveCount(20_000, "more lines than may wait at once, all written by Dispose");
        for (var t = 0; t < 4; t++)
            lines.Where(l => l.StartsWith($"[INF] t{t} ", StringComparison.Ordinal)).Select(l => int.Parse(l.Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture))
                .Should().Equal(Enumerable.Range(0, 5_000));
    }

    [Fact]
    public void AnErrorIsWrittenWithTheLinesBeforeItWhenEmitReturns()
    {
        var output = new RecordingStream(TimeSpan.FromMilliseconds(50)); // a slow reader: a line queued is not yet written
        using var sink = new BufferedConsoleSink(Format, output);
        for (var i = 0; i < 10; i++) sink.Emit(Entry(LogEventLevel.Information, $"before {i}"));
        sink.Emit(Entry(LogEventLevel.Error, "failed"));
        output.Text.Should().EndWith("[INF] before 9\n[ERR] failed\n");
    }

    [Fact]
    public void AfterDisposeALineIsWrittenAtOnce()
    {
        var output = new RecordingStream(TimeSpan.Zero);
        var sink = new BufferedConsoleSink(Format, output);
        sink.Emit(Entry(LogEventLevel.Information, "first"));
        sink.Dispose();
        sink.Emit(Entry(LogEventLevel.Information, "late"));
        output.Text.Should().Be("[INF] first\n[INF] late\n");
    }

    private static LogEvent Entry(LogEventLevel level, string text) =>
        new(DateTimeOffset.UtcNow, level, null, new MessageTemplateParser().Parse(text), []);

    /// <summary>Keeps what is written; each write takes <c>delay</c>.</summary>
    private sealed class RecordingStream(TimeSpan delay) : Stream
    {
        private readonly MemoryStream _bytes = new();

        public string Text { get { lock (_bytes) return Encoding.UTF8.GetString(_bytes.ToArray()); } }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (delay > TimeSpan.Zero) Thread.Sleep(delay);
            lock (_bytes) _bytes.Write(buffer);
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
