using Google.Protobuf;
using SegSharp.Training;

namespace SegSharp.Tests.Training;

/// <summary>
/// The event file is what TensorBoard reads: TFRecord framing with masked CRC-32C checksums (checked with an
/// independent bitwise CRC here) around Event messages, decoded field by field with Google.Protobuf's reader.
/// </summary>
public class TensorBoardWriterTests
{
    [Fact]
    public void Records_carry_valid_checksums_unix_wall_time_steps_scalars_and_images()
    {
        string folder = TestPaths.TempFolder("tensorboard");
        byte[] png = { 0x89, 0x50, 0x4E, 0x47, 1, 2, 3 };
        string path;
        double before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        using (var writer = new TensorBoardWriter(folder, "train"))
        {
            writer.Scalar("loss/train", 0.625, 3_000_000_000L);
            writer.Image("val/sample", png, 2, 3, 3, 7);
            path = writer.Path;
        }
        double after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        var events = Records(File.ReadAllBytes(path)).Select(Decode).ToList();

        Assert.Equal(3, events.Count);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.All(events, e => Assert.InRange(e.WallTime, before - 1, after + 1));
        Assert.Equal((3_000_000_000L, "loss/train", 0.625f), (events[1].Step, events[1].Tag, events[1].Value));
        Assert.Equal((7L, "val/sample"), (events[2].Step, events[2].Tag));
        Assert.Equal((2, 3, 3), (events[2].ImageHeight, events[2].ImageWidth, events[2].ImageChannels));
        Assert.Equal(png, events[2].Png);
    }

    [Fact]
    public void The_reference_crc_matches_the_published_check_value()
    {
        // CRC-32C of the ASCII digits 1..9 is 0xE3069283 (RFC 3720, appendix B.4).
        Assert.Equal(0xE3069283u, Crc32C("123456789"u8.ToArray()));
    }

    private sealed record Event(double WallTime, long Step, string? FileVersion, string? Tag, float Value, int ImageHeight, int ImageWidth,
        int ImageChannels, byte[]? Png);

    private static IEnumerable<byte[]> Records(byte[] file)
    {
        int position = 0;
        while (position < file.Length)
        {
            var length = file.AsSpan(position, 8);
            Assert.Equal(Masked(length.ToArray()), BitConverter.ToUInt32(file, position + 8));
            int size = (int)BitConverter.ToUInt64(length);
            var data = file.AsSpan(position + 12, size).ToArray();
            Assert.Equal(Masked(data), BitConverter.ToUInt32(file, position + 12 + size));
            position += 16 + size;
            yield return data;
        }
    }

    private static Event Decode(byte[] data)
    {
        double wallTime = 0;
        long step = 0;
        string? version = null, tag = null;
        float value = 0;
        int height = 0, width = 0, channels = 0;
        byte[]? png = null;
        Fields(data, (field, input) =>
        {
            switch (field)
            {
                case 1: wallTime = input.ReadDouble(); return true;
                case 2: step = input.ReadInt64(); return true;
                case 3: version = input.ReadString(); return true;
                case 5:
                    // Summary { repeated Value value = 1 }; Value { tag = 1, simple_value = 2, image = 4 }.
                    Fields(input.ReadBytes().ToByteArray(), (summaryField, summary) => summaryField == 1 && Fields(summary.ReadBytes().ToByteArray(),
                        (entryField, entry) =>
                        {
                            switch (entryField)
                            {
                                case 1: tag = entry.ReadString(); return true;
                                case 2: value = entry.ReadFloat(); return true;
                                case 4:
                                    // Image { height = 1, width = 2, colorspace = 3, encoded_image_string = 4 }.
                                    return Fields(entry.ReadBytes().ToByteArray(), (imageField, image) =>
                                    {
                                        switch (imageField)
                                        {
                                            case 1: height = image.ReadInt32(); return true;
                                            case 2: width = image.ReadInt32(); return true;
                                            case 3: channels = image.ReadInt32(); return true;
                                            case 4: png = image.ReadBytes().ToByteArray(); return true;
                                            default: return false;
                                        }
                                    });
                                default: return false;
                            }
                        }));
                    return true;
                default: return false;
            }
        });
        return new Event(wallTime, step, version, tag, value, height, width, channels, png);
    }

    /// <summary>Calls <paramref name="read"/> for each field of a message; a field it does not read (false) is skipped.</summary>
    private static bool Fields(byte[] message, Func<int, CodedInputStream, bool> read)
    {
        using var input = new CodedInputStream(message);
        for (uint tag; (tag = input.ReadTag()) != 0;)
            if (!read(WireFormat.GetTagFieldNumber(tag), input)) input.SkipLastField();
        return true;
    }

    private static uint Masked(byte[] data)
    {
        uint crc = Crc32C(data);
        return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u;
    }

    /// <summary>Bitwise CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): slow, short, independent of SegSharp's table.</summary>
    private static uint Crc32C(byte[] data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        return ~crc;
    }
}
