using System.CommandLine;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SegSharp.Workflows;

namespace SegSharp.Cli;

/// <summary>
/// <c>segsharp serve</c>: a model file behind HTTP on ASP.NET Core's Kestrel. <c>POST /predict</c> takes an image and
/// answers the mask PNG or, when the client asks for JSON, each class's area; <c>GET /health</c> and <c>GET /model</c>
/// describe the service. Requests are bounded in size, in number at once (503 past the limit, with Retry-After) and in
/// time; a bad image is a 400 with the one-line reason and never stops the server; SIGTERM lets requests in flight finish.
/// </summary>
public static class ServeCommand
{
    public static Command Build()
    {
        var command = new Command("serve",
            "Serve a model over HTTP: POST /predict (image in; mask PNG or JSON class areas out), GET /health, GET /model.");
        var model = new Option<string>("--model")
        {
            Description = "A .onnx file from segsharp export (ONNX Runtime) or a .ckpt (libtorch).", Required = true,
        };
        var port = new Option<int>("--port") { Description = "TCP port.", DefaultValueFactory = _ => 8080 };
        var host = new Option<string>("--host")
        {
            Description = "Address to listen on: 127.0.0.1 (this machine only) or 0.0.0.0 (every interface).", DefaultValueFactory = _ => "127.0.0.1",
        };
        var maxRequest = new Option<int>("--max-request-mb") { Description = "Largest request body, in MB (413 past it).", DefaultValueFactory = _ => 32 };
        var concurrency = new Option<int>("--concurrency")
        {
            Description = "Predictions at once; more get 503 with Retry-After.", DefaultValueFactory = _ => 2,
        };
        var timeout = new Option<int>("--timeout")
        {
            Description = "Seconds a prediction may take before the client gets 503.", DefaultValueFactory = _ => 60,
        };
        var threads = new Option<int>("--threads")
        {
            Description = "Intra-op threads of ONNX Runtime or libtorch; 0 = one per core.", DefaultValueFactory = _ => 0,
        };
        foreach (var option in new Option[] { model, port, host, maxRequest, concurrency, timeout, threads }) command.Options.Add(option);
        command.SetAction(parse => CommandLine.Guard(() => Serve(new ServeSettings(parse.GetValue(model)!, parse.GetValue(host)!, parse.GetValue(port),
            parse.GetValue(maxRequest), parse.GetValue(concurrency), parse.GetValue(timeout), parse.GetValue(threads)))));
        return command;
    }

    private sealed record ServeSettings(string Model, string Host, int Port, int MaxRequestMb, int Concurrency, int TimeoutSeconds, int Threads);

