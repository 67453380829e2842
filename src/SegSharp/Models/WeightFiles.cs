using SegSharp.Foundation;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>
/// A model's state dict as a safetensors or PyTorch file, keyed as TorchSharp names it (submodules after their C#
/// fields, e.g. <c>_encoders.0._layers.0.weight</c>). Loading matches every key and shape and names what does not
/// match, instead of loading part of a model silently.
/// </summary>
public static class WeightFiles
{
    /// <summary>The format a file name says: <c>.safetensors</c>, or <c>.pt</c>/<c>.pth</c>/<c>.bin</c> for PyTorch.</summary>
    public static WeightFileFormat FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".safetensors" => WeightFileFormat.Safetensors,
        ".pt" or ".pth" or ".bin" => WeightFileFormat.PyTorch,
        _ => throw new SegSharpException($"Weights file '{path}' has no known extension; use .safetensors, or .pt/.pth for PyTorch's format."),
    };

    /// <summary>Writes the model's parameters and buffers to <paramref name="path"/> atomically.</summary>
    public static void Write(nn.Module model, string path, WeightFileFormat format)
    {
        var state = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().contiguous());
        try
        {
            Action<Stream> write = format switch
            {
                WeightFileFormat.Safetensors => stream => Safetensors.SaveStateDict(stream, state, leaveOpen: true),
                WeightFileFormat.PyTorch => stream => PyTorchPickler.PickleStateDict(stream, state, leaveOpen: true),
            };
            AtomicFile.Write(path, write);
        }
        finally
        {
            foreach (var tensor in state.Values) tensor.Dispose();
        }
    }

    /// <summary>Every tensor in the file, by key.</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path)) throw new SegSharpException($"Weights file '{path}' does not exist.");
        try
        {
            return FormatOf(path) switch
            {
                WeightFileFormat.Safetensors => Safetensors.LoadStateDict(path),
                WeightFileFormat.PyTorch => PyTorchUnpickler.UnpickleStateDict(path).Cast<System.Collections.DictionaryEntry>()
                    .ToDictionary(e => (string)e.Key, e => (Tensor)e.Value!),
            };
        }
        catch (Exception e) when (e is not SegSharpException and not IOException)
        {
            throw new SegSharpException($"Weights file '{path}' could not be read ({e.Message.Split('\n')[0].TrimEnd('.')}). Is it a state dict?");
        }
    }

    /// <summary>
    /// Copies the file's tensors into the model's parameters and buffers. Every model key must be in the file with
    /// the same shape, and the file must hold nothing else; otherwise nothing is changed and the error names the
    /// missing, unexpected and mis-shaped keys.
    /// </summary>
    public static void LoadInto(nn.Module model, string path)
    {
        var file = Read(path);
        try
        {
            var target = model.state_dict();
            var missing = target.Keys.Where(k => !file.ContainsKey(k)).ToList();
            var unexpected = file.Keys.Where(k => !target.ContainsKey(k)).ToList();
            var misShaped = target.Keys.Where(file.ContainsKey).Where(k => !target[k].shape.SequenceEqual(file[k].shape))
                .Select(k => $"{k} (model [{string.Join(", ", target[k].shape)}], file [{string.Join(", ", file[k].shape)}])").ToList();
            if (missing.Count + unexpected.Count + misShaped.Count > 0)
                throw new SegSharpException($"Weights file '{path}' does not fit the model: " +
                    $"{Describe("missing", missing)}{Describe("unexpected", unexpected)}{Describe("mis-shaped", misShaped)}" +
                    "check model.name, depth, width and encoder against the model that wrote it.");
            using var noGrad = no_grad();
            foreach (var (key, tensor) in target) tensor.copy_(file[key]);
        }
        finally
        {
            foreach (var tensor in file.Values) tensor.Dispose();
        }
    }

    /// <summary>"3 missing (a, b, c, ...); " for a key mismatch message; empty when there are none.</summary>
    internal static string Describe(string what, IReadOnlyList<string> keys) => keys.Count == 0
        ? ""
        : $"{keys.Count} {what} ({string.Join(", ", keys.Take(3))}{(keys.Count > 3 ? ", ..." : "")}); ";
}
