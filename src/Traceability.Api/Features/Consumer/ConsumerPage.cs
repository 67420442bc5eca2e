using System.Globalization;
using System.Net;
using System.Text;
using Traceability.Api.Domain;

namespace Traceability.Api.Features.Consumer;

/// <summary>A warning shown to the consumer; <see cref="Type"/> is one of the alert types (counterfeit, recall, hold, tamper).</summary>
public sealed record Warning(string Type, string Message);

/// <summary>
/// The consumer page: server-rendered, mobile-first HTML with no external asset (inline CSS, inline SVG badge), in the
/// language of <see cref="ConsumerTexts"/>. A recall or hold banner comes above everything; counterfeit warnings next.
/// </summary>
public static class ConsumerPage
{
    public static IReadOnlyList<Warning> Warnings(ConsumerModel m, ConsumerTexts t)
    {
        var list = new List<Warning>();
        if (m.Status == UnitStatus.Recalled) list.Add(new(AlertTypes.Recall, t.Recalled));
        if (m.Status == UnitStatus.OnHold) list.Add(new(AlertTypes.Hold, t.OnHold));
        if (!m.Known) list.Add(new(AlertTypes.Counterfeit, t.UnknownBody));
        if (m.Scans is { TooMany: true } s) list.Add(new(AlertTypes.Counterfeit, string.Format(CultureInfo.InvariantCulture, t.CounterfeitScans, s.Count)));
        if (m.Scans is { TooManyCities: true } c) list.Add(new(AlertTypes.Counterfeit, string.Format(CultureInfo.InvariantCulture, t.CounterfeitCities, c.CitiesIn24Hours)));
        if (m.LotMismatch) list.Add(new(AlertTypes.Counterfeit, t.LotMismatch));
        if (m.Verification == Verification.Mismatch) list.Add(new(AlertTypes.Tamper, t.MismatchDetail));
        if (m.Service is { Status: Lifecycle.ServiceStatus.Expired, DueDate: { } ended })
            list.Add(new(AlertTypes.Expired, string.Format(CultureInfo.InvariantCulture, t.Service.Expired, Day(ended))));
        else if (m.Service is { Status: Lifecycle.ServiceStatus.Overdue, DueDate: { } due })
            list.Add(new(AlertTypes.Overdue, string.Format(CultureInfo.InvariantCulture, t.Service.Overdue, Day(due))));
        return list;
    }