    private static int Serve(ServeSettings s)
    {
        if (s.Port is < 1 or > 65535) throw new SegSharpException($"--port {s.Port} is not valid; give a port from 1 to 65535.");
        if (!IPAddress.TryParse(s.Host, out var address))
            throw new SegSharpException($"--host '{s.Host}' is not an IP address; give 127.0.0.1 (this machine only) or 0.0.0.0 (every interface).");
        if (s.MaxRequestMb < 1) throw new SegSharpException($"--max-request-mb {s.MaxRequestMb} is not valid; give at least 1.");
        if (s.Concurrency < 1) throw new SegSharpException($"--concurrency {s.Concurrency} is not valid; give at least 1.");
        if (s.TimeoutSeconds < 1) throw new SegSharpException($"--timeout {s.TimeoutSeconds} is not valid; give at least 1 second.");
        using var segmenter = new ImageSegmenter(s.Model, s.Threads);
        using var gate = new SemaphoreSlim(s.Concurrency, s.Concurrency);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();   // the service prints its own lines; Kestrel's and the host's would be noise
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(address, s.Port);
            k.Limits.MaxRequestBodySize = s.MaxRequestMb * 1024L * 1024;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(s.TimeoutSeconds + 5));
        using var app = builder.Build();
        var service = new PredictionEndpoint(segmenter, gate, TimeSpan.FromSeconds(s.TimeoutSeconds), s.MaxRequestMb);
        app.MapGet("/health", () => Results.Json(new { status = "ok" }));
        app.MapGet("/model", () => Results.Json(segmenter.Describe()));
        app.MapPost("/predict", service.Handle);
        try
        {
            app.StartAsync().GetAwaiter().GetResult();
        }
        catch (IOException e) when (e.InnerException is System.Net.Sockets.SocketException
            { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse } || e.Message.Contains("address already in use",
            StringComparison.OrdinalIgnoreCase))
        {
            throw new SegSharpException($"Port {s.Port} on {s.Host} is in use by another program; choose another --port.");
        }
        string kind = SegSharp.Foundation.OptionNames<SegSharp.Configuration.ModelKind>.Name(segmenter.Card.Model.Kind);
        Console.WriteLine($"serve: {kind} ({Path.GetFileName(segmenter.Path)}, {segmenter.Card.ClassCount} classes) on " +
            $"http://{s.Host}:{s.Port} — POST /predict, GET /health, GET /model; Ctrl+C or SIGTERM stops it after requests in flight");
        app.WaitForShutdownAsync().GetAwaiter().GetResult();
        Console.WriteLine($"serve: stopped after {service.Answered} requests ({service.Refused} refused as busy, {service.Failed} bad input)");
        return 0;
    }

    /// <summary>POST /predict: the image is the request body; Accept (or ?format=json|png) picks the answer.</summary>
    private sealed class PredictionEndpoint(ImageSegmenter segmenter, SemaphoreSlim gate, TimeSpan timeout, int maxRequestMb)
    {
        private long _answered, _refused, _failed;

        public long Answered => Interlocked.Read(ref _answered);
        public long Refused => Interlocked.Read(ref _refused);
        public long Failed => Interlocked.Read(ref _failed);

        public async Task<IResult> Handle(HttpRequest request)
        {
            // A declared length over the limit is refused before a byte is read (a client sending Expect: 100-continue then
            // uploads nothing); a body that grows past it while being read is refused below.
            if (request.ContentLength > maxRequestMb * 1024L * 1024)
                return Refuse(StatusCodes.Status413PayloadTooLarge, $"the request body is over {maxRequestMb} MB (--max-request-mb)");
            if (!await gate.WaitAsync(0))
            {
                Interlocked.Increment(ref _refused);
                request.HttpContext.Response.Headers.RetryAfter = "1";
                return Results.Text("busy: every prediction slot is taken (--concurrency); retry shortly\n",
                    statusCode: StatusCodes.Status503ServiceUnavailable);
            }
            bool handedOver = false;
            try
            {
                byte[] body;
                try
                {
                    using var buffer = new MemoryStream();
                    await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
                    body = buffer.ToArray();
                }
                catch (Microsoft.AspNetCore.Http.BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
                {
                    return Refuse(StatusCodes.Status413PayloadTooLarge, $"the request body is over {maxRequestMb} MB (--max-request-mb)");
                }
                if (body.Length == 0)
                    return Refuse(StatusCodes.Status400BadRequest, "the request body is empty: send the image's bytes (PNG, JPEG, BMP or TIFF)");
                string name = request.Query["name"].FirstOrDefault() ?? "upload";
                bool json = request.Query["format"] == "json" || (request.Query["format"] != "png"
                    && request.Headers.Accept.Any(a => a?.Contains("application/json", StringComparison.OrdinalIgnoreCase) == true));
                string? className = request.Query["class"].FirstOrDefault();
                var work = Task.Run(() => Answer(body, name, json, className));
                try
                {
                    var (status, result) = await work.WaitAsync(timeout);
                    Interlocked.Increment(ref status == StatusCodes.Status200OK ? ref _answered : ref _failed);
                    return result;
                }
                catch (TimeoutException)
                {
                    // The client is answered now, but the prediction keeps its slot until it ends: the slots bound the work.
                    handedOver = true;
                    _ = work.ContinueWith(_ => gate.Release(), TaskScheduler.Default);
                    return Refuse(StatusCodes.Status503ServiceUnavailable, $"the prediction took longer than {timeout.TotalSeconds:F0} s (--timeout)");
                }
            }
            finally
            {
                // Released before the answer goes out, so a client that sends its next request at once finds the slot free.
                if (!handedOver) gate.Release();
            }
        }

        private (int, IResult) Answer(byte[] body, string name, bool json, string? className)
        {
            try
            {
                var segmentation = segmenter.Segment(body, name);
                if (json)
                {
                    var pixels = segmentation.ClassPixels();
                    double total = (double)segmentation.Height * segmentation.Width;
                    return (StatusCodes.Status200OK, Results.Json(new
                    {
                        width = segmentation.Width, height = segmentation.Height, task = segmentation.MultiLabel ? "multilabel" : "multiclass",
                        classes = segmentation.ClassNames.Select((n, i) => new { name = n, pixels = pixels[i], fraction = pixels[i] / total }),
                    }));
                }
                return (StatusCodes.Status200OK, Results.Bytes(segmenter.MaskPng(segmentation, className), "image/png"));
            }
            catch (SegSharpException e)
            {
                return (StatusCodes.Status400BadRequest, Results.Text(OneLine(e.Message), statusCode: StatusCodes.Status400BadRequest));
            }
        }

        private IResult Refuse(int status, string reason)
        {
            Interlocked.Increment(ref _failed);
            return Results.Text(OneLine(reason), statusCode: status);
        }

        private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim() + "\n";
    }
}
