using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Traceability.Api.Tests.Support;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Tests.Consumer;

[Collection(ChainCollection.Name)]
public sealed class CodesTests(ChainFixture chain)
{
    [Fact]
    public async Task GeneratesUnguessableSerialsAsEpcsAndDigitalLinksUnderThePublicBaseUrl()
    {
        var setup = await ConsumerSetup.StartAsync(chain);
        await using var _ = setup.Service;
        var codes = await setup.IssueCodesAsync(1000, "L1");
        codes.Should().HaveCount(1000);
        var serials = codes.Select(c => c.Serial).ToList();
        serials.Should().OnlyHaveUniqueItems().And.OnlyContain(s => Regex.IsMatch(s, "^[0-9A-HJKMNP-TV-Z]{13}$"), "13 Crockford base-32 symbols: 65 bits");
        foreach (var c in codes.Take(20))
        {
            c.DigitalLink.Should().Be($"https://trace.example.cn/01/{setup.Gtin}/10/L1/21/{c.Serial}");
            c.Epc.Should().Be(Gs1Identifiers.ToSgtinUrn(setup.Gtin, c.Serial, 7));
        }
        // Every symbol is used about equally often (a crude check that the draw is not biased or constant).
        var counts = serials.SelectMany(s => s).GroupBy(ch => ch).ToDictionary(g => g.Key, g => g.Count());
        counts.Should().HaveCount(32);
        counts.Values.Should().OnlyContain(n => n > 250 && n < 570, "13,000 symbols over 32 values: about 406 each");
        setup.Service.Scalar("SELECT COUNT(*) FROM codes").Should().Be(1000);
    }

