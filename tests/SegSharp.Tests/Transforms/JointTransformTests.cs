using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Runtime;
using SegSharp.Transforms;

namespace SegSharp.Tests.Transforms;

public class JointTransformTests
{
    private const int H = 10, W = 14, Ignore = 255;

    /// <summary>A sample whose image encodes its mask: image = class / 10 in both channels.</summary>
    private static Sample Encoded()
    {
        var mask = Enumerable.Range(0, H * W).Select(i => (i / W * 3 + i % W * 5) % 4).ToArray();
        var plane = mask.Select(c => c / 10f).ToArray();
        return new Sample("s", plane.Concat(plane).ToArray(), mask, 2, H, W, Ignore);
    }

    /// <summary>Every unpadded pixel's image still decodes to its mask value, in every channel.</summary>
    private static void AssertAligned(Sample s)
    {
        int plane = s.Height * s.Width;
        for (int i = 0; i < plane; i++)
        {
            if (s.Mask[i] == Ignore) { Assert.Equal(0f, s.Image[i]); continue; }
            for (int c = 0; c < s.Channels; c++)
                Assert.Equal(s.Mask[i], (int)MathF.Round(s.Image[c * plane + i] * 10));
        }
    }

    public static TheoryData<string, IJointTransform> Geometric => new()
    {
        { "hflip", new Flip(true, 1.0) },
        { "vflip", new Flip(false, 1.0) },
        { "rotate90", new RandomRotate90(1.0) },
        { "crop", new RandomCrop(6, 9) },
        { "crop-pad", new RandomCrop(16, 20) },
        { "center-crop", new CenterCrop(5, 5) },
    };

    [Theory]
    [MemberData(nameof(Geometric))]
    public void Geometry_moves_image_and_mask_together(string name, IJointTransform transform)
    {
        for (int seed = 0; seed < 8; seed++)
        {
            var result = transform.Apply(Encoded(), new SeededRandom((ulong)seed));
            AssertAligned(result);
            Assert.True(result.Mask.Any(v => v != Ignore), name);
        }
    }

    [Fact]
    public void Horizontal_flip_mirrors_columns()
    {
        var s = Encoded();
        var flipped = new Flip(true, 1.0).Apply(s, new SeededRandom(1));
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                Assert.Equal(s.Mask[y * W + x], flipped.Mask[y * W + (W - 1 - x)]);
    }

    [Fact]
    public void Quarter_turn_moves_the_top_right_corner_to_the_top_left()
    {
        var s = Encoded();
        var turned = RandomRotate90.Rotate(s, 1);
        Assert.Equal((W, H), (turned.Height, turned.Width));
        Assert.Equal(s.Mask[W - 1], turned.Mask[0]);
        Assert.Equal(s.Mask[0], turned.Mask[(W - 1) * H]);
        var back = RandomRotate90.Rotate(RandomRotate90.Rotate(RandomRotate90.Rotate(turned, 1), 1), 1);
        Assert.Equal(s.Mask, back.Mask);
        Assert.Equal(s.Image, back.Image);
    }

    [Fact]
    public void Crop_larger_than_the_image_pads_masks_with_ignore_index_and_images_with_zero()
    {
        var padded = new RandomCrop(16, 20).Apply(Encoded(), new SeededRandom(3));
        Assert.Equal(16 * 20 - H * W, padded.Mask.Count(v => v == Ignore));
        AssertAligned(padded);
    }

    [Fact]
    public void Resizing_never_invents_classes()
    {
        var s = Encoded();
        foreach (var (h, w) in new[] { (7, 9), (23, 31), (10, 14) })
        {
            var resized = new Resize(h, w).Apply(s, new SeededRandom(0));
            Assert.Equal(h * w, resized.Mask.Length);
            Assert.Subset(s.Mask.ToHashSet(), resized.Mask.ToHashSet());
        }
        var scaled = new RandomScale(0.5, 2.0).Apply(s, new SeededRandom(5));
        Assert.Subset(s.Mask.ToHashSet(), scaled.Mask.ToHashSet());
    }

