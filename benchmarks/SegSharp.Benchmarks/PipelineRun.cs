using System.Diagnostics;
using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Losses;
using SegSharp.Models;
using SegSharp.Runtime;
using SegSharp.Training;
using static TorchSharp.torch;

namespace SegSharp.Benchmarks;

/// <summary>Per-epoch wall time and memory of a real <see cref="Trainer"/> run.</summary>
/// <param name="FirstStep">Seconds from the epoch's start to its first completed step (includes waiting for the loader).</param>
/// <param name="AfterLastStep">Seconds from the last step to the epoch's end (validation, checkpoint, metrics files).</param>
/// <param name="Heaps">Where the memory is at the epoch's end (malloc and the GC's counters).</param>
public sealed record EpochSample(int Epoch, double Seconds, double FirstStep, double AfterLastStep, long PeakRss, long Rss, HeapCounters Heaps);

/// <summary>
/// Runs the full pipeline (loader with prefetch and augmentation, trainer, checkpoints, metrics files) on a config
/// and, for comparison, the same model, loss and optimiser on pre-made tensors for the same number of steps.
/// </summary>
public static class PipelineRun
{
    public static IReadOnlyList<EpochSample> Train(SegSharpConfig config)
    {
        if (Directory.Exists(config.OutputDirectory)) Directory.Delete(config.OutputDirectory, recursive: true);
        var recorder = new Recorder();
        ProcessPolicy.Apply(config.Train.Threads);
        new Trainer(config, new[] { recorder }).Run();
        return recorder.Epochs;
    }

    /// <returns>Seconds for <paramref name="steps"/> bare steps (median of <paramref name="repeats"/>).</returns>
    public static double BareEpochSeconds(SegSharpConfig config, int channels, int classes, long ignoreIndex, int size, int steps, int repeats)
    {
        using var model = ModelFactory.Create(config.Model, channels, classes, config.Train.Seed);
        model.ComputeType = ComputePrecision.Of(config.Train.Precision);
        model.train();
        using var optimizer = OptimizerFactory.Create(config.Optimizer, model.parameters());
        var loss = WeightedLoss.Create(config.Loss, ignoreIndex);
        int batch = config.Train.BatchSize;
        using var input = randn(batch, channels, size, size);
        using var target = randint(0, classes, new long[] { batch, size, size });
        return Measure.Time(() =>
        {
            for (int step = 0; step < steps; step++)
            {
                using var guard = NativeScalarGuard.Enter();
                using var scope = NewDisposeScope();
                var value = loss.Compute(model.forward(input), target);
                value.item<float>();
                value.backward();
                optimizer.step();
                optimizer.zero_grad();
            }
        }, repeats);
    }

    /// <summary>Managed bytes the loader allocates per image (decode, augment, collate), over <paramref name="images"/> images without workers.</summary>
    public static double LoaderBytesPerImage(SegSharpConfig config, int images)
    {
        var (delivered, _, bytes) = DrainLoader(config, 0, images);
        return bytes / (double)delivered;
    }

    /// <summary>Images/s the loader alone delivers (decode, augment, collate, prefetch) over <paramref name="images"/> images.</summary>
    public static double LoaderImagesPerSecond(SegSharpConfig config, int workers, int images)
    {
        var (delivered, seconds, _) = DrainLoader(config, workers, images);
        return delivered / seconds;
    }

    /// <summary>
    /// Takes at least <paramref name="images"/> images from the training loader of <paramref name="config"/>, after one warm-up
    /// batch; returns how many, the seconds and the managed bytes allocated meanwhile (all threads).
    /// </summary>
    private static (int Delivered, double Seconds, long Bytes) DrainLoader(SegSharpConfig config, int workers, int images)
    {
        var split = DatasetSplit.Create(DatasetFactory.Open(config.Data.Dataset));
        var loader = new BatchLoader(split.Train, SegSharp.Transforms.TransformPipeline.Create(config.TrainTransforms), config.Train.BatchSize,
            config.Train.Seed, shuffle: true, workers, config.Data.Prefetch, config.Train.IterationsPerEpoch);
        foreach (var warm in loader.Epoch(1000).Take(1)) { }
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        int delivered = 0;
        for (int epoch = 0; delivered < images; epoch++)
        {
            foreach (var batch in loader.Epoch(epoch))
            {
                delivered += batch.Count;
                if (delivered >= images) break;
            }
        }
        double seconds = clock.Elapsed.TotalSeconds;
        return (delivered, seconds, GC.GetTotalAllocatedBytes(precise: true) - before);
    }

    private sealed class Recorder : ITrainingHook
    {
        private readonly Stopwatch _clock = new();
        private double _firstStep, _lastStep;
        public List<EpochSample> Epochs { get; } = new();

        public void EpochStarted(ITrainingView run, int epoch)
        {
            _firstStep = 0;
            _clock.Restart();
        }

        public void StepCompleted(ITrainingView run, StepReport step)
        {
            _lastStep = _clock.Elapsed.TotalSeconds;
            if (_firstStep == 0) _firstStep = _lastStep;
        }

        public void EpochCompleted(ITrainingView run, EpochOutcome epoch)
        {
            var record = epoch.Record;
            double seconds = _clock.Elapsed.TotalSeconds;
            var heaps = HeapCounters.Read();
            Epochs.Add(new EpochSample(record.Epoch, seconds, _firstStep, seconds - _lastStep, MemoryUsage.Peak(), MemoryUsage.Current(), heaps));
            Console.Error.WriteLine($"  pipeline epoch {record.Epoch}: {seconds:F2} s (first step at {_firstStep:F2} s, {seconds - _lastStep:F2} s after the " +
                $"last), peak RSS {MemoryUsage.Peak() / 1e6:F0} MB, RSS {MemoryUsage.Current() / 1e6:F0} MB; {heaps.Describe()}");
            Console.Error.WriteLine("  no-GC budgets: " + string.Join(", ", NativeScalarGuard.SiteBudgets().Select(b =>
                $"{b.Site} x{b.Stretches} largest {b.Largest / 1e6:F0} MB budget {b.Budget >> 20} MB")));
        }

        public void Message(string text) => Console.Error.WriteLine($"  {text}");
    }
}
