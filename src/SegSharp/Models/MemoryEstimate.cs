using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>
/// A model's training memory, estimated before the first step so an impossible batch is refused with numbers
/// instead of being killed by the kernel minutes later. Activations: the outputs of every layer (convolutions,
/// norms, pooling, upsampling; in-place ReLUs add nothing), traced once on a small input and scaled by pixels and
/// batch, counted twice because backward holds gradients of the same shapes while the forward's are still alive.
/// Parameters: weights, gradients and two optimiser moments.
/// </summary>
public static class MemoryEstimate
{
    /// <summary>Float32 bytes per input pixel of one image that the layers' outputs take in a forward pass.</summary>
    public static double ActivationBytesPerPixel(SegmentationModel model)
    {
        int size = model.Stride * 4;
        double elements = 0;
        var removers = new List<Action>();
        foreach (var module in model.modules())
        {
            if (module.children().Any() || module is ReLU or Identity || module is not nn.Module<Tensor, Tensor> layer) continue;
            removers.Add(layer.register_forward_hook((_, _, output) =>
            {
                elements += output.numel();
                return output;
            }).remove);
        }
        bool training = model.training;
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            model.eval();
            model.forward(zeros(1, model.InputChannels, size, size));
        }
        finally
        {
            foreach (var remove in removers) remove();
            if (training) model.train();
        }
        return elements * sizeof(float) / ((double)size * size);
    }

    /// <summary>What a training step on images of <paramref name="height"/> x <paramref name="width"/> needs: bytes per image, plus a fixed part.</summary>
    /// <returns>Total bytes for a batch of n images: <c>PerImage * n + Fixed</c>.</returns>
    public static (double PerImage, double Fixed) Training(SegmentationModel model, int height, int width) =>
        (2 * ActivationBytesPerPixel(model) * height * width, 4.0 * model.parameters().Sum(p => p.numel()) * sizeof(float));
}
