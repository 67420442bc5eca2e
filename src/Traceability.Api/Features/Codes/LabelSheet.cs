using System.Buffers.Binary;
using System.Collections;
using System.IO.Compression;
using System.Net;
using System.Text;
using QRCoder;

namespace Traceability.Api.Features.Codes;

/// <summary>One label: the Digital Link the QR code holds, and the serial printed under it.</summary>
public sealed record Label(string DigitalLink, string Serial);

/// <summary>
/// Label sheets: a grid of QR codes (QRCoder encodes; ECC level M, 4-module quiet zone) with the human-readable serial
/// under each. SVG draws the modules as one path per label and the serial as text. PNG is composed here as one
/// 8-bit grayscale image: QRCoder's PngByteQRCode makes one image per code and System.Drawing is not available, so the
/// serial is drawn with a built-in 5×7 pixel font (digits and upper-case letters: every character a serial can hold)
/// and the image is written by a minimal PNG encoder (IHDR, one zlib IDAT, IEND).
/// </summary>
public static class LabelSheet
{
    public const int Columns = 5;
    private const int ModulePx = 4;      // PNG pixels per QR module
    private const int GlyphScale = 2;    // PNG pixels per font pixel

    private static BitArray[] Matrix(string text)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.M);
        return [.. data.ModuleMatrix];
    }

    public static string Svg(IReadOnlyList<Label> labels, string caption)
    {
        var matrices = labels.Select(l => Matrix(l.DigitalLink)).ToList();
        var size = matrices.Max(m => m.Length);     // modules per side, quiet zone included
        var cellW = size + 6;
        var cellH = size + 10;
        var cols = Math.Min(Columns, labels.Count);
        var rows = (labels.Count + Columns - 1) / Columns;
        var width = cols * cellW;
        var height = rows * cellH + 8;
        var svg = new StringBuilder(labels.Count * 6000);
        svg.Append(FormattableString.Invariant(
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width * 4}\" height=\"{height * 4}\" shape-rendering=\"crispEdges\">"));
        svg.Append(FormattableString.Invariant($"<rect width=\"{width}\" height=\"{height}\" fill=\"#fff\"/>"));
        svg.Append(FormattableString.Invariant($"<text x=\"3\" y=\"5\" font-family=\"monospace\" font-size=\"3.5\">{WebUtility.HtmlEncode(caption)}</text>"));
        for (var i = 0; i < labels.Count; i++)
        {
            var m = matrices[i];
            var x0 = i % Columns * cellW + 3 + (size - m.Length) / 2;
            var y0 = i / Columns * cellH + 8;
            svg.Append(FormattableString.Invariant($"<g transform=\"translate({x0},{y0})\"><title>{WebUtility.HtmlEncode(labels[i].DigitalLink)}</title><path fill=\"#000\" d=\""));
            for (var y = 0; y < m.Length; y++)
            {
                for (var x = 0; x < m[y].Length; x++)
                {
                    if (!m[y][x]) continue;
                    var run = 1;
                    while (x + run < m[y].Length && m[y][x + run]) run++;
                    svg.Append(FormattableString.Invariant($"M{x},{y}h{run}v1h-{run}z"));
                    x += run - 1;
                }
            }
            svg.Append(FormattableString.Invariant(
                $"\"/><text x=\"{m.Length / 2.0}\" y=\"{m.Length + 3.5}\" text-anchor=\"middle\" font-family=\"monospace\" font-size=\"4\" letter-spacing=\"0.3\">{WebUtility.HtmlEncode(labels[i].Serial)}</text></g>"));
        }
        svg.Append("</svg>");
        return svg.ToString();
    }

    public static byte[] Png(IReadOnlyList<Label> labels)
    {
        var matrices = labels.Select(l => Matrix(l.DigitalLink)).ToList();
        var qrPx = matrices.Max(m => m.Length) * ModulePx;
        var textPx = 7 * GlyphScale;
        var cellW = Math.Max(qrPx, Serials.Length * 6 * GlyphScale) + 16;
        var cellH = qrPx + textPx + 16;
        var cols = Math.Min(Columns, labels.Count);
        var rows = (labels.Count + Columns - 1) / Columns;
        var image = new GrayImage(cols * cellW, rows * cellH);
        for (var i = 0; i < labels.Count; i++)
        {
            var m = matrices[i];
            var cellX = i % Columns * cellW;
            var cellY = i / Columns * cellH;
            var x0 = cellX + (cellW - m.Length * ModulePx) / 2;
            var y0 = cellY + 4;
            for (var y = 0; y < m.Length; y++)
                for (var x = 0; x < m[y].Length; x++)
                    if (m[y][x]) image.Fill(x0 + x * ModulePx, y0 + y * ModulePx, ModulePx, ModulePx);
            var text = labels[i].Serial;
            var textW = text.Length * 6 * GlyphScale - GlyphScale;
            image.Text(text, cellX + (cellW - textW) / 2, y0 + m.Length * ModulePx + 4, GlyphScale);
        }
        return image.EncodePng();
    }

    /// <summary>An 8-bit grayscale bitmap, white to begin with, drawn in black.</summary>
    private sealed class GrayImage(int width, int height)
    {
        private readonly byte[] _pixels = Enumerable.Repeat((byte)255, width * height).ToArray();

        public void Fill(int x, int y, int w, int h)
        {
            for (var yy = y; yy < y + h && yy < height; yy++)
                _pixels.AsSpan(yy * width + x, Math.Min(w, width - x)).Clear();
        }

        public void Text(string text, int x, int y, int scale)
        {
            foreach (var c in text)
            {
                if (Font5x7.Glyphs.TryGetValue(char.ToUpperInvariant(c), out var rows))
                    for (var r = 0; r < 7; r++)
                        for (var col = 0; col < 5; col++)
                            if ((rows[r] >> (4 - col) & 1) == 1) Fill(x + col * scale, y + r * scale, scale, scale);
                x += 6 * scale;
            }
        }

        public byte[] EncodePng()
        {
            var raw = new byte[(width + 1) * height];
            for (var y = 0; y < height; y++)
                _pixels.AsSpan(y * width, width).CopyTo(raw.AsSpan(y * (width + 1) + 1)); // filter type 0 (None) per row
            using var compressed = new MemoryStream();
            using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) z.Write(raw);

            using var png = new MemoryStream();
            png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
            var ihdr = new byte[13];
            BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
            BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
            ihdr[8] = 8;  // bit depth
            ihdr[9] = 0;  // colour type: grayscale
            Chunk(png, "IHDR", ihdr);
            Chunk(png, "IDAT", compressed.ToArray());
            Chunk(png, "IEND", []);
            return png.ToArray();
        }

        private static void Chunk(Stream s, string type, byte[] data)
        {
            Span<byte> four = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(four, data.Length);
            s.Write(four);
            var typeBytes = Encoding.ASCII.GetBytes(type);
            s.Write(typeBytes);
            s.Write(data);
            BinaryPrimitives.WriteUInt32BigEndian(four, Crc32.Compute(typeBytes, data));
            s.Write(four);
        }
    }

    /// <summary>CRC-32 (ISO-HDLC, the one PNG chunks carry).</summary>
    private static class Crc32
    {
        private static readonly uint[] Table = Enumerable.Range(0, 256).Select(n =>
        {
            var c = (uint)n;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            return c;
        }).ToArray();

        public static uint Compute(byte[] a, byte[] b)
        {
            var c = 0xFFFFFFFFu;
            foreach (var x in a) c = Table[(c ^ x) & 0xFF] ^ (c >> 8);
            foreach (var x in b) c = Table[(c ^ x) & 0xFF] ^ (c >> 8);
            return c ^ 0xFFFFFFFFu;
        }
    }

    /// <summary>A 5×7 pixel font: one row per entry, five bits, the leftmost pixel the highest bit.</summary>
    private static class Font5x7
    {
        public static readonly Dictionary<char, byte[]> Glyphs = Parse(new Dictionary<char, string>
        {
            ['0'] = "01110 10001 10011 10101 11001 10001 01110", ['1'] = "00100 01100 00100 00100 00100 00100 01110",
            ['2'] = "01110 10001 00001 00010 00100 01000 11111", ['3'] = "11111 00010 00100 00010 00001 10001 01110",
            ['4'] = "00010 00110 01010 10010 11111 00010 00010", ['5'] = "11111 10000 11110 00001 00001 10001 01110",
            ['6'] = "00110 01000 10000 11110 10001 10001 01110", ['7'] = "11111 00001 00010 00100 01000 01000 01000",
            ['8'] = "01110 10001 10001 01110 10001 10001 01110", ['9'] = "01110 10001 10001 01111 00001 00010 01100",
            ['A'] = "01110 10001 10001 11111 10001 10001 10001", ['B'] = "11110 10001 10001 11110 10001 10001 11110",
            ['C'] = "01110 10001 10000 10000 10000 10001 01110", ['D'] = "11100 10010 10001 10001 10001 10010 11100",
            ['E'] = "11111 10000 10000 11110 10000 10000 11111", ['F'] = "11111 10000 10000 11110 10000 10000 10000",
            ['G'] = "01110 10001 10000 10111 10001 10001 01111", ['H'] = "10001 10001 10001 11111 10001 10001 10001",
            ['I'] = "01110 00100 00100 00100 00100 00100 01110", ['J'] = "00111 00010 00010 00010 00010 10010 01100",
            ['K'] = "10001 10010 10100 11000 10100 10010 10001", ['L'] = "10000 10000 10000 10000 10000 10000 11111",
            ['M'] = "10001 11011 10101 10101 10001 10001 10001", ['N'] = "10001 10001 11001 10101 10011 10001 10001",
            ['O'] = "01110 10001 10001 10001 10001 10001 01110", ['P'] = "11110 10001 10001 11110 10000 10000 10000",
            ['Q'] = "01110 10001 10001 10001 10101 10010 01101", ['R'] = "11110 10001 10001 11110 10100 10010 10001",
            ['S'] = "01111 10000 10000 01110 00001 00001 11110", ['T'] = "11111 00100 00100 00100 00100 00100 00100",
            ['U'] = "10001 10001 10001 10001 10001 10001 01110", ['V'] = "10001 10001 10001 10001 10001 01010 00100",
            ['W'] = "10001 10001 10001 10101 10101 10101 01010", ['X'] = "10001 10001 01010 00100 01010 10001 10001",
            ['Y'] = "10001 10001 10001 01010 00100 00100 00100", ['Z'] = "11111 00001 00010 00100 01000 10000 11111",
            ['-'] = "00000 00000 00000 11111 00000 00000 00000",
        });

        private static Dictionary<char, byte[]> Parse(Dictionary<char, string> source) =>
            source.ToDictionary(kv => kv.Key, kv => kv.Value.Split(' ').Select(r => Convert.ToByte(r, 2)).ToArray());
    }
}
