using SegSharp.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SegSharp.Benchmarks;

/// <summary>
/// Counts the convolution FLOPs of one forward pass by tracing it: every <see cref="Convolution"/> reports its input
/// and output shapes through a forward hook. A multiply-add is 2 FLOPs; a plain convolution costs
/// 2·Cin·Cout·kh·kw per output pixel, a transposed one the same per input pixel.
/// </summary>
public static class ConvolutionFlops
{
    /// <returns>FLOPs per image of one forward pass at <paramref name="size"/>x<paramref name="size"/>.</returns>
    public static double PerImage(SegmentationModel model, int channels, int size)
    {
        double total = 0;
        var hooks = new List<Action>();
        foreach (var convolution in model.modules().OfType<Convolution>())
        {
            var remover = convolution.register_forward_hook((module, input, output) =>
            {
                var weight = module.get_parameter("weight")!;
                bool transposed = ((Convolution)module).IsTransposed;
                long cIn = transposed ? weight.shape[0] : weight.shape[1];
                long cOut = transposed ? weight.shape[1] : weight.shape[0];
                var pixels = transposed ? input.shape[2] * input.shape[3] : output.shape[2] * output.shape[3];
                total += 2.0 * cIn * cOut * weight.shape[2] * weight.shape[3] * pixels;
                return output;
            });
            hooks.Add(remover.remove);
        }
        using (var noGrad = no_grad())
        using (var scope = NewDisposeScope())
        {
            model.eval();
            model.forward(zeros(1, channels, size, size));
        }
        foreach (var remove in hooks) remove();
        return total;
    }
}