    /// <summary>
    /// The fused scale-and-crop gives the two steps' sample bit for bit and leaves the random stream where they leave it: over
    /// factors below and above 1 (one exactly 1), windows inside and larger than the scaled image (padding), random pixels.
    /// </summary>
    [Fact]
    public void Scale_then_crop_fused_equals_the_two_steps_bit_for_bit()
    {
        var noise = new SeededRandom(42);
        var mask = Enumerable.Range(0, 37 * 53).Select(_ => noise.NextInt(5)).ToArray();
        var image = Enumerable.Range(0, 3 * 37 * 53).Select(_ => (float)noise.NextGaussian()).ToArray();
        var source = new Sample("s", image, mask, 3, 37, 53, Ignore);
        foreach (var (scale, crop) in new[] { (new RandomScale(0.5, 2.0), new RandomCrop(24, 24)), (new RandomScale(0.75, 1.25), new RandomCrop(40, 30)),
            (new RandomScale(1.0, 1.0), new RandomCrop(20, 50)), (new RandomScale(0.3, 0.6), new RandomCrop(32, 32)) })
        {
            for (ulong seed = 0; seed < 25; seed++)
            {
                var (fusedRandom, stepsRandom) = (new SeededRandom(seed), new SeededRandom(seed));
                var fused = new ScaledCrop(scale, crop).Apply(source, fusedRandom);
                var steps = crop.Apply(scale.Apply(source, stepsRandom), stepsRandom);
                Assert.Equal(steps.Image.Select(BitConverter.SingleToInt32Bits), fused.Image.Select(BitConverter.SingleToInt32Bits));
                Assert.Equal(steps.Mask, fused.Mask);
                Assert.Equal((steps.Height, steps.Width), (fused.Height, fused.Width));
                Assert.Equal(stepsRandom.NextUInt64(), fusedRandom.NextUInt64());
            }
        }
    }

    [Fact]
    public void The_pipeline_fuses_a_random_scale_directly_followed_by_a_random_crop()
    {
        var pipeline = TransformPipeline.Create(new TransformSpec[]
        {
            new RandomScaleSpec([0.75, 1.25]), new RandomCropSpec([8, 8]), new HorizontalFlipSpec(0.5),
            new RandomCropSpec([4, 4]),
        });
        Assert.Equal(new[] { typeof(ScaledCrop), typeof(Flip), typeof(RandomCrop) }, pipeline.Steps.Select(s => s.GetType()));
    }

    [Fact]
    public void Bilinear_resize_of_a_constant_image_is_constant_and_identity_at_same_size()
    {
        var constant = Enumerable.Repeat(0.25f, 2 * 6 * 4).ToArray();
        Assert.All(Resampling.ResizeBilinear(constant, 2, 6, 4, 13, 3), v => Assert.Equal(0.25f, v, 6));
        var ramp = Enumerable.Range(0, 24).Select(i => (float)i).ToArray();
        Assert.Equal(ramp, Resampling.ResizeBilinear(ramp, 1, 4, 6, 4, 6));
        // Upsampling a 2-pixel row by 2 with half-pixel centres: 0, 0.25, 0.75, 1 (PyTorch align_corners=False).
        Assert.Equal(new[] { 0f, 0.25f, 0.75f, 1f }, Resampling.ResizeBilinear(new[] { 0f, 1f }, 1, 1, 2, 1, 4));
    }

    [Fact]
    public void Colour_transforms_change_the_image_only()
    {
        var s = Encoded();
        var jittered = new ColorJitter(0.3, 0.3, 0.2).Apply(s, new SeededRandom(9));
        var normalized = new Normalize(new[] { 0.5 }, new[] { 0.25 }).Apply(s, new SeededRandom(9));
        Assert.Equal(s.Mask, jittered.Mask);
        Assert.Equal(s.Mask, normalized.Mask);
        Assert.NotEqual(s.Image, jittered.Image);
        Assert.Equal((s.Image[5] - 0.5f) / 0.25f, normalized.Image[5], 5);
    }

    [Fact]
    public void Same_generator_seed_gives_the_same_augmentation()
    {
        var pipeline = new TransformPipeline(new IJointTransform[] { new RandomCrop(6, 6), new Flip(true, 0.5), new RandomRotate90(0.5),
            new ColorJitter(0.2, 0.2, 0) });
        var a = pipeline.Apply(Encoded(), SeededRandom.For(1, 2, 3));
        var b = pipeline.Apply(Encoded(), SeededRandom.For(1, 2, 3));
        Assert.Equal(a.Image, b.Image);
        Assert.Equal(a.Mask, b.Mask);
    }
}
