using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace SegSharp.Data;

/// <summary>
/// Finds truncated and corrupt image files before they are decoded. Decoders fill what an interrupted copy cut off
/// with zeros — black rows in an image, class 0 in a mask — and say nothing, so SegSharp checks the container
/// itself: PNG chunk CRCs, the IEND chunk and a complete zlib stream of exactly the rows the header promises;
/// JPEG's end-of-image marker; TIFF strips and tiles inside the file; BMP pixel data inside the file.
/// </summary>
internal static class ImageIntegrity
{
    /// <returns>Null when the file is whole, else what is wrong with it ("truncated: ...", "corrupt: ...").</returns>
    public static string? Problem(byte[] bytes)
    {
        if (bytes.Length >= 8 && bytes.AsSpan(0, 8).SequenceEqual(PngSignature)) return Png(bytes);
        if (bytes.Length >= 2 && bytes[0] == 0xFF && bytes[1] == 0xD8) return Jpeg(bytes);
        if (bytes.Length >= 4 && (bytes.AsSpan(0, 4).SequenceEqual("II*\0"u8) || bytes.AsSpan(0, 4).SequenceEqual("MM\0*"u8))) return Tiff(bytes);
        if (bytes.Length >= 2 && bytes[0] == (byte)'B' && bytes[1] == (byte)'M') return Bmp(bytes);
        return null; // unknown formats are left to the decoder, which names them
    }

    private static ReadOnlySpan<byte> PngSignature => new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A };

    private static string? Png(ReadOnlySpan<byte> bytes)
    {
        int width = 0, height = 0, depth = 0, colorType = 0, interlace = 0;
        using var idat = new MemoryStream();
        int position = 8;
        bool end = false;
        while (!end)
        {
            if (position + 12 > bytes.Length) return "truncated: the file ends before its IEND chunk";
            int length = BinaryPrimitives.ReadInt32BigEndian(bytes[position..]);
            if (length < 0 || position + 12L + length > bytes.Length) return "truncated: the file ends inside a chunk";
            var typeAndData = bytes.Slice(position + 4, 4 + length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(bytes[(position + 8 + length)..]);
            string type = System.Text.Encoding.ASCII.GetString(typeAndData[..4]);
            if (Crc32.HashToUInt32(typeAndData) != crc) return $"corrupt: CRC mismatch in chunk {type} at byte {position}";
            var data = typeAndData[4..];
            switch (type)
            {
                case "IHDR" when length >= 13:
                    width = BinaryPrimitives.ReadInt32BigEndian(data);
                    height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                    depth = data[8];
                    colorType = data[9];
                    interlace = data[12];
                    break;
                case "IDAT":
                    idat.Write(data);
                    break;
                case "IEND":
                    end = true;
                    break;
            }
            position += 12 + length;
        }
        long expected = PngRawBytes(width, height, depth, colorType, interlace);
        idat.Position = 0;
        try
        {
            using var inflater = new ZLibStream(idat, CompressionMode.Decompress);
            var buffer = new byte[81920];
            long total = 0;
            int read;
            while ((read = inflater.Read(buffer)) > 0) total += read;
            if (total < expected) return $"truncated: its image data holds {total} of {expected} bytes";
        }
        catch (InvalidDataException e)
        {
            return $"corrupt: its compressed image data is damaged ({e.Message.TrimEnd('.')})";
        }
        return null;
    }

    /// <summary>Filtered row bytes (one filter byte per row) of the whole image, over the seven passes if interlaced.</summary>
    private static long PngRawBytes(int width, int height, int depth, int colorType, int interlace)
    {
        int samples = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 1 };
        long RowBytes(long w) => w == 0 ? 0 : 1 + (w * samples * depth + 7) / 8;
        if (interlace == 0) return height * RowBytes(width);
        long total = 0;
        foreach (var (x0, y0, dx, dy) in new[] { (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2) })
        {
            long w = width > x0 ? (width - x0 + dx - 1) / dx : 0, h = height > y0 ? (height - y0 + dy - 1) / dy : 0;
            total += h * RowBytes(w);
        }
        return total;
    }

    private static string? Jpeg(ReadOnlySpan<byte> bytes)
    {
        // The end-of-image marker closes the file; encoders may pad a few bytes after it, never many.
        var tail = bytes[Math.Max(0, bytes.Length - 64)..];
        for (int i = tail.Length - 2; i >= 0; i--)
            if (tail[i] == 0xFF && tail[i + 1] == 0xD9) return null;
        return "truncated: the JPEG has no end-of-image marker";
    }

    private static string? Tiff(byte[] bytes)
    {
        bool little = bytes[0] == (byte)'I';
        uint U32(int at) => little ? BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at)) : BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(at));
        ushort U16(int at) => little ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at)) : BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(at));
        if (bytes.Length < 8) return "truncated: the TIFF header is incomplete";
        long ifd = U32(4);
        if (ifd + 2 > bytes.Length) return "truncated: the file ends before its first image directory";
        int entries = U16((int)ifd);
        if (ifd + 2 + 12L * entries > bytes.Length) return "truncated: the file ends inside its first image directory";
        var fields = new Dictionary<int, long[]>();
        for (int i = 0; i < entries; i++)
        {
            int at = (int)ifd + 2 + 12 * i;
            int tag = U16(at), type = U16(at + 2);
            long count = U32(at + 4);
            int size = type == 3 ? 2 : type == 4 ? 4 : 0;
            if (size == 0 || tag is not (273 or 279 or 324 or 325)) continue;
            long start = count * size <= 4 ? at + 8 : U32(at + 8);
            if (start + count * size > bytes.Length) return "truncated: the file ends inside its strip table";
            fields[tag] = Enumerable.Range(0, (int)count).Select(k => size == 2 ? (long)U16((int)start + k * 2) : U32((int)start + k * 4)).ToArray();
        }
        foreach (var (offsets, counts) in new[] { (273, 279), (324, 325) })
        {
            if (!fields.TryGetValue(offsets, out var o) || !fields.TryGetValue(counts, out var c)) continue;
            for (int k = 0; k < Math.Min(o.Length, c.Length); k++)
                if (o[k] + c[k] > bytes.Length) return $"truncated: strip {k} of {o.Length} ends past the end of the file";
        }
        return null;
    }

    private static string? Bmp(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 34) return "truncated: the BMP header is incomplete";
        long offset = BinaryPrimitives.ReadUInt32LittleEndian(bytes[10..]);
        long width = BinaryPrimitives.ReadInt32LittleEndian(bytes[18..]), height = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(bytes[22..]));
        int bits = BinaryPrimitives.ReadUInt16LittleEndian(bytes[28..]);
        uint compression = BinaryPrimitives.ReadUInt32LittleEndian(bytes[30..]);
        if (compression is not (0 or 3)) return null; // run-length encoded: no fixed size to check
        long rowBytes = (bits * width + 31) / 32 * 4;
        return offset + rowBytes * height > bytes.Length ? "truncated: its pixel rows end past the end of the file" : null;
    }
}
