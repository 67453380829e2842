using System.Text;
using SegSharp.Data;

namespace SegSharp.Training;

/// <summary>
/// Writes TensorBoard event files (TFRecord framing of Event protobufs) with scalars and PNG images, without a
/// protobuf dependency: the few message fields needed are encoded by hand. Each record is appended and flushed,
/// so a killed run leaves a readable file.
/// </summary>
internal sealed class TensorBoardWriter : IDisposable
{
    private readonly FileStream _stream;

    public TensorBoardWriter(string directory, string tag)
    {
        System.IO.Directory.CreateDirectory(directory);
        long seconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Path = System.IO.Path.Combine(directory, $"events.out.tfevents.{seconds}.segsharp-{tag}");
        _stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
        var version = new ProtoWriter();
        version.Double(1, Now());
        version.String(3, "brain.Event:2");
        WriteRecord(version.ToArray());
    }

    public string Path { get; }

    public void Scalar(string tag, double value, long step)
    {
        var entry = new ProtoWriter();
        entry.String(1, tag);
        entry.Float(2, (float)value);
        WriteSummary(step, entry);
    }

    /// <summary>An image from PNG bytes.</summary>
    public void Image(string tag, byte[] png, int height, int width, int channels, long step)
    {
        var image = new ProtoWriter();
        image.Varint(1, (ulong)height);
        image.Varint(2, (ulong)width);
        image.Varint(3, (ulong)channels);
        image.Bytes(4, png);
        var entry = new ProtoWriter();
        entry.String(1, tag);
        entry.Message(4, image);
        WriteSummary(step, entry);
    }

    public void Dispose() => _stream.Dispose();

    private void WriteSummary(long step, ProtoWriter value)
    {
        var summary = new ProtoWriter();
        summary.Message(1, value);
        var ev = new ProtoWriter();
        ev.Double(1, Now());
        ev.Varint(2, (ulong)step);
        ev.Message(5, summary);
        WriteRecord(ev.ToArray());
    }

    private void WriteRecord(byte[] data)
    {
        var length = BitConverter.GetBytes((ulong)data.Length);
        _stream.Write(length);
        _stream.Write(BitConverter.GetBytes(Crc32C.Masked(length)));
        _stream.Write(data);
        _stream.Write(BitConverter.GetBytes(Crc32C.Masked(data)));
        _stream.Flush();
    }

    private static double Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>Minimal protobuf encoder for the fields TensorBoard reads.</summary>
    private sealed class ProtoWriter
    {
        private readonly MemoryStream _buffer = new();

        public void Varint(int field, ulong value)
        {
            Key(field, 0);
            Raw(value);
        }

        public void Double(int field, double value)
        {
            Key(field, 1);
            _buffer.Write(BitConverter.GetBytes(value));
        }

        public void Float(int field, float value)
        {
            Key(field, 5);
            _buffer.Write(BitConverter.GetBytes(value));
        }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Bytes(int field, byte[] value)
        {
            Key(field, 2);
            Raw((ulong)value.Length);
            _buffer.Write(value);
        }

        public void Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

        public byte[] ToArray() => _buffer.ToArray();

        private void Key(int field, int wireType) => Raw((ulong)(field << 3 | wireType));

        private void Raw(ulong value)
        {
            while (value >= 0x80)
            {
                _buffer.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }
            _buffer.WriteByte((byte)value);
        }
    }
}
