using System.Globalization;
using System.Text.RegularExpressions;
using FluentAssertions;

namespace Traceability.Api.Tests.Reliability;

/// <summary>
/// The service started as scripts/run starts it: from a folder that holds its data folder (the repository and its
/// data/). The host watches its content root with inotify (for appsettings.json, every folder below it); had that been
/// the working directory, each write to the database and its WAL would wake the watcher. The content root is the
/// application's own folder, so nothing the service writes is watched. Reads the process's inotify watches from
/// /proc (Linux).
/// </summary>
public sealed partial class ContentRootTests : IAsyncLifetime
{
    private readonly string _start = Directory.CreateTempSubdirectory("trace-content-root").FullName;
    private ApiProcess? _service;

    [GeneratedRegex(@"^inotify wd:\S+ ino:([0-9a-f]+) sdev:", RegexOptions.Multiline)]
    private static partial Regex InotifyWatch();

    [Fact]
    public async Task NoFolderTheServiceWritesIsWatched()
    {
        if (!OperatingSystem.IsLinux()) return; // /proc/<pid>/fdinfo is Linux's
        var dataDir = Directory.CreateDirectory(Path.Combine(_start, "data")).FullName;
        _service = await ApiProcess.StartAsync(dataDir, new Dictionary<string, string>(), workingDirectory: _start);
        await _service.MemberAsync("manufacturer", "Watched Manufacturer"); // the database is open and written

        var watched = WatchedInodes(_service.Pid);
        watched.Should().NotBeEmpty("the host watches its content root (appsettings.json), so the check below reads real watches");
        watched.Should().NotContain(Inode(_start), "the working directory is not the content root");
        watched.Should().NotContain(Inode(dataDir), "the data folder is not watched");
        watched.Should().Contain(Inode(AppContext.BaseDirectory), "the content root is the application's folder");
    }

    private static HashSet<ulong> WatchedInodes(int pid)
    {
        var inodes = new HashSet<ulong>();
        foreach (var fd in Directory.GetFiles($"/proc/{pid}/fdinfo"))
        {
            string text;
            try { text = File.ReadAllText(fd); }
            catch (IOException) { continue; } // closed meanwhile
            foreach (Match m in InotifyWatch().Matches(text)) inodes.Add(ulong.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }
        return inodes;
    }

    private static ulong Inode(string path)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("stat") { RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("%i");
        psi.ArgumentList.Add(path);
        using var stat = System.Diagnostics.Process.Start(psi)!;
        var text = stat.StandardOutput.ReadToEnd();
        stat.WaitForExit();
        return ulong.Parse(text.Trim(), CultureInfo.InvariantCulture);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_service is not null) await _service.DisposeAsync();
        try { Directory.Delete(_start, recursive: true); } catch (IOException) { }
    }
}
