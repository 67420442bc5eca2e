namespace Traceability.Api.Features.Consumer;

/// <summary>The browser family of a User-Agent, coarse on purpose (no version, no device): WeChat, Firefox, Chrome, Safari or Other.</summary>
public static class UserAgents
{
    public static string Family(string? ua)
    {
        if (string.IsNullOrEmpty(ua)) return "Other";
        if (ua.Contains("MicroMessenger", StringComparison.Ordinal)) return "WeChat";
        if (ua.Contains("Firefox/", StringComparison.Ordinal) || ua.Contains("FxiOS/", StringComparison.Ordinal)) return "Firefox";
        if (ua.Contains("Chrome/", StringComparison.Ordinal) || ua.Contains("CriOS/", StringComparison.Ordinal)) return "Chrome";
        if (ua.Contains("Safari/", StringComparison.Ordinal)) return "Safari";
        return "Other";
    }
}
