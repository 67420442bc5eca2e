using System.Collections.Concurrent;

namespace Traceability.Testing;

/// <summary>
/// Temporary folders (data folders of the services a test starts, databases, bundles) that live as long as their owner,
/// a test fixture: a test may stop a service and start it again on the same folder, and the fixture removes them all
/// when its tests are done. <c>TRACE_TEST_KEEP_DATA=1</c> keeps them, to look into a failure.
/// </summary>
public sealed class TestFolders : IDisposable
{
    private readonly ConcurrentQueue<string> _made = new();

    /// <summary>A new empty folder under the system's temporary folder, named <paramref name="prefix"/> and a random suffix.</summary>
    public string Create(string prefix)
    {
        var dir = Directory.CreateTempSubdirectory(prefix).FullName;
        _made.Enqueue(dir);
        return dir;
    }

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("TRACE_TEST_KEEP_DATA") is "1") return;
        while (_made.TryDequeue(out var dir))
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // still held by a process that outlived its test: the system's cleaner takes it later
            }
        }
    }
}
