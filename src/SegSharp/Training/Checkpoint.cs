using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SegSharp.Foundation;
using SegSharp.Models;
using static TorchSharp.torch;

namespace SegSharp.Training;

/// <summary>
/// A checkpoint file: data only, never code. Layout: the magic "SEGSHARP-CKPT-2\n", then four length-prefixed
/// sections (the <see cref="ModelCard"/> as JSON, the training state as JSON, model tensors in TorchSharp's format,
/// optimiser state), then the SHA-256 of all preceding bytes. A truncated or altered file fails the checksum
/// before anything is deserialised. Files of format 1 ("SEGSHARP-CKPT-1\n": state, model, optimiser; no card)
/// still parse, with <see cref="CheckpointContents.Card"/> null.
/// </summary>
public static class Checkpoint
{
    private static readonly byte[] Magic = Encoding.ASCII.GetBytes("SEGSHARP-CKPT-2\n");
    private static readonly byte[] MagicVersion1 = Encoding.ASCII.GetBytes("SEGSHARP-CKPT-1\n");

    public static JsonSerializerOptions Json => JsonFormats.Compact;

    /// <summary>
    /// Serialises state, model and optimiser into one buffer sized from the tensors up front, each section written
    /// in place (no per-section copies): a checkpoint costs one allocation of its own size, not four or five.
    /// </summary>
    public static ReadOnlyMemory<byte> Serialize(ModelCard card, TrainingState state, nn.Module model, optim.Optimizer? optimizer)
    {
        long tensorBytes = model.state_dict().Values.Sum(t => t.NumberOfElements * t.ElementSize);
        // Adam/AdamW keep two moments per parameter; SGD with momentum one. A low estimate only costs a regrowth.
        long estimate = tensorBytes * (optimizer is null ? 1 : 3) + (1 << 20);
        var body = new MemoryStream((int)Math.Min(estimate, Array.MaxLength));
        body.Write(Magic);
        WriteSection(body, stream => stream.Write(JsonSerializer.SerializeToUtf8Bytes(card, Json)));
        WriteSection(body, stream => stream.Write(JsonSerializer.SerializeToUtf8Bytes(state, Json)));
        WriteSection(body, stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            model.save(writer);
        });
        WriteSection(body, stream =>
        {
            if (optimizer is null) return;
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            ((TorchSharp.Modules.OptimizerHelper)optimizer).save_state_dict(writer);
        });
        body.Write(SHA256.HashData(body.GetBuffer().AsSpan(0, (int)body.Length)));
        return new ReadOnlyMemory<byte>(body.GetBuffer(), 0, (int)body.Length);
    }

    /// <summary>Checks the checksum and returns the sections; throws <see cref="InvalidDataException"/> naming the problem.</summary>
    public static CheckpointContents Parse(byte[] bytes)
    {
        bool current = bytes.Length >= Magic.Length + 32 && bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic);
        bool version1 = bytes.Length >= Magic.Length + 32 && bytes.AsSpan(0, MagicVersion1.Length).SequenceEqual(MagicVersion1);
        if (!current && !version1)
        {
            bool newer = bytes.Length > 15 && Encoding.ASCII.GetString(bytes, 0, 14) == "SEGSHARP-CKPT-";
            throw new InvalidDataException(newer
                ? $"written by a newer SegSharp (format {Encoding.ASCII.GetString(bytes, 14, 1)}); update SegSharp to read it"
                : "not a SegSharp checkpoint (bad header or truncated)");
        }
        var expected = bytes.AsSpan(bytes.Length - 32);
        if (!SHA256.HashData(bytes.AsSpan(0, bytes.Length - 32)).AsSpan().SequenceEqual(expected))
            throw new InvalidDataException("checksum mismatch (the file is truncated or corrupt)");
        int position = Magic.Length;
        ModelCard? card = null;
        try
        {
            if (current)
            {
                card = JsonSerializer.Deserialize<ModelCard>(ReadSection(bytes, ref position), Json) ?? throw new InvalidDataException("empty model card");
                if (card.Format > ModelCard.CurrentFormat)
                    throw new InvalidDataException($"its model card has format {card.Format}, newer than this SegSharp reads ({ModelCard.CurrentFormat}); " +
                        $"update SegSharp");
            }
            var state = JsonSerializer.Deserialize<TrainingState>(ReadSection(bytes, ref position), Json) ?? throw new InvalidDataException("empty state");
            var model = ReadSection(bytes, ref position);
            var optimizer = ReadSection(bytes, ref position);
            return new CheckpointContents(card, state, model, optimizer);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"its metadata does not parse ({e.Message})");
        }
    }

    public static void LoadModel(nn.Module model, byte[] bytes)
    {
        using var stream = new MemoryStream(bytes);
        model.load(stream);
    }

    public static void LoadOptimizer(optim.Optimizer optimizer, byte[] bytes)
    {
        if (bytes.Length == 0) return;
        using var stream = new MemoryStream(bytes);
        using var reader = new BinaryReader(stream);
        ((TorchSharp.Modules.OptimizerHelper)optimizer).load_state_dict(reader);
    }

    /// <summary>SHA-256 over every parameter and buffer (name, dtype, shape, raw bytes) in state-dict order.</summary>
    public static string WeightsHash(nn.Module model)
    {
        using var guard = Runtime.NativeScalarGuard.Enter();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, tensor) in model.state_dict())
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{name}|{tensor.dtype}|{string.Join("x", tensor.shape)}|"));
            using var contiguous = tensor.detach().cpu().contiguous();
            hash.AppendData(contiguous.bytes);
        }
        return Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
    }

    /// <summary>A section is its length (int64, little-endian) then its bytes; the length is patched in afterwards.</summary>
    private static void WriteSection(MemoryStream stream, Action<Stream> write)
    {
        long start = stream.Position;
        stream.Write(stackalloc byte[8]);
        write(stream);
        long length = stream.Position - start - 8;
        BinaryPrimitives.WriteInt64LittleEndian(stream.GetBuffer().AsSpan((int)start, 8), length);
    }

    private static byte[] ReadSection(byte[] bytes, ref int position)
    {
        long length = BitConverter.ToInt64(bytes, position);
        position += 8;
        if (length < 0 || position + length > bytes.Length - 32) throw new InvalidDataException("section length out of range");
        var data = bytes.AsSpan(position, (int)length).ToArray();
        position += (int)length;
        return data;
    }
}
