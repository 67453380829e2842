using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Evaluation;
using SegSharp.Models;
using SegSharp.Runtime;
using SegSharp.Tests.Runtime;
using SegSharp.Training;
using SegSharp.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace SegSharp.Tests.Training;

/// <summary>
/// The collective code paths of data-parallel training on ranks that are threads (<see cref="ThreadGroup"/>), against
/// one process doing the same work on the whole batch. mpirun runs of the real CLI are in DataParallelEndToEndTests.
/// </summary>
public class DataParallelTests
{
    [Fact]
    public void Gradients_are_averaged_over_ranks_in_every_bucket_and_weights_start_from_rank_0()
    {
        // Bucket size 64 bytes forces several buckets (and one parameter larger than a bucket).
        var results = ThreadGroup.Run(2, collective =>
        {
            using var model = nn.Sequential(nn.Linear(5, 7), nn.Linear(7, 3));
            using (no_grad())
                foreach (var p in model.parameters()) p.fill_(collective.Rank + 1.0);
            var parallel = new DataParallel(model, collective, bucketBytes: 64);
            parallel.BroadcastWeights(model);
            var weightsAfterBroadcast = model.parameters().Select(p => p.detach().clone()).ToList();
            foreach (var p in model.parameters()) p.grad = full_like(p, 10.0 * (collective.Rank + 1)) + arange(p.numel()).view_as(p);
            parallel.AverageGradients();
            double loss = parallel.MeanLoss(collective.Rank == 0 ? 0.5 : 1.5);
            bool stop = parallel.AnyStop(collective.Rank == 1);
            return (weightsAfterBroadcast, grads: model.parameters().Select(p => p.grad!.clone()).ToList(), parallel.BucketCount, loss, stop);
        });
        foreach (var r in results)
        {
            Assert.All(r.weightsAfterBroadcast, w => Assert.True(w.eq(1.0).all().item<bool>()));
            // Mean of 10 + i and 20 + i is 15 + i.
            Assert.All(r.grads, g => Assert.True(g.allclose(full_like(g, 15.0) + arange(g.numel()).view_as(g))));
            Assert.True(r.BucketCount >= 3, $"{r.BucketCount} buckets");
            Assert.Equal(1.0, r.loss, 12);
            Assert.True(r.stop);
        }
    }

    [Fact]
    public void Batch_norm_running_statistics_come_from_rank_0()
    {
        var results = ThreadGroup.Run(2, collective =>
        {
            using var norm = nn.BatchNorm2d(3);
            using (no_grad()) norm.running_mean!.fill_(collective.Rank + 4.0);
            new DataParallel(norm, collective).BroadcastBuffers();
            return norm.running_mean!.clone();
        });
        Assert.All(results, m => Assert.True(m.eq(4.0).all().item<bool>()));
    }

    [Fact]
    public void Synchronised_batch_norm_on_two_halves_equals_batch_norm_on_the_whole_batch()
    {
        using var first = new Generator(3);
        using var second = new Generator(4);
        using var input = randn(8, 4, 5, 6, generator: first) * 3 + 1;
        using var upstream = randn(8, 4, 5, 6, generator: second);
        using var reference = NewNorm();
        var wholeInput = input.clone().requires_grad_();
        var wholeOutput = reference.call(wholeInput);
        (wholeOutput * upstream).sum().backward();

        var ranks = ThreadGroup.Run(2, collective =>
        {
            using var norm = NewNorm();
            using var sync = SynchronizedBatchNorm.Install(nn.Sequential(("norm", norm)), collective);
            var half = input.narrow(0, 4 * collective.Rank, 4).clone().requires_grad_();
            var output = norm.call(half);
            (output * upstream.narrow(0, 4 * collective.Rank, 4)).sum().backward();
            return (output: output.detach(), inputGrad: half.grad!.clone(), weightGrad: norm.weight!.grad!.clone(), biasGrad: norm.bias!.grad!.clone(),
                mean: norm.running_mean!.clone(), variance: norm.running_var!.clone());
        });

        Assert.True(cat(ranks.Select(r => r.output).ToArray()).allclose(wholeOutput.detach(), rtol: 1e-5, atol: 1e-5));
        Assert.True(cat(ranks.Select(r => r.inputGrad).ToArray()).allclose(wholeInput.grad!, rtol: 1e-4, atol: 1e-5));
        // Each rank's parameter gradient is its share; data-parallel training sums (averages) them.
        Assert.True((ranks[0].weightGrad + ranks[1].weightGrad).allclose(reference.weight!.grad!, rtol: 1e-4, atol: 1e-5));
        Assert.True((ranks[0].biasGrad + ranks[1].biasGrad).allclose(reference.bias!.grad!, rtol: 1e-4, atol: 1e-5));
        foreach (var r in ranks)
        {
            Assert.True(r.mean.allclose(reference.running_mean!, rtol: 1e-5, atol: 1e-6));
            Assert.True(r.variance.allclose(reference.running_var!, rtol: 1e-5, atol: 1e-6));
        }
        // Without synchronisation each half would have its own statistics: the comparison above can fail.
        using var plain = NewNorm();
        using var halfOutput = plain.call(input.narrow(0, 0, 4));
        Assert.False(halfOutput.allclose(wholeOutput.narrow(0, 0, 4).detach(), rtol: 1e-3, atol: 1e-3));
    }

