using SegSharp.Configuration;
using SegSharp.Models;
using SegSharp.Tests.Training;
using SegSharp.Training;

namespace SegSharp.Tests.Models;

public class MemoryEstimateTests
{
    private static SegmentationModel Reference() =>
        ModelFactory.Create(SegSharpConfig.Load(null, new[] { "model.depth=4", "model.width=32" }).Model, 3, 2, 1);

    [Fact]
    public void The_reference_unet_estimate_is_within_its_measured_peak_and_scales_with_pixels()
    {
        using var unet = Reference();
        var (perImage, fixedBytes) = MemoryEstimate.Training(unet, 128, 128);
        double batch8 = perImage * 8 + fixedBytes;
        // docs/performance.md: the bare TorchSharp loop at b8x128 peaks at 1.12-1.28 GB RSS, the runtime included.
        Assert.InRange(batch8 / (1 << 20), 400, 1300);
        // Parameters, gradients and two Adam moments of 7,763,074 float32 parameters.
        Assert.Equal(4.0 * 7_763_074 * 4, fixedBytes);
        Assert.Equal(4 * perImage, MemoryEstimate.Training(unet, 256, 256).PerImage, 6);
    }
}

[Collection("training")]
public class ImpossibleBatchTests
{
    [Fact]
    public void A_batch_that_cannot_fit_is_refused_with_the_numbers_before_training_and_a_batch_above_the_split_is_flagged()
    {
        var config = SegSharpConfig.Load(TestPaths.Config("isbi-unet.yaml"), new[] { "train.batch_size=4096", $"output.dir={TestPaths.TempFolder("huge")}" });
        var observer = new RecordingHook();
        var error = Assert.Throws<SegSharpException>(() => TinyRun.Trainer(config, new[] { observer }).Run());
        Assert.Matches(@"^train\.batch_size 4096 at 256x256 needs about \d+\.\d GB to train \(estimated from the model\), but \d+\.\d GB of memory are " +
            @"available\. Lower train\.batch_size \(about \d+ fits\) or the crop size\.$", error.Message);
        Assert.Contains(observer.Messages, m => m.StartsWith("warning: train.batch_size 4096 is larger than the 24 training images", StringComparison.Ordinal));
    }
}
