using SegSharp.Data;
using static TorchSharp.torch;

namespace SegSharp.Losses;

/// <summary>Multilabel targets (<see cref="LabelBits"/>, [N, H, W] int64) as per-class binary maps.</summary>
public static class LabelTargets
{
    /// <returns>Truth [N, C, H, W] (1 where class c is present) and valid [N, 1, H, W] (0 on ignored pixels), both of <paramref name="dtype"/>.</returns>
    public static (Tensor Truth, Tensor Valid) Expand(Tensor target, long classes, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var valid = target.ne(LabelBits.Ignore).unsqueeze(1);
        var truth = LabelBits.Planes(target, (int)classes, 1).logical_and(valid);
        return (truth.to(dtype).MoveToOuterDisposeScope(), valid.to(dtype).MoveToOuterDisposeScope());
    }
}