    [Fact]
    public void Synchronised_batch_norm_leaves_evaluation_mode_alone()
    {
        var outputs = ThreadGroup.Run(2, collective =>
        {
            using var norm = NewNorm();
            using var sync = SynchronizedBatchNorm.Install(norm, collective);
            norm.eval();
            using var x = full(new long[] { 2, 4, 3, 3 }, collective.Rank + 1.0f);
            return norm.call(x).clone();
        });
        // Running statistics are 0 and 1: evaluation is the affine map alone, different per rank's input.
        Assert.False(outputs[0].allclose(outputs[1]));
    }

    [Fact]
    public void Sharded_validation_sums_one_confusion_matrix_and_equals_one_process()
    {
        var dataset = new ShapesDataset(count: 7, size: 32);
        var classes = dataset.Description.Classes.Select(c => c.Name).ToList();
        var modelConfig = SegSharpConfig.Load(null, new[] { "model.depth=2", "model.width=4" }).Model;
        // Models built up front on this thread (creation draws from libtorch's global generator), all with one set of weights.
        var models = Enumerable.Range(0, 4).Select(_ => ModelFactory.Create(modelConfig, 3, classes.Count, seed: 9)).ToList();
        foreach (var copy in models.Skip(1)) copy.load_state_dict(models[0].state_dict());
        ValidationResult Validate(ICollective collective, SegmentationModel model)
        {
            var loader = new BatchLoader(dataset, new TransformPipeline(Array.Empty<IJointTransform>()), batchSize: 2, seed: 1, shuffle: false, 0, 1);
            var loss = new SegSharp.Losses.CrossEntropyLoss(dataset.Description.IgnoreIndex);
            return Validator.Run(model, loader, loss, classes, dataset.Description.IgnoreIndex, collective: collective);
        }
        var single = Validate(SingleProcess.Instance, models[3]);
        var ranks = ThreadGroup.Run(3, collective => Validate(collective, models[collective.Rank]));
        models.ForEach(m => m.Dispose());
        foreach (var r in ranks)
        {
            Assert.Equal(single.Metrics.MeanIoU, r.Metrics.MeanIoU, 12);
            Assert.Equal(single.Metrics.PixelAccuracy, r.Metrics.PixelAccuracy, 12);
            Assert.Equal(single.Loss!.Value, r.Loss!.Value, 6);
        }
        // 7 images in 4 batches over 3 ranks: 2 + 1 + 1 batches, every image once.
        Assert.Equal(7, ranks.Sum(r => r.Images.Count));
    }

    [Fact]
    public void A_batch_that_does_not_split_evenly_over_the_ranks_is_refused_with_the_fix()
    {
        var errors = ThreadGroup.Run(3, collective =>
        {
            var config = TinyRun.Config(Path.Combine(Path.GetTempPath(), $"segsharp-dp-{Guid.NewGuid():N}"), "train.batch_size=4");
            return Assert.Throws<SegSharpException>(() => TinyRun.Trainer(config, collective: collective).Run()).Message;
        });
        Assert.All(errors, m => Assert.Contains("train.batch_size 4 cannot be split evenly over 3 processes", m));
        Assert.Contains("for example 3", errors[0]);
    }

    private static TorchSharp.Modules.BatchNorm2d NewNorm()
    {
        var norm = nn.BatchNorm2d(4);
        using (no_grad())
        {
            norm.weight!.copy_(tensor(new[] { 0.5f, 1.5f, -1f, 2f }));
            norm.bias!.copy_(tensor(new[] { 0.1f, -0.2f, 0.3f, 0f }));
        }
        return norm;
    }
}
