namespace Traceability.Api.Infrastructure.Reliability;

/// <summary>
/// Named places in capture and anchoring where the reliability tests kill the service (SIGKILL, as a power cut or the
/// OOM killer would) to prove that a restart on the same data loses no acknowledged event and anchors no range twice
/// or skips one. A testing setting only: TRACE_CRASH_AT=&lt;point&gt;[:&lt;n&gt;] (the n-th time the point is reached, 1 by
/// default) is read once at start and refused unless TRACE_TESTING is on. Unarmed, <see cref="Hit"/> is one field read.
/// </summary>
public static class CrashPoints
{
    public const string CaptureAfterValidate = "capture.after-validate";
    public const string CaptureAfterInsertBeforeCommit = "capture.after-insert-before-commit";
    public const string CaptureAfterCommitBeforeResponse = "capture.after-commit-before-response";
    public const string EpcisJobAfterCaptureBeforeRecord = "epcis-job.after-capture-before-record";
    public const string AnchorAfterTreeBuilt = "anchor.after-tree-built";
    public const string AnchorBeforeSend = "anchor.before-send";
    public const string AnchorAfterSendBeforeRecord = "anchor.after-send-before-record";
    public const string AnchorWhilePending = "anchor.while-pending";
    public const string AnchorAfterMinedBeforeRecord = "anchor.after-mined-before-record";
    public const string AnchorAfterRecord = "anchor.after-record";

    public static readonly IReadOnlyList<string> All =
    [
        CaptureAfterValidate, CaptureAfterInsertBeforeCommit, CaptureAfterCommitBeforeResponse, EpcisJobAfterCaptureBeforeRecord,
        AnchorAfterTreeBuilt, AnchorBeforeSend, AnchorAfterSendBeforeRecord, AnchorWhilePending, AnchorAfterMinedBeforeRecord, AnchorAfterRecord,
    ];

    private static volatile string? _armed;
    private static int _remaining;

    /// <summary>The point and the hit it fires on, from TRACE_CRASH_AT; null when unset. Throws naming the problem.</summary>
    public static (string Point, int Hit)? Parse(string? setting, bool testing)
    {
        if (string.IsNullOrWhiteSpace(setting)) return null;
        if (!testing)
            throw new InvalidOperationException("TRACE_CRASH_AT kills the service on purpose and is a testing setting: it is refused unless TRACE_TESTING is on.");
        var parts = setting.Trim().Split(':');
        var hit = 1;
        if (parts.Length > 2 || !All.Contains(parts[0]) ||
            (parts.Length == 2 && (!int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out hit) || hit < 1)))
            throw new InvalidOperationException($"TRACE_CRASH_AT must be <point>[:<n>] with n ≥ 1 and point one of {string.Join(", ", All)}; got '{setting}'.");
        return (parts[0], hit);
    }

    /// <summary>Arms one point (or none); called once at start.</summary>
    public static void Arm((string Point, int Hit)? crash)
    {
        _remaining = crash?.Hit ?? 0;
        _armed = crash?.Point;
    }

    /// <summary>Kills this process with SIGKILL when <paramref name="point"/> is the armed one and this is its n-th hit.</summary>
    public static void Hit(string point)
    {
        if (_armed is not { } armed || !string.Equals(armed, point, StringComparison.Ordinal)) return;
        if (Interlocked.Decrement(ref _remaining) != 0) return;
        Console.Error.WriteLine($"TRACE_CRASH_AT: crash point {point} reached; killing the process (SIGKILL)");
        Console.Error.Flush();
        System.Diagnostics.Process.GetCurrentProcess().Kill(); // SIGKILL on Unix: no finally block, no flush, no shutdown
    }
}
