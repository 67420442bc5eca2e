using System.Globalization;
using Microsoft.Net.Http.Headers;
using Traceability.Api.Domain;

namespace Traceability.Api.Features.Consumer;

/// <summary>The consumer page's words in one language: Simplified Chinese (zh-CN) or English.</summary>
public sealed record ConsumerTexts(
    string Lang, string Title, string Gtin, string Serial, string Lot, string ProductionDate, string Manufacturer, string Status,
    string UnknownProduct, string UnknownTitle, string UnknownBody, string Verified, string VerifiedDetail, string Pending,
    string PendingDetail, string NoEvents, string Unavailable, string UnavailableDetail, string Mismatch, string MismatchDetail,
    string Block, string Transaction, string Proof, string ProofMembersOnly, string Anchor, string AwaitingAnchor, string Journey,
    string FirstScan, string ScanCount, string CounterfeitScans, string CounterfeitCities, string LotMismatch, string Recalled,
    string OnHold, string OtherLanguage, string OtherLanguageCode, string Footer,
    IReadOnlyDictionary<string, string> Steps, IReadOnlyDictionary<string, string> Statuses)
{
    public static readonly ConsumerTexts Chinese = new(
        "zh-CN", "产品溯源", "商品条码 GTIN", "序列号", "批次", "生产日期", "生产企业", "状态",
        "未登记的产品", "未知编码", "此编码从未由联盟内的生产企业签发，也没有任何记录。该产品可能是假冒产品，请谨慎购买并联系品牌方核实。",
        "已通过区块链验证", "以下每一条记录都已锚定上链，其默克尔证明已与链上根哈希核对一致。", "已记录，等待上链锚定",
        "记录已保存；上链锚定完成后即可验证。", "尚无流通记录", "暂时无法连接区块链验证", "记录已锚定，但验证服务暂时无法读取区块链，请稍后再试。",
        "区块链验证未通过", "至少一条记录与链上数据不一致，请勿信任此页面内容，并联系品牌方。",
        "区块", "交易", "下载证明", "证明包含商业数据，仅向联盟成员提供", "锚定", "等待上链", "流通历程",
        "首次扫码", "扫码次数", "此编码已被扫码 {0} 次，超过正常次数，可能是复制的假冒编码。", "此编码在 24 小时内于 {0} 个不同城市被扫码，可能是复制的假冒编码。",
        "标签上的批次与登记批次不符，可能是假冒产品。", "此产品已被召回，请停止使用并联系经销商或生产企业。", "此产品已被暂扣，暂停销售，请勿使用。",
        "English", "en", "数据记录于联盟链溯源账本",
        new Dictionary<string, string>
        {
            ["commissioning"] = "生产赋码", ["packing"] = "装箱", ["shipping"] = "发货", ["departing"] = "离开", ["transporting"] = "运输",
            ["arriving"] = "到达", ["receiving"] = "收货", ["accepting"] = "验收", ["loading"] = "装车", ["unloading"] = "卸货",
            ["storing"] = "入库", ["stocking"] = "上架", ["inspecting"] = "检验", ["holding"] = "暂扣", ["unpacking"] = "拆箱",
            ["retail_selling"] = "零售售出", ["dispensing"] = "配发", ["installing"] = "安装", ["repairing"] = "维修保养",
        },
        new Dictionary<string, string>
        {
            ["issued"] = "已签发", [UnitStatus.Commissioned] = "已生产", [UnitStatus.Packed] = "已装箱", [UnitStatus.InTransit] = "运输中",
            [UnitStatus.AtHolder] = "在库", [UnitStatus.Sold] = "已售出", [UnitStatus.Recalled] = "已召回", [UnitStatus.OnHold] = "已暂扣",
            [UnitStatus.Destroyed] = "已销毁", [UnitStatus.Installed] = "已安装", ["unknown"] = "未知",
        })
    {
        Service = new ServiceWords("维保记录", "安装日期", "安装地点", "上次检验", "下次检验", "下次水压试验", "报废日期", "尚未检验",
            "此产品已超过检验期限（应于 {0} 前检验），请联系维保单位尽快检验。", "此产品已超过使用年限（{0} 到期），请停止使用并更换。"),
    };

    public static readonly ConsumerTexts English = new(
        "en", "Product origin", "GTIN", "Serial", "Lot", "Production date", "Manufacturer", "Status",
        "Unregistered product", "Unknown code", "This code was never issued by a manufacturer of the consortium and nothing was ever recorded for it. The product may be counterfeit: be careful and check with the brand.",
        "Verified on chain", "Every record below is anchored on the blockchain and its Merkle proof matches the root held on the chain.", "Recorded, awaiting anchoring",
        "The records are stored; they can be verified once they are anchored on the chain.", "No records yet", "Chain unreachable, cannot verify now", "The records are anchored, but the chain could not be read to verify them. Try again later.",
        "Chain verification failed", "At least one record does not match the chain. Do not trust this page; contact the brand.",
        "Block", "Transaction", "Download proof", "The proof holds business data and is available to consortium members", "Anchor", "Awaiting anchoring", "Journey",
        "First scanned", "Scans", "This code has been scanned {0} times, more than a genuine product is: it may be a copied, counterfeit code.", "This code was scanned in {0} different cities within 24 hours: it may be a copied, counterfeit code.",
        "The lot on the label is not the lot this code was issued for: the product may be counterfeit.", "This product has been recalled. Stop using it and contact the seller or the manufacturer.", "This product is on hold and withdrawn from sale. Do not use it.",
        "中文", "zh", "Recorded on the consortium's blockchain-anchored traceability ledger",
        new Dictionary<string, string>
        {
            ["commissioning"] = "Produced", ["packing"] = "Packed", ["shipping"] = "Shipped", ["departing"] = "Departed", ["transporting"] = "In transport",
            ["arriving"] = "Arrived", ["receiving"] = "Received", ["accepting"] = "Accepted", ["loading"] = "Loaded", ["unloading"] = "Unloaded",
            ["storing"] = "Stored", ["stocking"] = "Stocked", ["inspecting"] = "Inspected", ["holding"] = "Held", ["unpacking"] = "Unpacked",
            ["retail_selling"] = "Sold", ["dispensing"] = "Dispensed", ["installing"] = "Installed", ["repairing"] = "Serviced",
        },
        new Dictionary<string, string>
        {
            ["issued"] = "Issued", [UnitStatus.Commissioned] = "Produced", [UnitStatus.Packed] = "Packed", [UnitStatus.InTransit] = "In transit",
            [UnitStatus.AtHolder] = "In stock", [UnitStatus.Sold] = "Sold", [UnitStatus.Recalled] = "Recalled", [UnitStatus.OnHold] = "On hold",
            [UnitStatus.Destroyed] = "Destroyed", [UnitStatus.Installed] = "Installed", ["unknown"] = "Unknown",
        })
    {
        Service = new ServiceWords("Service record", "Installed", "Site", "Last inspection", "Next inspection", "Next pressure test", "End of service life",
            "not inspected yet", "This product is overdue for inspection (due {0}): ask the service company to inspect it.",
            "This product is past its service life (ended {0}): stop using it and replace it."),
    };

    /// <summary>?lang=zh|en wins; else the first of Chinese or English in Accept-Language by quality; else Chinese.</summary>
    public static ConsumerTexts For(HttpRequest request)
    {
        var lang = request.Query["lang"].ToString();
        if (lang.StartsWith("en", StringComparison.OrdinalIgnoreCase)) return English;
        if (lang.StartsWith("zh", StringComparison.OrdinalIgnoreCase)) return Chinese;
        if (StringWithQualityHeaderValue.TryParseList(request.Headers.AcceptLanguage, out var list))
            foreach (var l in list.Where(l => (l.Quality ?? 1) > 0).OrderByDescending(l => l.Quality ?? 1))
            {
                if (l.Value.StartsWith("zh", StringComparison.OrdinalIgnoreCase)) return Chinese;
                if (l.Value.StartsWith("en", StringComparison.OrdinalIgnoreCase)) return English;
            }
        return Chinese;
    }

    /// <summary>The words of the service block of an installed unit.</summary>
    public required ServiceWords Service { get; init; }
    /// <summary>
    /// The badge's label when witnesses cosigned the anchors shown: "Verified on chain, confirmed by 2 of 3 members"
    /// (the fewest cosignatures among those anchors, out of the contract's witnesses), and what is still missing when
    /// they are not final.
    /// </summary>
    public string VerifiedAndConfirmed(Confirmation c) => Lang == "en"
        ? string.Create(CultureInfo.InvariantCulture, $"Verified on chain, confirmed by {c.Cosigners} of {c.Witnesses} members") + (c.Final ? "" : string.Create(CultureInfo.InvariantCulture, $" (final at {c.Threshold})"))
        : string.Create(CultureInfo.InvariantCulture, $"已通过区块链验证，经 {c.Witnesses} 个联盟成员中的 {c.Cosigners} 个确认") + (c.Final ? "" : string.Create(CultureInfo.InvariantCulture, $"（{c.Threshold} 个确认后最终生效）"));

    public string StepLabel(string step) => Steps.TryGetValue(step, out var s) ? s : step;

    public string StatusLabel(string status) => Statuses.TryGetValue(status, out var s) ? s : status;

    public string Region(string code)
    {
        var province = ProvinceNames.TryGetValue(code[..2], out var p) ? (Lang == "en" ? p.En : p.Zh) : null;
        return province is null ? code : string.Create(CultureInfo.InvariantCulture, $"{province} ({code})");
    }

    /// <summary>GB/T 2260 provinces (first two digits).</summary>
    private static readonly Dictionary<string, (string Zh, string En)> ProvinceNames = new()
    {
        ["11"] = ("北京市", "Beijing"), ["12"] = ("天津市", "Tianjin"), ["13"] = ("河北省", "Hebei"), ["14"] = ("山西省", "Shanxi"),
        ["15"] = ("内蒙古自治区", "Inner Mongolia"), ["21"] = ("辽宁省", "Liaoning"), ["22"] = ("吉林省", "Jilin"), ["23"] = ("黑龙江省", "Heilongjiang"),
        ["31"] = ("上海市", "Shanghai"), ["32"] = ("江苏省", "Jiangsu"), ["33"] = ("浙江省", "Zhejiang"), ["34"] = ("安徽省", "Anhui"),
        ["35"] = ("福建省", "Fujian"), ["36"] = ("江西省", "Jiangxi"), ["37"] = ("山东省", "Shandong"), ["41"] = ("河南省", "Henan"),
        ["42"] = ("湖北省", "Hubei"), ["43"] = ("湖南省", "Hunan"), ["44"] = ("广东省", "Guangdong"), ["45"] = ("广西壮族自治区", "Guangxi"),
        ["46"] = ("海南省", "Hainan"), ["50"] = ("重庆市", "Chongqing"), ["51"] = ("四川省", "Sichuan"), ["52"] = ("贵州省", "Guizhou"),
        ["53"] = ("云南省", "Yunnan"), ["54"] = ("西藏自治区", "Tibet"), ["61"] = ("陕西省", "Shaanxi"), ["62"] = ("甘肃省", "Gansu"),
        ["63"] = ("青海省", "Qinghai"), ["64"] = ("宁夏回族自治区", "Ningxia"), ["65"] = ("新疆维吾尔自治区", "Xinjiang"), ["71"] = ("台湾省", "Taiwan"),
        ["81"] = ("香港特别行政区", "Hong Kong"), ["82"] = ("澳门特别行政区", "Macao"),
    };
}

/// <summary>The consumer page's words for an installed unit's service record; Overdue and Expired take the date ({0}).</summary>
public sealed record ServiceWords(string Title, string InstalledAt, string Site, string LastInspection, string NextInspection, string NextPressureTest,
    string ServiceLifeEnds, string NotInspected, string Overdue, string Expired);
