// The SegSharp benchmark: throughput, memory and FLOP efficiency of the reference U-Net, the data loader and the
// full training pipeline, measured in one run, printed, and written to docs/benchmark.KIND.json and docs/performance.md.
// Run from the repository root:  dotnet run -c Release --project benchmarks/SegSharp.Benchmarks [-- --threads N]
// [--part unet|deeplab|distributed|deploy|memory] [--quick]
using System.Globalization;
using SegSharp.Benchmarks;
using SegSharp.Configuration;
using SegSharp.Models;
using SegSharp.Runtime;
using static TorchSharp.torch;

// As the segsharp tool does, first thing: malloc's huge pages on (the process replaces itself once), so the figures are
// the tool's; its child sections inherit the setting, the PyTorch peers do not (PeerBenchmark).
MallocHugePages.AdoptByReexecuting();
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var options = BenchmarkOptions.Parse(args);
string root = BenchmarkOptions.RepositoryRoot();
TorchRuntime.EnsureLoaded();
int threads = TorchRuntime.ConfigureThreads(options.Threads);
int steps = options.Quick ? 2 : 5;
if (options.Section is { } section)
{
    if (section is "dp-train" || section.StartsWith("allreduce", StringComparison.Ordinal) || section.StartsWith("compute", StringComparison.Ordinal))
        DistributedBenchmark.RunChild(section, options.Quick);
    else if (section == OneDnnKernels.Section) OneDnnKernels.RunChild();
    else if (section.StartsWith("memory-", StringComparison.Ordinal)) MemoryBenchmark.RunChild(section, root, options.Quick);
    else if (section.StartsWith("deeplab", StringComparison.Ordinal) || section.StartsWith("profile", StringComparison.Ordinal))
        DeepLabBenchmark.RunChild(section, options.Quick ? 1 : 3);
    else Sections.RunChild(section, root, steps, options.Quick, threads);
    return;
}
var machine = MachineInfo.Read(threads);
var figures = new Figures { Machine = machine };
void Show(string label, string value) => Console.WriteLine($"{label,-50} {value}");
Show("machine", machine.Describe());
if (options.Part == "deeplab")
{
    DeepLabBenchmark.Run(root, threads, options.Quick, Show);
    return;
}
if (options.Part == "deploy")
{
    DeploymentBenchmark.Run(root, options.Run, threads, options.Quick, Show);
    return;
}
if (options.Part == "memory")
{
    MemoryBenchmark.Run(root, threads, options.Quick, Show);
    return;
}
if (options.Part == "distributed")
{
    DistributedBenchmark.Run(root, options.Quick, Show);
    return;
}
random.manual_seed(1);

// 1. The ceiling: one large 3x3 convolution forward (measured again at the end; the higher figure counts).
figures.CeilingStartGflops = machine.CeilingGflops;
figures.CeilingBf16Gflops = CpuKind.HasBfloat16 ? Measure.ConvolutionCeilingGflops(steps, ScalarType.BFloat16) : double.NaN;
Show("conv ceiling float32 / bfloat16 (256->256, 64x64, b8)",
    $"{figures.CeilingStartGflops:F1} / {BenchmarkReport.Rate(figures.CeilingBf16Gflops)} GFLOP/s");

