using System.Buffers.Binary;
using System.IO.Compression;
using SegSharp.Foundation;

namespace SegSharp.Data;

/// <summary>
/// Reads and writes palette (indexed-colour) PNGs as raw indices. Image libraries decode such files to colours,
/// which loses the index a segmentation mask stores; this keeps it. Supports bit depths 1, 2, 4 and 8, no
/// interlacing. Written files carry the class colours as their palette, so they view in colour anywhere.
/// </summary>
public static class IndexedPng
{
    private static readonly byte[] Signature = { 137, 80, 78, 71, 13, 10, 26, 10 };

    /// <summary>Whether a PNG's header (its first 26 bytes suffice) says colour type 3, palette.</summary>
    public static bool IsIndexed(ReadOnlySpan<byte> bytes) => bytes.Length >= 26 && bytes[..8].SequenceEqual(Signature) && bytes[25] == 3;

    /// <summary>Palette indices, row-major, shape [height, width].</summary>
    public static (byte[] Indices, int Height, int Width) Read(string path) => Read(File.ReadAllBytes(path));

    /// <summary>Palette indices of a PNG file's bytes, row-major, shape [height, width].</summary>
    public static (byte[] Indices, int Height, int Width) Read(byte[] bytes)
    {
        if (bytes.Length < 8 || !bytes.AsSpan(0, 8).SequenceEqual(Signature))
            throw new InvalidDataException("not a PNG file");
        int width = 0, height = 0, depth = 0, colorType = -1, interlace = 0;
        using var idat = new MemoryStream();
        int pos = 8;
        while (pos + 8 <= bytes.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(pos));
            string type = System.Text.Encoding.ASCII.GetString(bytes, pos + 4, 4);
            if (length < 0 || pos + 12 + length > bytes.Length) throw new InvalidDataException("truncated PNG chunk");
            var data = bytes.AsSpan(pos + 8, length);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                depth = data[8];
                colorType = data[9];
                interlace = data[12];
            }
            else if (type == "IDAT") idat.Write(data);
            else if (type == "IEND") break;
            pos += 12 + length;
        }
        if (colorType != 3) throw new InvalidDataException($"PNG colour type {colorType} is not indexed (3)");
        if (interlace != 0) throw new InvalidDataException("interlaced indexed PNGs are not supported; re-save without interlacing");
        idat.Position = 0;
        using var inflater = new ZLibStream(idat, CompressionMode.Decompress);
        int stride = (width * depth + 7) / 8;
        var raw = new byte[height * (stride + 1)];
        inflater.ReadExactly(raw);
        var indices = new byte[width * height];
        var previous = new byte[stride];
        var current = new byte[stride];
        int bytesPerPixel = Math.Max(1, depth / 8);
        for (int y = 0; y < height; y++)
        {
            int filter = raw[y * (stride + 1)];
            Array.Copy(raw, y * (stride + 1) + 1, current, 0, stride);
            Unfilter(filter, current, previous, bytesPerPixel);
            int perByte = 8 / depth, mask = (1 << depth) - 1;
            for (int x = 0; x < width; x++)
            {
                int b = current[x / perByte];
                int shift = 8 - depth * (x % perByte + 1);
                indices[y * width + x] = (byte)(b >> shift & mask);
            }
            (previous, current) = (current, previous);
        }
        return (indices, height, width);
    }

    /// <summary>Writes 8-bit indices with the given palette (RGB triples), atomically.</summary>
    public static void Write(string path, byte[] indices, int height, int width, IReadOnlyList<byte[]> palette) =>
        AtomicFile.WriteAllBytes(path, Encode(indices, height, width, palette));

    /// <summary>The palette PNG's bytes.</summary>
    public static byte[] Encode(byte[] indices, int height, int width, IReadOnlyList<byte[]> palette)
    {
        using var png = new MemoryStream();
        png.Write(Signature);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;
        header[9] = 3;
        WriteChunk(png, "IHDR", header);
        var plte = new byte[Math.Max(1, palette.Count) * 3];
        for (int i = 0; i < palette.Count; i++) palette[i].AsSpan(0, 3).CopyTo(plte.AsSpan(i * 3));
        WriteChunk(png, "PLTE", plte);
        using (var compressed = new MemoryStream())
        {
            using (var deflater = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            {
                for (int y = 0; y < height; y++)
                {
                    deflater.WriteByte(0);
                    deflater.Write(indices, y * width, width);
                }
            }
            WriteChunk(png, "IDAT", compressed.ToArray());
        }
        WriteChunk(png, "IEND", Array.Empty<byte>());
        return png.ToArray();
    }

    private static void Unfilter(int filter, byte[] row, byte[] above, int bpp)
    {
        for (int i = 0; i < row.Length; i++)
        {
            int left = i >= bpp ? row[i - bpp] : 0, up = above[i], upLeft = i >= bpp ? above[i - bpp] : 0;
            row[i] = filter switch
            {
                0 => row[i],
                1 => (byte)(row[i] + left),
                2 => (byte)(row[i] + up),
                3 => (byte)(row[i] + (left + up) / 2),
                4 => (byte)(row[i] + Paeth(left, up, upLeft)),
                _ => throw new InvalidDataException($"bad PNG row filter {filter}"),
            };
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static void WriteChunk(Stream png, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        var typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        png.Write(typeBytes);
        png.Write(data);
        uint crc = System.IO.Hashing.Crc32.HashToUInt32(typeBytes.Concat(data).ToArray());
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        png.Write(word);
    }
}
