using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Traceability.Api.Features.Consumer;

/// <summary>The secret scan addresses are hashed with: TRACE_SCAN_SALT, or generated once and kept in the data folder (scan-salt, mode 0600).</summary>
public sealed class ScanSalt(byte[] key)
{
    public byte[] Key { get; } = key;

    public static ScanSalt LoadOrCreate(string? configured, string dataDir)
    {
        if (!string.IsNullOrWhiteSpace(configured)) return new ScanSalt(Encoding.UTF8.GetBytes(configured.Trim()));
        var path = Path.Combine(dataDir, "scan-salt");
        if (File.Exists(path)) return new ScanSalt(Encoding.UTF8.GetBytes(File.ReadAllText(path).Trim()));
        var salt = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        Directory.CreateDirectory(dataDir);
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, salt + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(tmp, path, overwrite: true);
        return new ScanSalt(Encoding.UTF8.GetBytes(salt));
    }

    public string HashAddress(IPAddress? address)
    {
        var text = address is null ? "unknown" : (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
        return Convert.ToHexStringLower(HMACSHA256.HashData(Key, Encoding.UTF8.GetBytes(text)));
    }
}
