using SegSharp.Benchmarks;
using SegSharp.Runtime;

TorchRuntime.EnsureLoaded();
int threads = TorchRuntime.ConfigureThreads(args.Length > 1 && args[0] == "--threads" ? int.Parse(args[1]) : 0);
Console.WriteLine($"threads {threads}");
Console.WriteLine($"train b8x128 no guard: {Measure.TrainImagesPerSecond(8, 128, 5, guard: false):F2} img/s");
Console.WriteLine($"train b8x128 guard:    {Measure.TrainImagesPerSecond(8, 128, 5, guard: true):F2} img/s");
Console.WriteLine($"train b4x256 guard:    {Measure.TrainImagesPerSecond(4, 256, 5, guard: true):F2} img/s");
Console.WriteLine($"infer b8x128:          {Measure.InferImagesPerSecond(8, 128, 5):F2} img/s");
Console.WriteLine($"conv ceiling:          {Measure.ConvolutionCeilingGflops(5):F1} GFLOP/s");
