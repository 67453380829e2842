// Over 250 lines: the deployment part measures six things on one model in one window, and writes its own block.
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Inference;
using SegSharp.Models;
using SegSharp.Transforms;
using SegSharp.Workflows;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace SegSharp.Benchmarks;

/// <summary>
/// The deployment part (issue 28): on a trained recipe model (the CamVid DeepLabV3+ run by default), in one window:
/// whole-image latency through libtorch and ONNX Runtime at the same thread counts; ONNX Runtime's graph optimisation
/// levels (session start with and without the optimised-model cache, latency); INT8 against float (validation mIoU and
/// latency, through <c>segsharp quantize</c>'s own gate); peak memory and time of predicting a 12000x12000 image; and
/// <c>segsharp serve</c> under two concurrent clients. Written to docs/benchmark-deploy.KIND.json and its block of
/// docs/performance.md.
/// </summary>
public static class DeploymentBenchmark
{
    public const string DefaultRun = "runs/zoo/camvid-deeplab";
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public sealed record Latency(string Engine, string Setting, int Threads, double StartSeconds, double Milliseconds);

    public sealed record LargeImage(string Engine, int Side, double Seconds, long PeakRss);

    public sealed record ServeFigures(int Clients, double Seconds, int Requests, int Failures, double P50, double P99, double PerSecond, long RssWarm,
        long RssEnd);