// 2. The bare TorchSharp loop and SegSharp's training loop, each in its own process for a clean peak RSS.
var bare = ChildSection.Run<BareResult>("bare", threads, options.Quick);
(figures.BareTrain128, figures.BarePeakRss) = (bare.Train, bare.PeakRss);
Show("bare TorchSharp train b8x128", $"{bare.Train:F2} img/s, peak RSS {bare.PeakRss / 1e9:F2} GB");
var train = ChildSection.Run<TrainResult>("train", threads, options.Quick);
(figures.Train128, figures.TrainPeakRss, figures.Train128Bf16) = (train.Train, train.PeakRss, train.Bf16Train);
Show("SegSharp train b8x128", $"{train.Train:F2} img/s, peak RSS {train.PeakRss / 1e9:F2} GB");
var infer = ChildSection.Run<InferResult>("infer", threads, options.Quick);
(figures.BareInfer128, figures.Infer128, figures.Infer128Bf16) = (infer.Bare, infer.SegSharp, infer.SegSharpBf16);
(figures.Infer128LaidOut, figures.Layout) = (infer.SegSharpLaidOut, infer.Layout);
Show("inference b8x128, bare / SegSharp (one process, interleaved)", $"{infer.Bare:F2} / {infer.SegSharp:F2} img/s");
Show($"inference b8x128, SegSharp {infer.Layout}", $"{infer.SegSharpLaidOut:F2} img/s");
// Plain PyTorch 1.13's U-Net (../shared/peers), same shapes, in the same window.
string peerThreads = threads.ToString(CultureInfo.InvariantCulture), peerSteps = options.Quick ? "2" : "10";
figures.PeerTrain128 = PeerBenchmark.Run(root, "torch_unet_bench.py", "--threads", peerThreads, "--steps", peerSteps);
figures.PeerInfer128 = PeerBenchmark.Run(root, "torch_unet_bench.py", "--threads", peerThreads, "--steps", peerSteps, "--infer");
Show("PyTorch 1.13 U-Net train / infer b8x128", $"{figures.PeerTrain128:F2} / {figures.PeerInfer128:F2} img/s");
var onnx = ChildSection.Run<OnnxResult>("onnx", threads, options.Quick);
figures.Onnx = onnx;
Show("inference b8x128, TorchSharp / ONNX Runtime", $"{onnx.TorchSharp128:F2} / {onnx.OnnxRuntime128:F2} img/s");
Show("inference whole 512x512, TorchSharp / ONNX Runtime", $"{onnx.TorchSharp512:F2} / {onnx.OnnxRuntime512:F2} img/s");

// 3. SegSharp's U-Net on pre-made tensors: the other sizes, inference settings, bfloat16, one thread.
using (var model = ModelFactory.Create(Measure.ReferenceUNet, 3, 2, 1))
{
    figures.ForwardGflopPerImage = ConvolutionFlops.PerImage(model, 3, 128) / 1e9;
    figures.Parameters = model.ParameterCount();
    if (figures.Parameters != Measure.ReferenceUNetParameters)
        throw new InvalidOperationException($"The reference U-Net has {figures.Parameters:N0} parameters, not {Measure.ReferenceUNetParameters:N0}: " +
            "Measure.ReferenceUNet builds another model.");
    figures.Infer256 = Measure.InferImagesPerSecond(model, 4, 256, steps);
    figures.Infer128WithGrad = Measure.InferImagesPerSecond(model, 8, 128, steps, noGrad: false);
}
Show("reference U-Net", $"{figures.Parameters:N0} parameters, {figures.ForwardGflopPerImage:F3} GFLOP per 128x128 forward");
figures.Train256 = Measure.TrainImagesPerSecond(4, 256, steps);
Show("SegSharp train b4x256", $"{figures.Train256:F2} img/s");
Show("SegSharp infer b4x256", $"{figures.Infer256:F2} img/s");
Show("infer b8x128 with autograd recording (eval mode)", $"{figures.Infer128WithGrad:F2} img/s");
Show("bf16: train (mixed) / infer b8x128", $"{BenchmarkReport.Rate(figures.Train128Bf16)} / {BenchmarkReport.Rate(figures.Infer128Bf16)} img/s");
if (threads > 1)
{
    TorchRuntime.ConfigureThreads(1);
    figures.Train128OneThread = Measure.TrainImagesPerSecond(8, 128, steps);
    using (var oneThread = new BareUNet(3, 2)) figures.Infer128OneThread = Measure.InferImagesPerSecond(oneThread, 8, 128, steps);
    TorchRuntime.ConfigureThreads(threads);
    Show("train / infer (bare) b8x128 on 1 thread", $"{figures.Train128OneThread:F2} / {figures.Infer128OneThread:F2} img/s");
}