    public static string Html(ConsumerModel m, ConsumerTexts t, IReadOnlyList<Warning> warnings, string pagePath, string otherLanguageQuery)
    {
        var h = new StringBuilder(8192);
        var title = m.Known ? m.ProductName ?? t.UnknownProduct : t.UnknownTitle;
        h.Append("<!doctype html><html lang=\"").Append(t.Lang).Append("\"><head><meta charset=\"utf-8\">")
         .Append("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><meta name=\"robots\" content=\"noindex\">")
         .Append("<title>").Append(E(title)).Append(" · ").Append(E(t.Title)).Append("</title><style>").Append(Css).Append("</style></head><body>");

        foreach (var w in warnings.Where(w => w.Type is AlertTypes.Recall or AlertTypes.Hold))
            h.Append("<div class=\"banner\" id=\"status-banner\" role=\"alert\" data-status=\"").Append(E(m.Status)).Append("\">")
             .Append(WarnIcon).Append("<span>").Append(E(w.Message)).Append("</span></div>");

        h.Append("<main><header><p class=\"kicker\">").Append(E(t.Title)).Append("</p><h1 id=\"product-name\">").Append(E(title)).Append("</h1>");
        if (m.Known && m.ProductDescription is { Length: > 0 } d) h.Append("<p class=\"desc\">").Append(E(d)).Append("</p>");
        h.Append("<p class=\"ids\">").Append(E(t.Gtin)).Append(" <code>").Append(E(m.Gtin)).Append("</code> · ")
         .Append(E(t.Serial)).Append(" <code id=\"serial\">").Append(E(m.Serial)).Append("</code></p></header>");

        foreach (var w in warnings.Where(w => w.Type is AlertTypes.Overdue or AlertTypes.Expired))
            h.Append("<div class=\"warning\" role=\"alert\" id=\"service-warning\" data-type=\"").Append(w.Type).Append("\">")
             .Append(WarnIcon).Append("<span>").Append(E(w.Message)).Append("</span></div>");

        foreach (var w in warnings.Where(w => w.Type is AlertTypes.Counterfeit or AlertTypes.Tamper))
            h.Append("<div class=\"warning\" role=\"alert\" data-type=\"").Append(w.Type).Append("\"")
             .Append(w.Type == AlertTypes.Counterfeit ? m.Known ? " id=\"counterfeit-warning\"" : " id=\"unknown-code\"" : "")
             .Append('>').Append(WarnIcon).Append("<span>").Append(E(w.Message)).Append("</span></div>");

        if (!m.Known)
        {
            Footer(h, t, pagePath, otherLanguageQuery);
            return h.ToString();
        }

        Badge(h, m, t);

        h.Append("<section class=\"card\"><dl class=\"facts\">");
        Fact(h, t.Lot, m.Lot, "lot");
        Fact(h, t.ProductionDate, m.ProductionDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "production-date");
        Fact(h, t.Manufacturer, m.Manufacturer, "manufacturer");
        Fact(h, t.Status, t.StatusLabel(m.Status), "status");
        if (m.Scans is { } s)
        {
            Fact(h, t.FirstScan, s.First?.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " (UTC+8)", "first-scan");
            Fact(h, t.ScanCount, s.Count.ToString(CultureInfo.InvariantCulture), "scan-count");
        }
        h.Append("</dl></section>");

        if (m.Service is { } sv)
        {
            var w = t.Service;
            h.Append("<section class=\"card\" id=\"service\" data-status=\"").Append(E(sv.Status)).Append("\"><h2>").Append(E(w.Title)).Append("</h2><dl class=\"facts\">");
            Fact(h, w.InstalledAt, Day(sv.InstalledAt), "installed-at");
            Fact(h, w.Site, sv.Site, "site");
            Fact(h, w.LastInspection, sv.LastInspection is { } li ? Day(li) : w.NotInspected, "last-inspection");
            Fact(h, w.NextInspection, sv.NextInspection is { } ni ? Day(ni) : null, "next-inspection");
            Fact(h, w.NextPressureTest, sv.NextPressureTest is { } np ? Day(np) : null, "next-pressure-test");
            Fact(h, w.ServiceLifeEnds, sv.ServiceLifeEnds is { } le ? Day(le) : null, "service-life-ends");
            h.Append("</dl></section>");
        }

        h.Append("<section class=\"card\" id=\"journey\"><h2>").Append(E(t.Journey)).Append("</h2>");
        if (m.Steps.Count == 0) h.Append("<p class=\"muted\">").Append(E(t.NoEvents)).Append("</p>");
        else
        {
            h.Append("<ol class=\"timeline\">");
            foreach (var step in m.Steps)
            {
                h.Append("<li data-sequence=\"").Append(step.Sequence).Append("\" data-step=\"").Append(E(step.Step)).Append("\"><div class=\"dot")
                 .Append(step.Check == ChainCheck.Verified ? " ok" : "").Append("\"></div><div class=\"what\"><strong>").Append(E(t.StepLabel(step.Step)))
                 .Append("</strong> <time datetime=\"").Append(step.Time.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture)).Append("\">")
                 .Append(step.Time.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)).Append("</time>");
                if (step.Place is { } p)
                    h.Append("<div class=\"place\">").Append(E(p.Name)).Append(" · ").Append(E(t.Region(p.RegionCode))).Append("</div>");
                h.Append("<div class=\"chain\">");
                if (step.Anchor is { } a)
                {
                    h.Append(E(t.Anchor)).Append(" #").Append(a.Sequence);
                    if (a.BlockNumber is { } b) h.Append(" · ").Append(E(t.Block)).Append(" #").Append(b);
                    if (a.TxHash is { } tx) h.Append(" · ").Append(E(t.Transaction)).Append(" <code title=\"").Append(E(tx)).Append("\">").Append(E(Short(tx))).Append("</code>");
                    h.Append(step.ProofPublic
                        ? $" · <a class=\"proof\" href=\"{E(pagePath)}/proofs/{step.Sequence}\" download=\"proof-{step.Sequence}.json\">{E(t.Proof)}</a>"
                        : $" · <span class=\"muted\">{E(t.ProofMembersOnly)}</span>");
                }
                else h.Append("<span class=\"muted\">").Append(E(t.AwaitingAnchor)).Append("</span>");
                h.Append("</div></div></li>");
            }
            h.Append("</ol>");
        }
        h.Append("</section>");
        Footer(h, t, pagePath, otherLanguageQuery);
        return h.ToString();
    }

    private static void Badge(StringBuilder h, ConsumerModel m, ConsumerTexts t)
    {
        var (state, label, detail, icon) = m.Verification switch
        {
            Verification.Verified => ("verified", m.Confirmation is { } c ? t.VerifiedAndConfirmed(c) : t.Verified, t.VerifiedDetail, CheckIcon),
            Verification.Pending => ("pending", t.Pending, t.PendingDetail, ClockIcon),
            Verification.NoEvents => ("pending", t.NoEvents, t.PendingDetail, ClockIcon),
            Verification.Unavailable => ("unavailable", t.Unavailable, t.UnavailableDetail, ClockIcon),
            _ => ("mismatch", t.Mismatch, t.MismatchDetail, WarnIcon),
        };
        h.Append("<section class=\"badge ").Append(state).Append("\" id=\"badge\" data-state=\"").Append(state).Append("\">").Append(icon)
         .Append("<div><strong>").Append(E(label)).Append("</strong><p>").Append(E(detail)).Append("</p>");
        if (m.Verification == Verification.Verified && m.LatestAnchor is { } a)
        {
            h.Append("<p class=\"anchor\">").Append(E(t.Block)).Append(" #").Append(a.BlockNumber);
            if (a.TxHash is { } tx) h.Append(" · ").Append(E(t.Transaction)).Append(" <code title=\"").Append(E(tx)).Append("\">").Append(E(Short(tx))).Append("</code>");
            h.Append("</p>");
        }
        h.Append("</div></section>");
    }

    private static void Fact(StringBuilder h, string label, string? value, string id)
    {
        if (value is null) return;
        h.Append("<div><dt>").Append(E(label)).Append("</dt><dd id=\"").Append(id).Append("\">").Append(E(value)).Append("</dd></div>");
    }

    private static void Footer(StringBuilder h, ConsumerTexts t, string pagePath, string otherLanguageQuery) =>
        h.Append("<footer><a href=\"").Append(E(pagePath)).Append(E(otherLanguageQuery)).Append("\" hreflang=\"").Append(t.OtherLanguageCode).Append("\">")
         .Append(E(t.OtherLanguage)).Append("</a><p>").Append(E(t.Footer)).Append("</p></footer></main></body></html>");

    /// <summary>A date as shown to consumers: the day in China Standard Time.</summary>
    private static string Day(DateTimeOffset t) => t.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Short(string hex) => hex.Length > 18 ? hex[..10] + "…" + hex[^6..] : hex;

    private static string E(string s) => WebUtility.HtmlEncode(s);

    private const string CheckIcon =
        "<svg class=\"icon\" viewBox=\"0 0 24 24\" aria-hidden=\"true\"><path d=\"M12 2 4 5v6c0 5 3.4 9.4 8 11 4.6-1.6 8-6 8-11V5z\" fill=\"currentColor\"/><path d=\"m8 12 3 3 5-6\" fill=\"none\" stroke=\"#fff\" stroke-width=\"2.2\" stroke-linecap=\"round\" stroke-linejoin=\"round\"/></svg>";
    private const string ClockIcon =
        "<svg class=\"icon\" viewBox=\"0 0 24 24\" aria-hidden=\"true\"><circle cx=\"12\" cy=\"12\" r=\"10\" fill=\"currentColor\"/><path d=\"M12 6v6l4 2\" fill=\"none\" stroke=\"#fff\" stroke-width=\"2.2\" stroke-linecap=\"round\"/></svg>";
    private const string WarnIcon =
        "<svg class=\"icon\" viewBox=\"0 0 24 24\" aria-hidden=\"true\"><path d=\"M12 2 1 21h22z\" fill=\"currentColor\"/><path d=\"M12 9v5m0 3v.5\" stroke=\"#fff\" stroke-width=\"2.2\" stroke-linecap=\"round\"/></svg>";

    private const string Css =
        "*{box-sizing:border-box}body{margin:0;font:16px/1.5 -apple-system,BlinkMacSystemFont,\"PingFang SC\",\"Noto Sans CJK SC\",\"Microsoft YaHei\",\"WenQuanYi Zen Hei\",sans-serif;background:#f3f5f7;color:#1c2530}" +
        "main{max-width:640px;margin:0 auto;padding:16px}header h1{margin:.1em 0;font-size:1.5rem}.kicker{margin:0;color:#5b6b7b;font-size:.85rem;text-transform:uppercase;letter-spacing:.05em}" +
        ".ids,.desc{margin:.2em 0;color:#41505f;font-size:.9rem}code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85em;word-break:break-all}" +
        ".banner{display:flex;gap:10px;align-items:center;padding:14px 16px;background:#b3261e;color:#fff;font-weight:600}.banner .icon path+path{stroke:#b3261e}" +
        ".warning{display:flex;gap:10px;align-items:flex-start;margin:12px 0;padding:12px 14px;border-radius:10px;background:#fff4e5;color:#7a3e00;border:1px solid #f0b35a}" +
        ".icon{flex:none;width:28px;height:28px}.badge{display:flex;gap:12px;align-items:flex-start;margin:12px 0;padding:14px;border-radius:12px;color:#fff}" +
        ".badge p{margin:.2em 0 0;font-size:.85rem;opacity:.95}.badge strong{font-size:1.1rem}.badge.verified{background:#1b7f4b}.badge.pending{background:#5b6b7b}" +
        ".badge.unavailable{background:#8a6d1b}.badge.pending .icon path{stroke:#5b6b7b}.badge.unavailable .icon path{stroke:#8a6d1b}.badge.mismatch{background:#b3261e}.card{background:#fff;border-radius:12px;padding:14px 16px;margin:12px 0;box-shadow:0 1px 2px rgba(0,0,0,.06)}" +
        ".card h2{margin:0 0 .5em;font-size:1.1rem}.facts{display:grid;grid-template-columns:1fr 1fr;gap:10px;margin:0}.facts dt{color:#5b6b7b;font-size:.8rem}.facts dd{margin:0;font-weight:600}" +
        ".timeline{list-style:none;margin:0;padding:0}.timeline li{display:flex;gap:12px;padding:0 0 14px;position:relative}" +
        ".timeline li:not(:last-child)::before{content:\"\";position:absolute;left:6px;top:16px;bottom:0;width:2px;background:#d5dce3}" +
        ".dot{flex:none;width:14px;height:14px;margin-top:5px;border-radius:50%;background:#9aa8b6}.dot.ok{background:#1b7f4b}" +
        ".what time{color:#5b6b7b;font-size:.85rem;margin-left:.3em}.place{font-size:.9rem}.chain{font-size:.78rem;color:#41505f}.muted{color:#7a8896}" +
        "a{color:#0b5cad}footer{text-align:center;font-size:.8rem;color:#7a8896;margin:20px 0}@media(min-width:560px){.facts{grid-template-columns:repeat(4,1fr)}}";
}
