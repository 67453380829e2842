using SegSharp.Data;
using SegSharp.Transforms;

namespace SegSharp.Tests.Data;

public class BatchLoaderTests
{
    private static readonly TransformPipeline Augment = new(new IJointTransform[]
    {
        new RandomCrop(48, 48), new Flip(true, 0.5), new RandomRotate90(0.5), new ColorJitter(0.1, 0.1, 0),
    });

    private static List<HostBatch> Run(int workers, int epoch, int start = 0, int prefetch = 2)
    {
        var loader = new BatchLoader(new ShapesDataset(count: 21, size: 64), Augment, batchSize: 4, seed: 11, shuffle: true, workers, prefetch);
        return loader.Epoch(epoch, start).ToList();
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void Shards_of_a_batch_put_together_are_the_batch_one_process_builds(int shards)
    {
        var dataset = new ShapesDataset(count: 21, size: 64);
        var whole = new BatchLoader(dataset, Augment, batchSize: 8, seed: 11, shuffle: true, workers: 0, prefetch: 1);
        var parts = Enumerable.Range(0, shards)
            .Select(s => new BatchLoader(dataset, Augment, batchSize: 8, seed: 11, shuffle: true, workers: 1, prefetch: 1, shard: s, shards: shards))
            .ToList();
        Assert.All(parts, p => Assert.Equal(8 / shards, p.LocalBatchSize));
        foreach (int batch in new[] { 0, 1 })
        {
            var expected = whole.Build(2, batch);
            var built = parts.Select(p => p.Build(2, batch)).ToList();
            Assert.Equal(expected.Names, built.SelectMany(b => b.Names));
            // Augmentation is keyed by the place in the whole batch, so the pixels match too, not just the choice of images.
            Assert.Equal(expected.Images, built.SelectMany(b => b.Images));
            Assert.Equal(expected.Masks, built.SelectMany(b => b.Masks));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchLoader(dataset, Augment, batchSize: 6, seed: 11, shuffle: true, 0, 1, shard: 0, shards: 4));
    }

    [Fact]
    public void Batches_are_identical_for_0_1_and_4_workers()
    {
        var serial = Run(0, 3);
        foreach (int workers in new[] { 1, 4 })
        {
            var parallel = Run(workers, 3, prefetch: workers == 4 ? 3 : 1);
            Assert.Equal(serial.Count, parallel.Count);
            for (int i = 0; i < serial.Count; i++)
            {
                Assert.Equal(serial[i].Names, parallel[i].Names);
                Assert.Equal(serial[i].Images, parallel[i].Images);
                Assert.Equal(serial[i].Masks, parallel[i].Masks);
            }
        }
    }

    [Fact]
    public void Epochs_differ_in_order_and_each_epoch_visits_distinct_samples()
    {
        var e0 = Run(2, 0);
        var e1 = Run(2, 1);
        Assert.Equal(5, e0.Count); // 21 samples / 4 per batch, last partial batch dropped
        Assert.NotEqual(e0.SelectMany(b => b.Names), e1.SelectMany(b => b.Names));
        var names = e0.SelectMany(b => b.Names).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
    }

    [Fact]
    public void Starting_mid_epoch_yields_the_tail_of_the_full_epoch()
    {
        var full = Run(2, 4);
        var tail = Run(3, 4, start: 2);
        Assert.Equal(full.Skip(2).Select(b => b.Images), tail.Select(b => b.Images));
    }

    [Fact]
    public void A_failing_sample_surfaces_its_error_to_the_consumer()
    {
        var loader = new BatchLoader(new FailingDataset(), TransformPipeline.Empty, 2, 1, shuffle: false, workers: 2, prefetch: 2);
        var error = Assert.Throws<SegSharpException>(() => loader.Epoch(0).ToList());
        Assert.Equal("sample 3 is broken", error.Message);
    }

    [Fact]
    public void Samples_of_two_sizes_in_one_batch_name_the_batch_size_key_to_change()
    {
        var samples = new[]
        {
            new Sample("a", new float[3 * 4 * 4], new int[16], 3, 4, 4, 255), new Sample("b", new float[3 * 5 * 4], new int[20], 3, 5, 4, 255),
        };
        var error = Assert.Throws<SegSharpException>(() => HostBatch.Collate(0, 0, samples, "train.val_batch_size (transforms.val)"));
        Assert.Equal("Samples 'a' (4x4) and 'b' (4x5) cannot share a batch. Set train.val_batch_size (transforms.val) to 1, or add a resize or " +
            "center_crop transform so every sample has one size.", error.Message);
    }

    private sealed class FailingDataset : ISegmentationDataset
    {
        private readonly ShapesDataset _inner = new(count: 6, size: 8);
        public DatasetDescription Description => _inner.Description;
        public int Count => 6;
        public string NameOf(int index) => _inner.NameOf(index);
        public Sample Load(int index) => index == 3 ? throw new SegSharpException("sample 3 is broken") : _inner.Load(index);
    }
}