// 4. The data loader alone, on the ISBI recipe's augmentation, with the default and with no workers.
var recipe = SegSharpConfig.Load(Path.Combine(root, "configs", "isbi-unet.yaml"));
int loaderImages = options.Quick ? 24 : 200;
figures.LoaderWorkers = recipe.Data.Workers;
figures.Loader = PipelineRun.LoaderImagesPerSecond(recipe, recipe.Data.Workers, loaderImages);
figures.LoaderNoWorkers = PipelineRun.LoaderImagesPerSecond(recipe, 0, loaderImages);
Show($"loader, ISBI recipe augmentation ({recipe.Data.Workers} workers / 0)", $"{figures.Loader:F1} / {figures.LoaderNoWorkers:F1} img/s");
figures.LoaderMegabytesPerImage = ChildSection.Run<Dictionary<string, double>>("loader-bytes", threads, options.Quick);
Show("loader managed allocation per image", string.Join(", ", figures.LoaderMegabytesPerImage.Select(p => $"{p.Key} {p.Value:F1} MB")));

// 5. The full pipeline against bare steps, in its own process (epoch 1 warms up; the last epoch validates).
var pipeline = ChildSection.Run<PipelineResult>("pipeline", threads, options.Quick);
var timed = pipeline.Epochs.Skip(1).Take(pipeline.Epochs.Count - 2).ToList();
figures.PipelineEpochSeconds = timed.Average(s => s.Seconds);
figures.PipelineFirstStepSeconds = timed.Average(s => s.FirstStep);
figures.PipelineEpochEndSeconds = timed.Average(s => s.AfterLastStep);
figures.PipelineTrain = pipeline.Iterations * pipeline.BatchSize / figures.PipelineEpochSeconds;
figures.BareEpochSeconds = pipeline.BareEpochSeconds;
figures.PeakRssEpoch2 = pipeline.Epochs[1].PeakRss;
figures.PeakRssEpoch10 = pipeline.Epochs[^2].PeakRss;
(figures.HeapsEpoch2, figures.HeapsEpoch10) = (pipeline.Epochs[1].Heaps, pipeline.Epochs[^2].Heaps);
figures.GuardLapses = pipeline.GuardLapses;
Show("pipeline epoch / bare steps", $"{figures.PipelineEpochSeconds:F2} / {figures.BareEpochSeconds:F2} s = +{figures.PipelineOverhead:P1}");
Show("  of which: to the first step / after the last", $"{figures.PipelineFirstStepSeconds:F2} / {figures.PipelineEpochEndSeconds:F2} s");
Show($"pipeline peak RSS after epoch 2 / {pipeline.Epochs.Count - 1}",
    $"{figures.PeakRssEpoch2 / 1e9:F3} / {figures.PeakRssEpoch10 / 1e9:F3} GB ({figures.RssGrowth:+0.0%;-0.0%}); " +
    $"scalar-guard lapses {figures.GuardLapses}");
Show($"  at the end of epoch {pipeline.Epochs.Count - 1}", figures.HeapsEpoch10.Describe());

figures.CeilingEndGflops = Measure.ConvolutionCeilingGflops(steps * 2);
Show("conv ceiling float32 again", $"{figures.CeilingEndGflops:F1} GFLOP/s");
Show("train step GFLOP/s (3 x forward FLOPs)", $"{figures.TrainGflops:F1} = {figures.TrainCeilingFraction:P0} of the ceiling");

// 6. Verdicts, JSON and the generated section of docs/performance.md.
Console.WriteLine();
foreach (var target in figures.Targets()) Console.WriteLine($"{(target.Met ? "MET    " : "NOT MET")} {target.Name}: {target.Measured}");
if (!options.Quick)
{
    BenchmarkReport.Write(figures, root);
    Console.WriteLine($"wrote {BenchmarkReport.JsonName("benchmark", machine)} and the {machine.Kind} table of docs/performance.md");
}

// 7. DeepLabV3+ against its bare baseline and plain PyTorch, with a per-layer profile (its own block and JSON).
if (options.Part == "all") DeepLabBenchmark.Run(root, threads, options.Quick, Show);

// 8. Data-parallel training on Open MPI: 1 process against 2 ranks, all-reduce times, scaling projection (its own block and JSON).
if (options.Part == "all") DistributedBenchmark.Run(root, options.Quick, Show);