    [Fact]
    public async Task GeneratesAHundredThousandCodesAtOnceAndRefusesMore()
    {
        var setup = await ConsumerSetup.StartAsync(chain);
        await using var _ = setup.Service;
        (await setup.IssueCodesAsync(100_000, "BIG")).Should().HaveCount(100_000);
        setup.Service.Scalar("SELECT COUNT(DISTINCT serial) FROM codes WHERE lot = 'BIG'").Should().Be(100_000);

        var tooMany = await setup.Maker.PostAsJsonAsync("/api/v1/codes/generate", new { gtin = setup.Gtin, lot = "BIG", count = 100_001 });
        tooMany.StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task RefusesBadRequestsOtherMembersProductsAndAnonymousCallers()
    {
        var setup = await ConsumerSetup.StartAsync(chain);
        await using var _ = setup.Service;
        var bad = await setup.Maker.PostAsJsonAsync("/api/v1/codes/generate", new { gtin = "12345678901234", lot = "bad lot with spaces", count = 0 });
        var errors = (await bad.ReadProblemAsync(HttpStatusCode.BadRequest)).Errors.Select(e => e.Field);
        errors.Should().BeEquivalentTo(["gtin", "lot", "count"]);

        var unregistered = await setup.Maker.PostAsJsonAsync("/api/v1/codes/generate", new { gtin = ConsumerSetup.NewGtin(), lot = "L", count = 1 });
        unregistered.StatusCode.Should().Be(HttpStatusCode.BadRequest);

        var (other, _) = await setup.Service.MemberAsync("manufacturer", "Other maker");
        (await other.PostAsJsonAsync("/api/v1/codes/generate", new { gtin = setup.Gtin, lot = "L", count = 1 })).StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await other.GetAsync($"/api/v1/codes/labels?gtin={setup.Gtin}&lot=L")).StatusCode.Should().Be(HttpStatusCode.Conflict);
        var (dealer, _) = await setup.Service.MemberAsync("dealer");
        (await dealer.PostAsJsonAsync("/api/v1/codes/generate", new { gtin = setup.Gtin, lot = "L", count = 1 })).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await setup.Anonymous.PostAsJsonAsync("/api/v1/codes/generate", new { gtin = setup.Gtin, lot = "L", count = 1 })).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task LabelSheetsCarryAQrCodeAndTheSerialOfEachCodeAsSvgOrPng()
    {
        var setup = await ConsumerSetup.StartAsync(chain);
        await using var _ = setup.Service;
        var codes = await setup.IssueCodesAsync(12, "L7");

        var svg = await setup.Maker.GetAsync($"/api/v1/codes/labels?gtin={setup.Gtin}&lot=L7&format=svg");
        svg.StatusCode.Should().Be(HttpStatusCode.OK);
        svg.Content.Headers.ContentType!.MediaType.Should().Be("image/svg+xml");
        var text = await svg.Content.ReadAsStringAsync();
        text.Should().StartWith("<svg");
        foreach (var c in codes)
        {
            text.Should().Contain($">{c.Serial}</text>", "the human-readable serial is printed under its QR code");
            text.Should().Contain($"<title>{c.DigitalLink}</title>");
        }
        Regex.Matches(text, "<path ").Count.Should().Be(12);

        var page = await setup.Maker.GetAsync($"/api/v1/codes/labels?gtin={setup.Gtin}&lot=L7&format=svg&offset=10&limit=5");
        Regex.Matches(await page.Content.ReadAsStringAsync(), "<path ").Count.Should().Be(2);

        var png = await setup.Maker.GetAsync($"/api/v1/codes/labels?gtin={setup.Gtin}&lot=L7&format=png");
        png.StatusCode.Should().Be(HttpStatusCode.OK);
        png.Content.Headers.ContentType!.MediaType.Should().Be("image/png");
        var (width, height, pixels) = DecodeGrayPng(await png.Content.ReadAsByteArrayAsync());
        width.Should().BeGreaterThan(500);
        height.Should().BeGreaterThan(300, "12 labels in rows of 5: three rows");
        pixels.Count(p => p == 0).Should().BeGreaterThan(pixels.Length / 20, "QR modules and serials are drawn in black");

        var one = await setup.Maker.GetAsync($"/api/v1/codes/labels?gtin={setup.Gtin}&lot=L7&format=png&serial={codes[0].Serial}");
        one.StatusCode.Should().Be(HttpStatusCode.OK);
        DecodeGrayPng(await one.Content.ReadAsByteArrayAsync()).Width.Should().BeLessThan(width);

        (await setup.Maker.GetAsync($"/api/v1/codes/labels?gtin={setup.Gtin}&lot=NONE&format=svg")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await setup.Maker.GetAsync($"/api/v1/codes/labels?gtin={setup.Gtin}&lot=L7&format=gif")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    /// <summary>
    /// Each label's QR code, read back from the PNG by an independent decoder (ZXing), holds the code's Digital Link.
    /// Twenty codes, as the encoder picks the mask pattern per code.
    /// </summary>
    [Fact]
    public async Task EachPrintedQrCodeDecodesToItsCodesDigitalLink()
    {
        var setup = await ConsumerSetup.StartAsync(chain);
        await using var _ = setup.Service;
        var codes = await setup.IssueCodesAsync(20, "LQR");
        // ZXing.Net's finder-pattern search misses many of these symbols upright (most of those with mask pattern 2 from
        // QRCoder 1.8.1; about one in forty from 1.7.0) and reads them turned by 90°, as a phone held sideways would.
        var reader = new ZXing.BarcodeReaderGeneric { AutoRotate = true, Options = { TryHarder = true, PossibleFormats = [ZXing.BarcodeFormat.QR_CODE] } };

        var decoded = new List<string?>();
        foreach (var c in codes)
        {
            var png = await setup.Maker.GetAsync($"/api/v1/codes/labels?gtin={setup.Gtin}&lot=LQR&format=png&serial={c.Serial}");
            png.StatusCode.Should().Be(HttpStatusCode.OK);
            var (width, height, pixels) = DecodeGrayPng(await png.Content.ReadAsByteArrayAsync());
            var source = new ZXing.RGBLuminanceSource(pixels, width, height, ZXing.RGBLuminanceSource.BitmapFormat.Gray8);
            decoded.Add(reader.Decode(source)?.Text);
        }
        decoded.Should().Equal(codes.Select(c => c.DigitalLink));
        decoded[0].Should().Be($"https://trace.example.cn/01/{setup.Gtin}/10/LQR/21/{codes[0].Serial}");
    }

    /// <summary>Reads an 8-bit grayscale PNG with filter type 0 rows (what the label sheet writes), checking chunk CRCs.</summary>
    private static (int Width, int Height, byte[] Pixels) DecodeGrayPng(byte[] png)
    {
        png.AsSpan(0, 8).ToArray().Should().Equal(0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A);
        int width = 0, height = 0;
        using var idat = new MemoryStream();
        for (var i = 8; i < png.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(i));
            var type = System.Text.Encoding.ASCII.GetString(png, i + 4, 4);
            var data = png.AsSpan(i + 8, length);
            var crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(i + 8 + length));
            crc.Should().Be(Crc(png.AsSpan(i + 4, 4 + length)), $"the {type} chunk's CRC");
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                data[8].Should().Be(8);
                data[9].Should().Be(0);
            }
            if (type == "IDAT") idat.Write(data);
            i += 12 + length;
        }
        idat.Position = 0;
        using var z = new ZLibStream(idat, CompressionMode.Decompress);
        using var raw = new MemoryStream();
        z.CopyTo(raw);
        raw.Length.Should().Be((long)(width + 1) * height);
        var bytes = raw.ToArray();
        var pixels = new byte[width * height];
        for (var y = 0; y < height; y++)
        {
            bytes[y * (width + 1)].Should().Be(0);
            Array.Copy(bytes, y * (width + 1) + 1, pixels, y * width, width);
        }
        return (width, height, pixels);
    }

    private static uint Crc(ReadOnlySpan<byte> data)
    {
        var c = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            c ^= b;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        return c ^ 0xFFFFFFFFu;
    }
}
