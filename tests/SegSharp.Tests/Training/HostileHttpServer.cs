using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace SegSharp.Tests.Training;

/// <summary>
/// What a tracking URI may point at besides MLflow (the real server is <see cref="MlflowServer"/>): a proxy's HTML page
/// answered 200, a server failing with 503, one that never answers, one whose reply never ends. HttpListener on a free
/// loopback port; it records each request's Authorization header.
/// </summary>
public sealed class HostileHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Thread _loop;
    private readonly CancellationTokenSource _stop = new();

    public HostileHttpServer(Behaviours behaviour)
    {
        Port = MlflowServer.FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        Behaviour = behaviour;
        _loop = new Thread(Serve) { IsBackground = true };
        _loop.Start();
    }

    public enum Behaviours
    {
        /// <summary>200 with an HTML page, as a login proxy or a web server on the wrong port answers.</summary>
        HtmlPage,

        /// <summary>503 to everything.</summary>
        Unavailable,

        /// <summary>Accepts the request and never answers.</summary>
        Hang,

        /// <summary>200 with a body that does not end (stops after 256 MB, so a client that reads it all is caught).</summary>
        EndlessBody,
    }

    public Behaviours Behaviour { get; }

    public int Port { get; }

    public string Uri => $"http://127.0.0.1:{Port}";

    /// <summary>Bytes of body sent in all.</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    public ConcurrentQueue<string?> Authorizations { get; } = new();

    private long _bytesSent;

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close();
        _loop.Join(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }

    private void Serve()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = _listener.GetContext();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            Authorizations.Enqueue(context.Request.Headers["Authorization"]);
            ThreadPool.QueueUserWorkItem(_ => Answer(context));
        }
    }

    private void Answer(HttpListenerContext context)
    {
        try
        {
            var response = context.Response;
            switch (Behaviour)
            {
                case Behaviours.Hang:
                    _stop.Token.WaitHandle.WaitOne();
                    return;
                case Behaviours.Unavailable:
                    response.StatusCode = 503;
                    Write(response, "{\"error_code\": \"TEMPORARILY_UNAVAILABLE\", \"message\": \"told to fail\"}");
                    break;
                case Behaviours.HtmlPage:
                    response.ContentType = "text/html";
                    Write(response, "<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>\u001b[31mPlease sign in</body></html>");
                    break;
                case Behaviours.EndlessBody:
                    response.SendChunked = true;
                    var chunk = Encoding.ASCII.GetBytes(new string('x', 1 << 16));
                    for (int i = 0; i < 4096 && !_stop.IsCancellationRequested; i++)
                    {
                        response.OutputStream.Write(chunk);
                        Interlocked.Add(ref _bytesSent, chunk.Length);
                    }
                    break;
            }
            response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The client hung up (as it should on an endless reply).
        }
    }

    private void Write(HttpListenerResponse response, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        response.ContentLength64 = bytes.Length;
        response.OutputStream.Write(bytes);
        Interlocked.Add(ref _bytesSent, bytes.Length);
    }
}