    public static void Run(string root, string runFolder, int threads, bool quick, Action<string, string> show)
    {
        string run = Path.GetFullPath(Path.Combine(root, runFolder));
        string checkpoint = Path.Combine(run, "checkpoints", "best.ckpt");
        if (!File.Exists(checkpoint))
            throw new InvalidOperationException($"The deployment benchmark needs a trained model in {runFolder}; train it first: ./segsharp train --config " +
                $"configs/{Path.GetFileName(run)}.yaml --set output.dir={runFolder}");
        var machine = MachineInfo.Read(threads);
        string work = Path.Combine(Path.GetTempPath(), $"segsharp-deploy-{Environment.ProcessId}");
        Directory.CreateDirectory(work);
        try
        {
            string onnx = Path.Combine(work, "model.onnx");
            ExportWorkflow.Run(checkpoint, ExportFormat.Onnx, onnx);
            string dataset;
            float[] image, raw;
            int height, width;
            int[] threadCounts = threads > 1 ? new[] { 1, threads } : new[] { 1 };
            var latencies = new List<Latency>();
            int repeats = quick ? 2 : 7;
            using (var trained = TrainedModel.Load(checkpoint))
            {
                dataset = trained.Config.Data.Dataset;
                var validation = DatasetSplit.Create(DatasetFactory.Open(dataset)).Validation;
                var original = validation.Load(0);
                var sample = TransformPipeline.Create(trained.Card.Preprocessing).Apply(original, new Runtime.SeededRandom(0));
                (image, raw, height, width) = (sample.Image, original.Image, sample.Height, sample.Width);
                trained.Model.ComputeType = null;
                // The plain layout, then the one predict uses by default (memory_format auto), named in the setting column.
                foreach (var format in new[] { MemoryFormat.Contiguous, MemoryFormat.Auto })
                {
                    string layout = ChannelsLast.Apply(trained.Model, format);
                    string named = format == MemoryFormat.Contiguous ? "float32" : $"float32, {layout}";
                    foreach (int t in threadCounts)
                    {
                        Runtime.TorchRuntime.ConfigureThreads(t);
                        var predictor = new TiledPredictor(trained.Model, 0, 0.25, false, 0, trained.Card.Decision);
                        using var input = tensor(image, new long[] { 1, trained.Card.InputChannels, height, width });
                        latencies.Add(new Latency("libtorch", named, t, 0, Median(repeats, () =>
                        {
                            using var labels = predictor.Labels(input);
                        })));
                    }
                }
                Runtime.TorchRuntime.ConfigureThreads(threads);
            }
            foreach (var level in new[] { GraphOptimization.None, GraphOptimization.Basic, GraphOptimization.Extended, GraphOptimization.All })
            {
                foreach (int t in threadCounts)
                {
                    foreach (string cached in Directory.GetFiles(work, "*" + OptimizedModelCache.Suffix)) File.Delete(cached);
                    var clock = Stopwatch.StartNew();
                    using var model = OnnxModel.Load(onnx, t, optimization: level);
                    double start = clock.Elapsed.TotalSeconds;
                    var (ms, _) = OnnxLatency(model, image, height, width, repeats);
                    latencies.Add(new Latency("onnxruntime", OptionNames(level), t, start, ms));
                    if (level == GraphOptimization.None) continue;
                    clock.Restart();
                    using var again = OnnxModel.Load(onnx, t, optimization: level);
                    double warm = clock.Elapsed.TotalSeconds;
                    double cachedMs = OnnxLatency(again, image, height, width, repeats).Ms;
                    latencies.Add(new Latency("onnxruntime", OptionNames(level) + " (from cache)", t, warm, cachedMs));
                }
            }
            foreach (var l in latencies)
                show($"{l.Engine} {l.Setting}, {l.Threads} thread(s)",
                    $"{l.Milliseconds:F1} ms per {width}x{height} image, session start {l.StartSeconds:F2} s");

            string int8 = Path.Combine(work, "model.int8.onnx");
            var quantization = QuantizationWorkflow.Run(onnx, dataset, int8, images: quick ? 4 : 64, maxDrop: 100, threads: threads);
            show("INT8 against float (validation, quantize's gate)", quantization.Summary);

            // ONNX Runtime (predict's faster engine) at 12000x12000; libtorch, several times slower on large images, at 6000x6000.
            var large = new List<LargeImage>();
            foreach (var (engine, model, side) in new[] { ("onnxruntime", onnx, quick ? 3000 : 12000), ("libtorch", checkpoint, quick ? 1500 : 6000) })
            {
                string big = Path.Combine(work, $"large-{side}", "large.png");
                WriteLargeImage(big, side);
                var args = new List<string> { "predict", "--model", model, "-i", big, "-o", Path.Combine(work, "large-" + engine), "--threads",
                    threads.ToString(CultureInfo.InvariantCulture) };
                if (engine == "libtorch") args.AddRange(new[] { "--precision", "float32" });
                var (seconds, peak) = PeakOfChild(args.ToArray());
                large.Add(new LargeImage(engine, side, seconds, peak));
                show($"predict {side}x{side} through {engine}", $"{seconds:F0} s, peak RSS {peak / 1e9:F2} GB");
            }

            var serve = Serve(onnx, Path.Combine(work, "request.png"), raw, height, width, threads, quick ? 3 : 15);
            show("serve, 2 clients", $"{serve.Requests} requests in {serve.Seconds:F0} s, {serve.Failures} failed, p50 {serve.P50:F0} ms, " +
                $"p99 {serve.P99:F0} ms, " +
                $"{serve.PerSecond:F2} req/s, RSS {serve.RssWarm / 1e6:F0} -> {serve.RssEnd / 1e6:F0} MB");
            if (quick) return;
            var json = new
            {
                measured_at = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), machine, run = runFolder,
                image = new { width, height }, latencies, quantization, large_images = large, serve,
            };
            BenchmarkReport.Publish(root, "benchmark-deploy", machine, JsonSerializer.Serialize(json, JsonOptions),
                Markdown(machine, runFolder, width, height, latencies, quantization, large, serve));
            Console.WriteLine($"wrote {BenchmarkReport.JsonName("benchmark-deploy", machine)} and the deployment table of docs/performance.md");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static string OptionNames(GraphOptimization level) => Foundation.OptionNames<GraphOptimization>.Name(level);

    private static (double Ms, int Runs) OnnxLatency(OnnxModel model, float[] image, int height, int width, int repeats)
    {
        var logits = new float[model.Card.ClassCount * height * width];
        return (Median(repeats, () => model.Logits(image, 1, height, width, logits)), repeats);
    }

    /// <summary>Median milliseconds of <paramref name="repeats"/> calls after two warm-up calls.</summary>
    private static double Median(int repeats, Action action) => Measure.Time(action, repeats) * 1000;

    /// <summary>A side x side RGB PNG of smooth street-like bands (it compresses, so writing and reading it is quick).</summary>
    private static void WriteLargeImage(string path, int side)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var image = new Image<Rgb24>(side, side);
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                    row[x] = new Rgb24((byte)(60 + (y * 120 / side)), (byte)(90 + ((x / 97 + y / 89) % 2) * 60), (byte)(140 - (y * 100 / side)));
            }
        });
        image.SaveAsPng(path);
    }

    private static ProcessStartInfo Cli(IEnumerable<string> args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "SegSharp.Cli.dll"));
        foreach (string a in args) info.ArgumentList.Add(a);
        info.Environment["CI"] = "true";
        return info;
    }

    /// <summary>Wall seconds and peak RSS (VmHWM, polled until exit) of one CLI command.</summary>
    private static (double Seconds, long PeakRss) PeakOfChild(string[] args)
    {
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(Cli(args))!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        long peak = 0;
        while (!process.WaitForExit(200)) peak = Math.Max(peak, Status(process.Id, "VmHWM:"));
        if (process.ExitCode != 0) throw new InvalidOperationException($"segsharp {string.Join(' ', args)} failed: {error.Result}{output.Result}");
        return (clock.Elapsed.TotalSeconds, peak);
    }

    private static long Status(int pid, string key)
    {
        try
        {
            string? line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary><c>segsharp serve</c> on the ONNX file, two clients posting a validation image for <paramref name="seconds"/>, after a warm-up third.</summary>
    /// <param name="image">The request's pixels as the dataset decoded them ([channels, height, width], 0..1).</param>
    private static ServeFigures Serve(string onnx, string validationImage, float[] image, int height, int width, int threads, int seconds)
    {
        using (var png = new Image<Rgb24>(width, height))
        {
            var shown = Evaluation.OverlayRenderer.Display(image, image.Length / (height * width), height, width);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++) png[x, y] = shown[y * width + x];
            png.SaveAsPng(validationImage);
        }
        byte[] body = File.ReadAllBytes(validationImage);
        int port;
        using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }
        using var server = Process.Start(Cli(new[] { "serve", "--model", onnx, "--port", port.ToString(CultureInfo.InvariantCulture), "--threads",
            threads.ToString(CultureInfo.InvariantCulture), "--concurrency", "2" }))!;
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(120) };
            for (int i = 0; i < 600 && !Healthy(http); i++) Thread.Sleep(100);
            async Task<List<double>> Client(Stopwatch clock, double until, int[] failures)
            {
                var mine = new List<double>();
                while (clock.Elapsed.TotalSeconds < until)
                {
                    var one = Stopwatch.StartNew();
                    using var content = new ByteArrayContent(body);
                    content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
                    using var response = await http.PostAsync("predict", content);
                    if (response.IsSuccessStatusCode) mine.Add(one.Elapsed.TotalMilliseconds);
                    else Interlocked.Increment(ref failures[0]);
                }
                return mine;
            }
            var failed = new int[1];
            var warmClock = Stopwatch.StartNew();
            Task.WhenAll(Client(warmClock, seconds / 3.0, failed), Client(warmClock, seconds / 3.0, failed)).GetAwaiter().GetResult();
            long rssWarm = Status(server.Id, "VmRSS:");
            failed[0] = 0;
            var clock = Stopwatch.StartNew();
            var results = Task.WhenAll(Client(clock, seconds, failed), Client(clock, seconds, failed)).GetAwaiter().GetResult();
            double elapsed = clock.Elapsed.TotalSeconds;
            long rssEnd = Status(server.Id, "VmRSS:");
            var all = results.SelectMany(r => r).Order().ToList();
            return new ServeFigures(2, elapsed, all.Count, failed[0], all[all.Count / 2], all[Math.Min(all.Count - 1, (int)(all.Count * 0.99))],
                all.Count / elapsed, rssWarm, rssEnd);
        }
        finally
        {
            if (!server.HasExited) server.Kill();
        }
    }

    private static bool Healthy(HttpClient http)
    {
        try
        {
            return http.GetAsync("health").GetAwaiter().GetResult().IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static string Markdown(MachineInfo machine, string run, int width, int height, List<Latency> latencies, QuantizationReport q,
        List<LargeImage> large, ServeFigures serve)
    {
        var s = new StringBuilder();
        void Line(string text) => s.Append(text).Append('\n');
        Line($"Generated by `dotnet run -c Release --project benchmarks/SegSharp.Benchmarks -- --part deploy` on {DateTime.UtcNow:yyyy-MM-dd} with the " +
            $"model of `{run}`; raw figures in `{BenchmarkReport.JsonName("benchmark-deploy", machine)}`.");
        Line("");
        Line($"Machine: {machine.Describe()}.");
        Line("");
        Line($"Whole {width}x{height} validation image, one at a time (median of 7 after two warm-up calls); session start = loading the model " +
            "until it can run:");
        Line("");
        Line("| engine | setting | threads | ms per image | session start |");
        Line("|---|---|---|---|---|");
        foreach (var l in latencies)
            Line(string.Create(CultureInfo.InvariantCulture, $"| {l.Engine} | {l.Setting} | {l.Threads} | {l.Milliseconds:F1} | {l.StartSeconds:F2} s |"));
        Line("");
        foreach (var torch in latencies.Where(l => l.Engine == "libtorch"))
        {
            var ort = latencies.First(l => l.Engine == "onnxruntime" && l.Setting == "all (from cache)" && l.Threads == torch.Threads);
            Line(string.Create(CultureInfo.InvariantCulture, $"- {torch.Threads} thread(s): ONNX Runtime (all, from its cache) {ort.Milliseconds:F1} ms " +
                $"against libtorch {torch.Milliseconds:F1} ms: **{torch.Milliseconds / ort.Milliseconds:F2}x**."));
        }
        Line("");
        Line(string.Create(CultureInfo.InvariantCulture, $"INT8 (`segsharp quantize`, {q.CalibrationImages} calibration images, " +
            $"{q.QuantizedConvolutions} convolutions in INT8, {q.FloatConvolutions} float): {q.Summary}."));
        Line("");
        Line("| predicting one large image | seconds | peak RSS |");
        Line("|---|---|---|");
        foreach (var l in large)
            Line(string.Create(CultureInfo.InvariantCulture, $"| {l.Side}x{l.Side} through {l.Engine} | {l.Seconds:F0} | {l.PeakRss / 1e9:F2} GB |"));
        Line("");
        Line(string.Create(CultureInfo.InvariantCulture, $"`segsharp serve` (ONNX file, {serve.Clients} clients posting the validation image as PNG " +
            $"for {serve.Seconds:F0} s after a warm-up): {serve.Requests} requests, {serve.Failures} failed, p50 {serve.P50:F0} ms, p99 {serve.P99:F0} ms, " +
            $"{serve.PerSecond:F2} requests/s; RSS {serve.RssWarm / 1e6:F0} MB after the warm-up, {serve.RssEnd / 1e6:F0} MB at the end."));
        return s.ToString();
    }
}
