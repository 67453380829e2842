namespace SegSharp.Benchmarks;

/// <summary>One target of issue 6 with its verdict.</summary>
public sealed record Target(string Name, bool Met, string Measured);

/// <summary>Everything one benchmark run measured. Rates are images/s, memory bytes, times seconds.</summary>
public sealed class Figures
{
    /// <summary>Peak RSS of the same network in plain PyTorch 1.13 (issue 6's reference, measured on the AMD machine).</summary>
    public const double PyTorchPeakRss = 1.06e9;

    public required MachineInfo Machine { get; init; }
    public double CeilingStartGflops { get; set; }
    public double CeilingEndGflops { get; set; }

    /// <summary>The higher of the two ceiling measurements (start and end of the run).</summary>
    public double CeilingGflops => Math.Max(CeilingStartGflops, CeilingEndGflops);
    public double CeilingBf16Gflops { get; set; }
    public double BareTrain128 { get; set; }
    public double BareInfer128 { get; set; }
    public long BarePeakRss { get; set; }
    public long Parameters { get; set; }
    public double ForwardGflopPerImage { get; set; }
    public double Train128 { get; set; }
    public double Train256 { get; set; }
    public double Infer128 { get; set; }
    public double Infer256 { get; set; }
    public long TrainPeakRss { get; set; }
    public double Infer128WithGrad { get; set; }
    public double Infer128Bf16 { get; set; }

    /// <summary>Inference b8x128 in the layout predict's default chose (<see cref="Layout"/>).</summary>
    public double Infer128LaidOut { get; set; }
    public string Layout { get; set; } = "";

    /// <summary>Plain PyTorch 1.13 (../shared/peers/torch_unet_bench.py), b8x128, same run; null when it could not run.</summary>
    public double? PeerTrain128 { get; set; }
    public double? PeerInfer128 { get; set; }
    public double Train128Bf16 { get; set; }
    public double? Train128OneThread { get; set; }
    public double? Infer128OneThread { get; set; }
    public int LoaderWorkers { get; set; }
    public double Loader { get; set; }
    public double LoaderNoWorkers { get; set; }
    public double PipelineEpochSeconds { get; set; }
    public double PipelineTrain { get; set; }
    public double BareEpochSeconds { get; set; }
    public double PipelineFirstStepSeconds { get; set; }
    public double PipelineEpochEndSeconds { get; set; }
    public long PeakRssEpoch2 { get; set; }
    public long PeakRssEpoch10 { get; set; }

    /// <summary>Where the pipeline's memory is at the end of epochs 2 and 10 (malloc and GC counters).</summary>
    public HeapCounters? HeapsEpoch2 { get; set; }
    public HeapCounters? HeapsEpoch10 { get; set; }

    /// <summary>Managed MB the loader allocates per image with the ISBI and CamVid recipes' augmentation.</summary>
    public IReadOnlyDictionary<string, double> LoaderMegabytesPerImage { get; set; } = new Dictionary<string, double>();

    /// <summary>Protected stretches of the pipeline run without the native scalar guard's no-GC region (should be 0).</summary>
    public long GuardLapses { get; set; }

    /// <summary>The reference U-Net's inference in TorchSharp and, exported, in ONNX Runtime (same run, interleaved).</summary>
    public OnnxResult Onnx { get; set; } = new(0, 0, 0, 0);

    /// <summary>Achieved convolution GFLOP/s of a training step: forward FLOPs x 3 (forward + two backward products).</summary>
    public double TrainGflops => 3 * ForwardGflopPerImage * Train128;
    public double TrainCeilingFraction => TrainGflops / CeilingGflops;
    public double InferGflops => ForwardGflopPerImage * Infer128;
    public double PipelineOverhead => PipelineEpochSeconds / BareEpochSeconds - 1;
    public double RssGrowth => (double)PeakRssEpoch10 / PeakRssEpoch2 - 1;
    public double LoaderMargin => Loader / Math.Max(PipelineTrain, Train128);

    public IReadOnlyList<Target> Targets() => PeerTargets().Concat(new[]
    {
        new Target("training keeps the bare TorchSharp loop's speed (b8x128, >= 95%)", Train128 >= 0.95 * BareTrain128,
            $"{Train128:F2} vs {BareTrain128:F2} img/s ({Train128 / BareTrain128:P0})"),
        new Target("inference keeps the bare TorchSharp loop's speed (b8x128, >= 95%)", Infer128 >= 0.95 * BareInfer128,
            $"{Infer128:F2} vs {BareInfer128:F2} img/s ({Infer128 / BareInfer128:P0})"),
        new Target("training loop needs no more memory than PyTorch's (b8x128, peak RSS <= 1.06 GB)", TrainPeakRss <= PyTorchPeakRss,
            $"{TrainPeakRss / 1e9:F2} GB (bare TorchSharp loop: {BarePeakRss / 1e9:F2} GB)"),
        new Target("full pipeline needs no more memory than PyTorch's loop (peak RSS <= 1.06 GB)", PeakRssEpoch10 <= PyTorchPeakRss,
            $"{PeakRssEpoch10 / 1e9:F2} GB"),
        new Target($"loader >= 3x training images/s ({LoaderWorkers} workers)", LoaderMargin >= 3,
            $"{Loader:F1} img/s = {LoaderMargin:F1}x the fastest training rate ({Math.Max(PipelineTrain, Train128):F2} img/s)"),
        new Target("full training epoch <= 10% slower than bare steps", PipelineOverhead <= 0.10,
            $"{PipelineEpochSeconds:F2} s vs {BareEpochSeconds:F2} s (+{PipelineOverhead:P1})"),
        new Target("full pipeline peak RSS <= 1.3 GB (issue 16)", PeakRssEpoch10 <= 1.3e9, $"{PeakRssEpoch10 / 1e9:F3} GB"),
        new Target("every training step of the pipeline inside the native scalar guard's no-GC region", GuardLapses == 0,
            $"{GuardLapses} lapses"),
        new Target("peak RSS after epoch 10 within 5% of epoch 2", Math.Abs(RssGrowth) <= 0.05,
            $"{PeakRssEpoch2 / 1e9:F3} -> {PeakRssEpoch10 / 1e9:F3} GB ({RssGrowth:+0.0%;-0.0%})"),
    }).ToList();

    private IEnumerable<Target> PeerTargets()
    {
        if (PeerTrain128 is { } train)
            yield return new Target("U-Net training >= 2.5x plain PyTorch 1.13 (b8x128)", Train128 >= 2.5 * train,
                $"{Train128:F2} vs {train:F2} img/s ({Train128 / train:F2}x)");
        if (PeerInfer128 is { } infer)
            yield return new Target("U-Net inference (predict's default layout) >= 2x plain PyTorch 1.13 (b8x128)", Infer128LaidOut >= 2 * infer,
                $"{Infer128LaidOut:F2} vs {infer:F2} img/s ({Infer128LaidOut / infer:F2}x)");
    }
}
