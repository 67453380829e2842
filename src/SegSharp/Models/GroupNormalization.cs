using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>
/// Group normalisation (Wu and He 2018) with weight 1 and bias 0 at start. TorchSharp 0.107's own GroupNorm
/// module leaves its affine parameters uninitialised (NaN or 1e32 gradients seen here), so this module
/// owns properly initialised parameters and calls the functional op, which is correct.
/// </summary>
public sealed class GroupNormalization : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly long _groups;
    // TorchSharp names registered parameters after their fields: these are the state-dict keys "weight" and "bias",
    // the same as torch.nn.GroupNorm's, so they keep those names.
#pragma warning disable IDE1006
    private readonly Parameter weight;
    private readonly Parameter bias;
#pragma warning restore IDE1006

    public GroupNormalization(long groups, long channels) : base(nameof(GroupNormalization))
    {
        if (channels % groups != 0) throw new ArgumentException($"{channels} channels do not split into {groups} groups.", nameof(groups));
        _groups = groups;
        weight = new Parameter(ones(channels));
        bias = new Parameter(zeros(channels));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => nn.functional.group_norm(input, _groups, weight, bias, 1e-5);

    /// <summary>
    /// Opset 17 has no GroupNormalization: [N, C, H, W] is viewed as [N, groups, C/groups·H·W], instance-normalised
    /// (per sample and group, which is group norm's statistic), viewed back, then scaled and shifted per channel.
    /// </summary>
    string IOnnxExportable.AddTo(OnnxGraph graph, string input)
    {
        string grouped = graph.Node("Reshape", new[] { input, graph.Constant(0, _groups, -1) });
        string normalised = graph.Node("InstanceNormalization",
            new[] { grouped, graph.Constant(Enumerable.Repeat(1f, (int)_groups).ToArray(), _groups), graph.Constant(new float[_groups], _groups) },
            OnnxGraph.Attribute("epsilon", 1e-5f));
        string restored = graph.Node("Reshape", new[] { normalised, graph.Node("Shape", new[] { input }) });
        long channels = weight.shape[0];
        string scaled = graph.Node("Mul", new[] { restored, graph.Node("Reshape", new[] { graph.Weight(weight), graph.Constant(channels, 1, 1) }) });
        return graph.Node("Add", new[] { scaled, graph.Node("Reshape", new[] { graph.Weight(bias), graph.Constant(channels, 1, 1) }) });
    }
}
