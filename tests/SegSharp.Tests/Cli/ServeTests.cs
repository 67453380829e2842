using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using MyApp;
using SegSharp.Data;
using SegSharp.Tests.Training;
using SegSharp.Workflows;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit.Abstractions;

namespace SegSharp.Tests.Cli;

/// <summary>
/// <c>segsharp serve</c> as a real process on loopback, driven by a real HTTP client (docs/serving.md's, compiled here):
/// its masks are <c>segsharp predict</c>'s, its JSON areas count the same pixels, bad and oversized requests get 400 and
/// 413 in one line, clients up to the concurrency limit never fail while a burst past it gets 503 with Retry-After, RSS
/// stays flat under load, SIGTERM lets the request in flight finish, and a port in use is a one-line exit 2.
/// </summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public sealed class ServeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_served_model_answers_as_predict_does_within_its_limits_and_stops_gracefully()
    {
        string root = TestPaths.TempFolder("serve");
        TinyRun.Train(Path.Combine(root, "run"));
        string onnx = Path.Combine(root, "model.onnx");
        ExportWorkflow.Run(Path.Combine(root, "run", "checkpoints", "best.ckpt"), ExportFormat.Onnx, onnx);
        string images = Path.Combine(root, "images");
        Directory.CreateDirectory(images);
        byte[] small = Picture(Path.Combine(images, "small.png"), 45, 61), large = Picture(Path.Combine(root, "large.png"), 1400, 1400);
        byte[] huge = Picture(Path.Combine(root, "huge.png"), 3000, 3000);

        int port = FreePort();
        using var server = Start(onnx, port, "--concurrency", "2", "--max-request-mb", "2", "--threads", "1");
        try
        {
            await Exercise(server, port, onnx, root, images, small, large, huge);
        }
        finally
        {
            if (!server.HasExited) server.Kill();
        }
    }

    private async Task Exercise(Process server, int port, string onnx, string root, string images, byte[] small, byte[] large, byte[] huge)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(60) };
        await WaitUntilHealthy(http, server);
        var client = new SegSharpClient(http);

        using (var model = JsonDocument.Parse(await http.GetStringAsync("model")))
        {
            Assert.Equal(new[] { "background", "disc", "square", "triangle" },
                model.RootElement.GetProperty("classes").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
            var info = model.RootElement;
            Assert.Equal(("onnxruntime", "multiclass"), (info.GetProperty("engine").GetString(), info.GetProperty("task").GetString()));
        }

        // The mask equals what segsharp predict writes for the same file, and the JSON areas count its pixels.
        var predicted = CliProcess.Run(new[] { "predict", "--model", onnx, "-i", images, "-o", Path.Combine(root, "predicted"), "--threads", "1" });
        Assert.True(predicted.Code == 0, predicted.Error);
        var expected = IndexedPng.Read(Path.Combine(root, "predicted", "masks", "small.png"));
        var served = IndexedPng.Read(await client.MaskAsync(small));
        Assert.Equal((expected.Height, expected.Width), (served.Height, served.Width));
        Assert.Equal(expected.Indices, served.Indices);
        var areas = await client.AreasAsync(small);
        Assert.Equal((45, 61), (areas.Width, areas.Height));
        Assert.Equal(Enumerable.Range(0, 4).Select(c => (long)expected.Indices.Count(v => v == c)), areas.Classes.Select(c => c.Pixels));

        // Bad input: one line each, and the server carries on.
        var bad = await Assert.ThrowsAsync<HttpRequestException>(() => client.MaskAsync(new byte[] { 1, 2, 3, 4 }));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("segsharp serve answered 400: Image 'upload' could not be decoded (not a recognised image format, or the header is corrupt). " +
            "Re-export it as PNG, JPEG, BMP or TIFF.", bad.Message);
        // Too large: refused from its declared length; with Expect: 100-continue the client uploads nothing and reads the 413
        // (without it the server may close the connection while the client is still sending, and the client sees a reset).
        using (var big = new HttpRequestMessage(HttpMethod.Post, "predict") { Content = new ByteArrayContent(new byte[3 * 1024 * 1024]) })
        {
            big.Headers.ExpectContinue = true;
            using var tooLarge = await http.SendAsync(big);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
            Assert.Equal("the request body is over 2 MB (--max-request-mb)", (await tooLarge.Content.ReadAsStringAsync()).Trim());
        }

        // Clients up to the limit: every request answered. RSS after the warm-up against the end: flat.
        var latencies = new List<double>();
        long rssStart = 0;
        for (int round = 0; round < 2; round++)
        {
            var clock = Stopwatch.StartNew();
            var results = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
            {
                var mine = new List<double>();
                while (clock.Elapsed < TimeSpan.FromSeconds(4))
                {
                    var one = Stopwatch.StartNew();
                    await client.MaskAsync(small);
                    mine.Add(one.Elapsed.TotalMilliseconds);
                }
                return mine;
            })));
            if (round == 0) rssStart = Rss(server);
            else latencies.AddRange(results.SelectMany(r => r));
        }
        long rssEnd = Rss(server);
        latencies.Sort();
        output.WriteLine($"2 clients, 4 s: {latencies.Count} requests, p50 {latencies[latencies.Count / 2]:F1} ms, p99 " +
            $"{latencies[(int)(latencies.Count * 0.99)]:F1} ms; RSS {rssStart / 1e6:F0} MB after the warm-up, {rssEnd / 1e6:F0} MB at the end");
        Assert.True(latencies.Count > 20, $"only {latencies.Count} requests answered");
        Assert.True(rssEnd < rssStart * 1.10, $"RSS grew from {rssStart} to {rssEnd} bytes under steady load");

        // A burst past the limit (10 at once of a 9-megapixel image, 2 slots): some get 503 with Retry-After, nothing else fails.
        // Whether requests overlap is up to the scheduler, so a burst that happened to be served in turn is tried again (3 times).
        using var raw = new HttpClient { BaseAddress = http.BaseAddress, Timeout = TimeSpan.FromSeconds(120) };
        var statuses = Array.Empty<HttpStatusCode>();
        for (int attempt = 0; attempt < 3 && !statuses.Contains(HttpStatusCode.ServiceUnavailable); attempt++)
        {
            statuses = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
            {
                using var content = new ByteArrayContent(huge);
                using var response = await raw.PostAsync("predict", content);
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable) Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
                return response.StatusCode;
            }));
            output.WriteLine($"burst {attempt + 1}: {statuses.Count(s => s == HttpStatusCode.OK)} answered, " +
                $"{statuses.Count(s => s == HttpStatusCode.ServiceUnavailable)} busy");
            Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{s}"));
            Assert.Contains(HttpStatusCode.OK, statuses);
        }
        Assert.Contains(HttpStatusCode.ServiceUnavailable, statuses);

        // A port in use: exit 2, one line.
        var taken = CliProcess.Run(new[] { "serve", "--model", onnx, "--port", port.ToString() });
        Assert.Equal(2, taken.Code);
        Assert.Equal($"error: Port {port} on 127.0.0.1 is in use by another program; choose another --port.", taken.Error.Trim());

        // SIGTERM with a large image in flight: the request completes, then the process exits 0.
        var inFlight = client.AreasAsync(large);
        await Task.Delay(300);
        ChildProcess.Run("kill", root, null, "-TERM", server.Id.ToString());
        var answer = await inFlight;
        Assert.Equal((1400, 1400), (answer.Width, answer.Height));
        Assert.True(server.WaitForExit(30_000), "serve did not stop after SIGTERM");
        Assert.Equal(0, server.ExitCode);
        Assert.Contains("serve: stopped after", server.StandardOutput.ReadToEnd());

        // The checkpoint itself served through libtorch answers the ONNX file's mask (up to float near-ties).
        int second = FreePort();
        using var fromCheckpoint = Start(Path.Combine(root, "run", "checkpoints", "best.ckpt"), second, "--threads", "1");
        try
        {
            using var http2 = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{second}/"), Timeout = TimeSpan.FromSeconds(60) };
            await WaitUntilHealthy(http2, fromCheckpoint);
            var viaTorch = IndexedPng.Read(await new SegSharpClient(http2).MaskAsync(small));
            Assert.True(viaTorch.Indices.Zip(served.Indices).Count(p => p.First == p.Second) >= 0.999 * served.Indices.Length);
        }
        finally
        {
            if (!fromCheckpoint.HasExited) fromCheckpoint.Kill();
        }
    }

    internal static Process Start(string model, int port, params string[] extra)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "SegSharp.Cli.dll"));
        foreach (var a in new[] { "serve", "--model", model, "--port", port.ToString() }.Concat(extra)) info.ArgumentList.Add(a);
        info.Environment["CI"] = "true";
        return Process.Start(info)!;
    }

    internal static async Task WaitUntilHealthy(HttpClient http, Process server)
    {
        for (int i = 0; i < 600; i++)
        {
            if (server.HasExited) Assert.Fail($"serve exited with {server.ExitCode}: {server.StandardError.ReadToEnd()}");
            try
            {
                if ((await http.GetAsync("health")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        Assert.Fail("serve did not answer /health within 60 s");
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static long Rss(Process process)
    {
        string line = File.ReadLines($"/proc/{process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    /// <summary>A disc on a gradient, the kind of scene the tiny model trained on, written as PNG; returns the file's bytes.</summary>
    internal static byte[] Picture(string path, int width, int height)
    {
        using var image = new Image<Rgb24>(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                bool disc = Math.Pow(x - width / 2.0, 2) + Math.Pow(y - height / 3.0, 2) < Math.Pow(Math.Min(width, height) / 4.0, 2);
                image[x, y] = disc ? new Rgb24(230, 200, 40) : new Rgb24((byte)(x * 60 / width), (byte)(y * 60 / height), 30);
            }
        image.SaveAsPng(path);
        return File.ReadAllBytes(path);
    }
}
